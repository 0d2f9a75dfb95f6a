import Testing

@testable import CertkeeperConfig

/// Out-of-range durations and file modes are `check` errors at FILE:LINE:COLUMN, never traps at run time.
@Suite struct ConfigBoundsTests {
    static func load(main: String? = nil, spec: String) -> [String] {
        let result = ConfigLoader(environment: [:]).load(
            mainTOML: main, specs: [(fileName: "a.toml", text: spec)], configDirectory: "/etc/ck")
        return result.allDiagnostics.map(\.description)
    }

    static func spec(_ extra: String, challenge: String = "type = \"http-01\"\nwebroot = \"/w\"") -> String {
        "domains = [\"a.org\"]\nca = \"letsencrypt\"\n[challenge]\n\(challenge)\n\(extra)\n"
    }

    @Test func hookTimeoutAboveADayIsRejected() {
        let found = Self.load(spec: Self.spec("[hooks]\ntimeout = \"999999999999w\""))
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.hasPrefix("/etc/ck/certs.d/a.toml:7:11: 'timeout' in [hooks]") == true, "\(found)")
        #expect(found.first?.contains("at most 1d") == true, "\(found)")
        #expect(Self.load(spec: Self.spec("[hooks]\ntimeout = \"1d1s\"")).count == 1)
        #expect(Self.load(spec: Self.spec("[hooks]\ntimeout = \"1d\"")).isEmpty)
    }

    @Test func defaultHookTimeoutAboveADayIsRejected() {
        let found = Self.load(main: "[defaults]\nhook_timeout = \"2d\"\n", spec: Self.spec(""))
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.hasPrefix("/etc/ck/certkeeper.toml:2:16: 'hook_timeout'") == true, "\(found)")
        #expect(found.first?.contains("at most 1d") == true, "\(found)")
    }

    @Test func renewBeforeAboveTenYearsIsRejected() {
        let found = Self.load(
            spec: Self.spec("").replacingOccurrences(
                of: "[challenge]", with: "renew_before = \"999999999999d\"\n[challenge]"))
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.hasPrefix("/etc/ck/certs.d/a.toml:3:16: 'renew_before'") == true, "\(found)")
        #expect(found.first?.contains("at most 3650d") == true, "\(found)")
        let main = Self.load(main: "[defaults]\nrenew_before = \"522w\"\n", spec: Self.spec(""))
        #expect(main.count == 1 && main.first?.contains("certkeeper.toml:2:16") == true, "\(main)")
    }

    @Test func propagationTimeoutAboveADayIsRejected() {
        let challenge =
            "type = \"dns-01\"\nprovider = \"exec\"\ncommand = [\"/bin/dns\"]\npropagation_timeout = \"25h\""
        let found = Self.load(spec: Self.spec("", challenge: challenge))
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.hasPrefix("/etc/ck/certs.d/a.toml:7:23: 'propagation_timeout'") == true, "\(found)")
    }

    @Test func setuidSetgidAndStickyModesAreRejected() {
        for mode in ["4640", "2640", "1600", "6750"] {
            let found = Self.load(
                spec: Self.spec(
                    "[install]\nfullchain = \"/etc/ssl/f.pem\"\nkey = \"/etc/ssl/k.pem\"\nmode = \"\(mode)\""))
            #expect(found.count == 1, "\(mode): \(found)")
            #expect(found.first?.hasPrefix("/etc/ck/certs.d/a.toml:9:8: 'mode' in [install]") == true, "\(found)")
            #expect(found.first?.contains("setuid") == true, "\(found)")
        }
        #expect(
            Self.load(
                spec: Self.spec("[install]\nfullchain = \"/etc/ssl/f.pem\"\nkey = \"/etc/ssl/k.pem\"\nmode = \"0640\"")
            ).isEmpty)
    }
}
