import ACMECrypto
import Testing

@testable import CertkeeperConfig

/// Loads strings as CONFIG_DIR "/etc/ck".
private func load(_ main: String?, _ specs: [(String, String)]) -> ConfigLoadResult {
    ConfigLoader(environment: [:]).load(
        mainTOML: main, specs: specs.map { (fileName: $0.0, text: $0.1) }, configDirectory: "/etc/ck")
}

private func positions(_ diagnostics: [ConfigDiagnostic]) -> [String] {
    diagnostics.map { "\($0.file):\($0.line):\($0.column)" }
}

@Suite struct ConfigLoaderTests {
    static let goodMain = """
        [defaults]
        ca = "letsencrypt"
        contact = "ops@example.com"
        key = "ecdsa-p384"
        max_concurrent_orders = 4
        renew_before = "30d"
        hook_timeout = "90s"

        [ca.internal]
        directory = "https://127.0.0.1:14000/dir"
        trust_roots = "/etc/certkeeper/internal-root.pem"
        eab_kid = "kid-1"
        eab_hmac_key_file = "/etc/certkeeper/internal.hmac"

        [account.division-a]
        ca = "google"
        contact = "mailto:a@example.com"
        eab_kid = "gts-kid"
        eab_hmac_key_credential = "gts-eab"
        key = "rsa-2048"
        """

    static let goodSpec = """
        domains = ["Example.com", "www.example.com", "*.example.com"]
        ca = "internal"
        key = "rsa-3072"
        renew_before = 0.33
        reuse_key = true
        profile = "tlsserver"

        [challenge]
        type = "http-01"
        webroot = "/var/www/html"

        [challenge.domains."*.example.com"]
        type = "dns-01"
        provider = "rfc2136"
        server = "127.0.0.1"
        zone = "Example.com."
        tsig_key_name = "certkeeper"
        tsig_algorithm = "HMAC-SHA512."
        tsig_secret_file = "/etc/certkeeper/tsig.key"
        propagation_servers = ["127.0.0.1:5353", "[::1]"]
        propagation_timeout = "0s"

        [install]
        fullchain = "/etc/ssl/example/fullchain.pem"
        key = "/etc/ssl/example/privkey.pem"
        owner = "root"
        group = "ssl-cert"
        mode = "0640"

        [hooks]
        run = [["/usr/local/bin/deploy-cert", "--quiet"]]
        reload_units = ["nginx.service"]
        on_failure = [["/usr/local/bin/alert"]]
        """

    @Test func goodFullConfigParsesToTheExpectedModel() throws {
        let result = load(
            Self.goodMain,
            [
                ("www.toml", Self.goodSpec),
                (
                    "gts.toml",
                    "domains = [\"a.example.org\"]\naccount = \"division-a\"\n[challenge]\ntype = \"tls-alpn-01\"\nlisten = \"[::]:443\"\n"
                ), ("README.md", "not toml"),
            ])
        #expect(result.allDiagnostics == [])
        #expect(!result.hasErrors)
        let config = try #require(result.configuration)
        #expect(
            config.defaults
                == DaemonDefaults(
                    ca: "letsencrypt", contact: "mailto:ops@example.com", keyType: .ecdsaP384, maxConcurrentOrders: 4,
                    renewBefore: .seconds(30 * 86_400), hookTimeoutSeconds: 90))
        let internalCA = CASettings(
            name: "internal", directoryURL: "https://127.0.0.1:14000/dir",
            trustRootsFile: "/etc/certkeeper/internal-root.pem",
            eab: EABSettings(keyID: "kid-1", hmacKey: .file("/etc/certkeeper/internal.hmac")), requiresEAB: true)
        #expect(config.cas["internal"] == internalCA)
        #expect(config.cas["letsencrypt"]?.directoryURL == "https://acme-v02.api.letsencrypt.org/directory")
        #expect(config.cas["google"]?.requiresEAB == true)
        #expect(
            config.accounts["division-a"]
                == AccountSettings(
                    name: "division-a", ca: CAPreset.named("google")!.settings, contact: "mailto:a@example.com",
                    eab: EABSettings(keyID: "gts-kid", hmacKey: .credential("gts-eab")), keyType: .rsa2048,
                    isDefault: false))

        let www = try #require(config.certificates["www"])
        let expected = CertificateSpec(
            name: "www", file: "/etc/ck/certs.d/www.toml",
            domains: ["example.com", "www.example.com", "*.example.com"],
            account: AccountSettings(
                name: "default", ca: internalCA, contact: "mailto:ops@example.com", eab: internalCA.eab, isDefault: true
            ),
            keyType: .rsa3072,
            challenge: ChallengeSpec(
                defaultSolver: .http01Webroot(path: "/var/www/html"),
                perDomain: [
                    "*.example.com": .dns01RFC2136(
                        RFC2136Settings(
                            server: "127.0.0.1:53", zone: "example.com", tsigKeyName: "certkeeper",
                            tsigAlgorithm: .hmacSHA512, tsigSecret: .file("/etc/certkeeper/tsig.key")),
                        PropagationSettings(servers: ["127.0.0.1:5353", "[::1]:53"], timeoutSeconds: 0))
                ]),
            install: InstallSpec(
                fullchain: "/etc/ssl/example/fullchain.pem", key: "/etc/ssl/example/privkey.pem", owner: "root",
                group: "ssl-cert", keyMode: 0o640),
            hooks: HooksSpec(
                run: [["/usr/local/bin/deploy-cert", "--quiet"]], reloadUnits: ["nginx.service"],
                onFailure: [["/usr/local/bin/alert"]], timeoutSeconds: 90),
            renewBefore: .fraction(0.33), reuseKey: true, profile: "tlsserver")
        #expect(www == expected)

        let gts = try #require(config.certificates["gts"])
        #expect(gts.account == config.accounts["division-a"])
        #expect(gts.challenge.defaultSolver == .tlsALPN01(listen: "[::]:443"))
        #expect(gts.keyType == .ecdsaP384)
        #expect(gts.renewBefore == .seconds(30 * 86_400))
        #expect(gts.install.usesDefaultLayout)
        #expect(config.certificates.count == 2)
        #expect(config.accountsInUse.count == 2)
    }

    @Test func threeMistakesGiveExactlyThreeDiagnosticsWithLineAndColumn() throws {
        let spec = """
            domains = ["example.com", "*.example.com"]
            key = "rsa-1024"

            [challenge]
            type = "http-01"
            webroot = "/var/www/html"

            [install]
              ownr = "root"
            """
        let result = load("[defaults]\nca = \"letsencrypt\"\n", [("www.toml", spec)])
        let diagnostics = result.allDiagnostics
        #expect(
            positions(diagnostics) == [
                "/etc/ck/certs.d/www.toml:1:27", "/etc/ck/certs.d/www.toml:2:7", "/etc/ck/certs.d/www.toml:9:3",
            ])
        #expect(diagnostics.count == 3)
        #expect(diagnostics[0].message.contains("'*.example.com' is a wildcard"))
        #expect(diagnostics[0].message.contains("http-01"))
        #expect(diagnostics[1].message.contains("'key'"))
        #expect(diagnostics[1].message.contains("rsa-1024"))
        #expect(diagnostics[1].message.contains("ecdsa-p256 | ecdsa-p384"))
        #expect(diagnostics[2].message == "unknown key 'ownr' in [install]; did you mean 'owner'?")
        #expect(result.specDiagnostics["www"]?.count == 3)
        #expect(result.configuration?.certificates.isEmpty == true)
    }

    @Test func unknownTopLevelKeySuggestsTheClosest() {
        let result = load(
            nil,
            [
                (
                    "www.toml",
                    "ca = \"letsencrypt\"\n[challenge]\ntype = \"dns-01\"\nprovider = \"exec\"\ncommand = [\"/bin/hook\"]\n\n  domian = [\"x.org\"]\n"
                )
            ])
        let messages = result.allDiagnostics.map(\.description)
        #expect(
            messages.contains(
                "/etc/ck/certs.d/www.toml:7:3: unknown key 'domian' in [challenge]; did you mean 'domains'?"))
        let top = load(nil, [("www.toml", "domian = [\"x.org\"]\n")]).allDiagnostics.map(\.description)
        #expect(
            top.contains("/etc/ck/certs.d/www.toml:1:1: unknown key 'domian' in [top level]; did you mean 'domains'?"))
    }

    @Test func tomlSyntaxErrorReportsLineAndColumn() throws {
        let result = load(
            "[defaults]\nca = \"letsencrypt\"\ncontact = \n",
            [("ok.toml", "domains=[\"a.org\"]\n[challenge]\ntype=\"http-01\"\nwebroot=\"/w\"\n")])
        #expect(result.configuration == nil)
        let diagnostic = try #require(result.globalDiagnostics.first)
        #expect(result.globalDiagnostics.count == 1)
        #expect(diagnostic.file == "/etc/ck/certkeeper.toml")
        #expect(diagnostic.line == 3)
        #expect(diagnostic.column >= 10)
        #expect(diagnostic.message.hasPrefix("TOML syntax error: "))

        let spec = load(nil, [("bad.toml", "domains = [\"a.org\"\n[challenge]\n")])
        let specDiagnostic = try #require(spec.specDiagnostics["bad"]?.first)
        #expect(specDiagnostic.file == "/etc/ck/certs.d/bad.toml")
        #expect(specDiagnostic.line == 2)
    }

    /// Found by Fuzz/FuzzConfig in CI: toml++ aborted the process (an assertion) on a `}` where an array expects a
    /// value; `certkeeper check` and a daemon reload died on `domains = [}`.
    @Test func closingBraceInAnArrayIsASyntaxErrorNotACrash() throws {
        for (text, line, column) in [
            ("domains = [}]\n", 1, 12), ("domains = [\"a.org\", }\n", 1, 21),
            ("domains = [\n  # comment }\n  [1, {a = 1}],\n  }\n", 4, 3),
        ] {
            let result = load(nil, [("www.toml", text)])
            let diagnostic = try #require(result.specDiagnostics["www"]?.first)
            #expect(positions([diagnostic]) == ["/etc/ck/certs.d/www.toml:\(line):\(column)"])
            #expect(diagnostic.message == "TOML syntax error: expected a value, ',' or ']' in an array, saw '}'")
        }
        // Braces inside strings and inline tables inside arrays are valid.
        let valid = """
            domains = ["a.org"]
            note = [{ a = "}" }, '}', \"""
            }\"""]
            [challenge]
            type = "http-01"
            webroot = "/w"

            """
        let result = load(nil, [("www.toml", valid)])
        #expect(result.specDiagnostics["www"]?.contains { $0.message.hasPrefix("TOML syntax error") } != true)
    }

    /// Found by Fuzz/FuzzConfig: toml++ aborted the process (an assertion) on a header not starting with a key.
    @Test func tableHeaderWithoutAKeyIsASyntaxErrorNotACrash() throws {
        for (text, line, column) in [
            ("domains = [\"a.org\"]\n[::]:80[challenge]\n", 2, 2), ("[[ @x]]\n", 1, 4), ("a = 1\n[\n", 2, 2),
        ] {
            let result = load(nil, [("www.toml", text)])
            let diagnostic = try #require(result.specDiagnostics["www"]?.first)
            #expect(positions([diagnostic]) == ["/etc/ck/certs.d/www.toml:\(line):\(column)"])
            #expect(diagnostic.message.hasPrefix("TOML syntax error: a table header must start with a key"))
        }
        // A `[` inside strings, comments and multi-line arrays is not a header.
        let valid = #"""
            domains = [
              "a.org", # [: not a header
            ]
            note = '''
            [: literal'''
            other = """
            [@ basic \""""
            [challenge]
            type = "http-01"
            webroot = "/w"

            """#
        let result = load(nil, [("www.toml", valid)])
        #expect(result.specDiagnostics["www"]?.contains { $0.message.hasPrefix("TOML syntax error") } != true)
    }

    @Test func brokenSpecDoesNotStopOthers() throws {
        let good = "domains = [\"a.example.org\"]\n[challenge]\ntype = \"http-01\"\nlisten = \"127.0.0.1:5002\"\n"
        let result = load(
            "[defaults]\nca = \"letsencrypt-staging\"\n",
            [
                ("a.toml", good), ("b.toml", "domains = [\"b.example.org\"]\n"), ("c.toml", "= broken"),
                ("bad name!.toml", good),
            ])
        let config = try #require(result.configuration)
        #expect(Set(config.certificates.keys) == ["a"])
        #expect(config.certificates["a"]?.challenge.defaultSolver == .http01Listen(address: "127.0.0.1:5002"))
        #expect(config.certificates["a"]?.ca.name == "letsencrypt-staging")
        #expect(
            result.specDiagnostics["b"]?.map(\.description) == [
                "/etc/ck/certs.d/b.toml:1:1: missing [challenge] table; add [challenge] with type = \"http-01\" and webroot = \"/var/www/html\" (or dns-01 / tls-alpn-01)"
            ])
        #expect(result.specDiagnostics["c"]?.count == 1)
        #expect(positions(result.specDiagnostics["bad name!"] ?? []) == ["/etc/ck/certs.d/bad name!.toml:1:1"])
        #expect(result.specDiagnostics["bad name!"]?.first?.message.contains("'bad name!.toml'") == true)
        #expect(result.globalDiagnostics.isEmpty)
        #expect(result.hasErrors)
    }

    @Test func defaultAccountContactConflictIsACrossFileError() throws {
        let challenge = "\n[challenge]\ntype = \"http-01\"\nwebroot = \"/w\"\n"
        let result = load(
            "[defaults]\nca = \"letsencrypt\"\ncontact = \"ops@example.com\"\n",
            [
                ("a.toml", "domains = [\"a.org\"]\ncontact = \"dev@example.com\"" + challenge),
                ("b.toml", "domains = [\"b.org\"]" + challenge),
                (
                    "c.toml",
                    "domains = [\"c.org\"]\nca = \"letsencrypt-staging\"\ncontact = \"x@example.com\"" + challenge
                ),
            ])
        let config = try #require(result.configuration)
        #expect(Set(config.certificates.keys) == ["c"])
        #expect(positions(result.globalDiagnostics) == ["/etc/ck/certs.d/a.toml:2:1", "/etc/ck/certs.d/b.toml:1:1"])
        let message = try #require(result.globalDiagnostics.first?.message)
        #expect(message.contains("a (mailto:dev@example.com), b (mailto:ops@example.com)"))
        #expect(message.contains("[account.NAME]"))
        #expect(message.contains("https://acme-v02.api.letsencrypt.org/directory"))
        #expect(result.specDiagnostics.isEmpty)
    }

    @Test func twoAccountsWithOneEABKeyIDAreACrossFileError() throws {
        let challenge = "\n[challenge]\ntype = \"http-01\"\nwebroot = \"/w\"\n"
        // The named account has no EAB of its own, so it falls back to the CA's: the same single-use key id.
        let main = """
            [defaults]
            contact = "ops@example.com"
            [ca.google]
            eab_kid = "kid-1"
            eab_hmac_key_file = "/etc/ck/google.hmac"
            [account.division]
            ca = "google"
            contact = "division@example.com"
            """
        let result = load(
            main,
            [
                ("a.toml", "domains = [\"a.org\"]\nca = \"google\"" + challenge),
                ("b.toml", "domains = [\"b.org\"]\naccount = \"division\"" + challenge),
                ("c.toml", "domains = [\"c.org\"]\nca = \"letsencrypt\"" + challenge),
            ])
        let config = try #require(result.configuration)
        #expect(Set(config.certificates.keys) == ["c"])
        #expect(positions(result.globalDiagnostics) == ["/etc/ck/certs.d/a.toml:1:1", "/etc/ck/certs.d/b.toml:1:1"])
        let message = try #require(result.globalDiagnostics.first?.message)
        #expect(message.contains("'default' (used by a) and 'division' (used by b)"))
        #expect(message.contains("EAB key id 'kid-1'"))
        #expect(message.contains("its own eab_kid"))

        // One account used by several specs is fine.
        let shared = load(
            main,
            [
                ("a.toml", "domains = [\"a.org\"]\nca = \"google\"" + challenge),
                ("d.toml", "domains = [\"d.org\"]\nca = \"google\"" + challenge),
            ])
        #expect(shared.globalDiagnostics.isEmpty)
        #expect(shared.configuration?.certificates.count == 2)
    }

    @Test func eabRequiredCAWithoutContactOrEAB() throws {
        let spec = "domains = [\"a.org\"]\nca = \"google\"\n[challenge]\ntype = \"http-01\"\nwebroot = \"/w\"\n"
        let noEAB = load(nil, [("a.toml", spec)])
        let messages = try #require(noEAB.specDiagnostics["a"]).map(\.description)
        #expect(messages.count == 2)
        #expect(messages.allSatisfy { $0.hasPrefix("/etc/ck/certs.d/a.toml:2:6: CA 'google'") })
        #expect(
            messages.contains {
                $0.contains("External Account Binding") && $0.contains("[ca.google] in /etc/ck/certkeeper.toml")
            })
        #expect(messages.contains { $0.contains("Accounts must have at least one contact.") })

        let withEAB = load("[ca.google]\neab_kid = \"k\"\neab_hmac_key_file = \"/etc/ck/g.hmac\"\n", [("a.toml", spec)])
        #expect(withEAB.allDiagnostics.map(\.message).count == 1)
        #expect(withEAB.allDiagnostics.first?.message.contains("requires a contact") == true)
        #expect(withEAB.configuration?.certificates.isEmpty == true)

        let named = load("[account.gts]\nca = \"google\"\neab_kid = \"k\"\neab_hmac_key_credential = \"gts\"\n", [])
        #expect(named.configuration == nil)
        #expect(positions(named.globalDiagnostics) == ["/etc/ck/certkeeper.toml:1:10"])
        #expect(named.globalDiagnostics.first?.message.contains("requires a contact") == true)

        let ok = load(
            "[defaults]\ncontact = \"ops@example.com\"\n[ca.google]\neab_kid = \"k\"\neab_hmac_key_file = \"/etc/ck/g.hmac\"\n",
            [("a.toml", spec)])
        let account = try #require(ok.configuration?.certificates["a"]?.account)
        #expect(account.eab == EABSettings(keyID: "k", hmacKey: .file("/etc/ck/g.hmac")))
        #expect(account.contact == "mailto:ops@example.com")
        #expect(account.ca.requiresEAB)
    }

    @Test func perDomainOverrideSelectsTheSolver() throws {
        let spec = """
            domains = ["example.com", "*.example.com", "api.example.com"]
            ca = "https://127.0.0.1:14000/dir"
            [challenge]
            type = "tls-alpn-01"
            listen = "0.0.0.0:443"
            [challenge.domains."*.example.com"]
            type = "dns-01"
            provider = "exec"
            command = ["/usr/local/bin/dns-hook", "--zone", "example.com"]
            [challenge.domains."API.example.com"]
            type = "http-01"
            webroot = "/srv/api"
            """
        let result = load(nil, [("x.toml", spec)])
        #expect(result.allDiagnostics == [])
        let challenge = try #require(result.configuration?.certificates["x"]?.challenge)
        #expect(challenge.solver(for: "example.com") == .tlsALPN01(listen: "0.0.0.0:443"))
        #expect(
            challenge.solver(for: "*.example.com")
                == .dns01Exec(command: ["/usr/local/bin/dns-hook", "--zone", "example.com"], PropagationSettings()))
        #expect(challenge.solver(for: "api.example.com") == .http01Webroot(path: "/srv/api"))
        #expect(
            result.configuration?.certificates["x"]?.ca
                == CASettings(name: "https://127.0.0.1:14000/dir", directoryURL: "https://127.0.0.1:14000/dir"))

        let wrong = load(
            nil, [("x.toml", spec.replacingOccurrences(of: "API.example.com\"]", with: "other.example.com\"]"))])
        #expect(positions(wrong.allDiagnostics) == ["/etc/ck/certs.d/x.toml:10:20"])
        #expect(wrong.allDiagnostics.first?.message.contains("'other.example.com', which is not in 'domains'") == true)
    }

    @Test func mainFileErrorsRejectTheWholeConfiguration() {
        let result = load(
            """
            [defaults]
            ca = "buypass"
            max_concurrent_orders = 0
            [ca.corp]
            directory = "http://acme.corp/dir"
            [ca.half]
            directory = "https://acme.half/dir"
            eab_kid = "k"
            """, [("a.toml", "domains = [\"a.org\"]\n[challenge]\ntype = \"http-01\"\nwebroot = \"/w\"\n")])
        #expect(result.configuration == nil)
        #expect(
            positions(result.globalDiagnostics.sorted { $0.line < $1.line }) == [
                "/etc/ck/certkeeper.toml:2:6", "/etc/ck/certkeeper.toml:3:25", "/etc/ck/certkeeper.toml:5:13",
                "/etc/ck/certkeeper.toml:8:1",
            ])
        let messages = result.globalDiagnostics.map(\.message).joined(separator: "\n")
        #expect(messages.contains("Buypass stopped issuing"))
        #expect(messages.contains("must use https://"))
        #expect(messages.contains("eab_hmac_key_file"))
        // Specs are still checked on their own (no CA errors since the main file is unusable).
        #expect(result.specDiagnostics.isEmpty)
    }

    @Test func referencesAndValueChecks() {
        let main = "[defaults]\nca = \"letsencrypt\"\n[account.team]\ncontact = \"t@example.com\"\n"
        let spec = """
            domains = ["a.org", "A.org", "bad_label.org", "*.1.2.3.4"]
            account = "teem"
            [challenge]
            type = "dns-01"
            provider = "rfc2136"
            server = "ns1.example.org:99999"
            tsig_key_name = "k"
            command = ["relative"]
            [install]
            key = "/etc/ssl/k.pem"
            mode = "0644"
            [hooks]
            reload_units = ["nginx"]
            timeout = 60
            """
        let result = load(main, [("a.toml", spec)])
        let found = result.allDiagnostics.map { "\($0.line):\($0.column) \($0.message)" }
        func has(_ prefix: String, _ fragment: String) -> Bool {
            found.contains { $0.hasPrefix(prefix + " ") && $0.contains(fragment) }
        }
        #expect(has("1:21", "listed twice"))
        #expect(has("1:30", "may contain only letters"))
        #expect(has("1:47", "is a wildcard of an IP address"))
        #expect(has("2:11", "account 'teem' is not defined; add [account.teem]"))
        #expect(has("2:11", "did you mean 'team'?"))
        #expect(has("6:10", "'server'"))
        #expect(has("7:1", "needs its secret"))
        #expect(has("8:1", "'command' in [challenge] does not apply to type = \"dns-01\" with provider = \"rfc2136\""))
        #expect(has("10:1", "'key' without 'fullchain'"))
        #expect(has("11:8", "lets every user"))
        #expect(has("13:17", "not a systemd unit name"))
        #expect(has("14:11", "duration string"))
        #expect(found.count == 11, "\(found)")
    }

    @Test func durationAndFractionParsing() {
        #expect(DurationSyntax.seconds(from: "30d") == 2_592_000)
        #expect(DurationSyntax.seconds(from: "12h") == 43_200)
        #expect(DurationSyntax.seconds(from: "90m") == 5_400)
        #expect(DurationSyntax.seconds(from: "45s") == 45)
        #expect(DurationSyntax.seconds(from: "1d12h") == 129_600)
        #expect(DurationSyntax.seconds(from: "1w2d3h4m5s") == 788_645)
        #expect(DurationSyntax.seconds(from: "0s") == 0)
        for bad in ["", "30", "d", "12h1d", "1d1d", "1.5h", "-1s", " 1s", "1s ", "1y", "99999999999999d"] {
            #expect(DurationSyntax.seconds(from: bad) == nil, "\(bad)")
        }
        #expect(DurationSyntax.format(seconds: 129_600) == "1d12h")

        func renewBefore(_ value: String) -> (RenewBefore?, [String]) {
            let result = load("[defaults]\nrenew_before = \(value)\n", [])
            return (result.configuration?.defaults.renewBefore, result.globalDiagnostics.map(\.description))
        }
        #expect(renewBefore("0.33").0 == .fraction(0.33))
        #expect(renewBefore("\"1d12h\"").0 == .seconds(129_600))
        #expect(
            renewBefore("1.0").1 == [
                "/etc/ck/certkeeper.toml:2:16: 'renew_before' in [defaults] is a fraction of the certificate lifetime and must be between 0 and 1 (exclusive), e.g. 0.33; got 1.0"
            ])
        #expect(renewBefore("0.0").1.count == 1)
        #expect(
            renewBefore("30").1.first?.contains(
                "must be a duration string like \"30d\" or a fraction like 0.33, not an integer") == true)
        #expect(renewBefore("\"0s\"").1.first?.contains("longer than 0s") == true)
        #expect(renewBefore("\"30 days\"").1.first?.contains("is not a duration") == true)
    }

    @Test func modeParsing() {
        #expect(FileModeSyntax.parse("0640") == 0o640)
        #expect(FileModeSyntax.parse("640") == 0o640)
        #expect(FileModeSyntax.parse("0o600") == 0o600)
        #expect(FileModeSyntax.parse("4750") == 0o4750)
        for bad in ["", "64", "0648", "12345", "rw-r-----", "0x640", "-640"] {
            #expect(FileModeSyntax.parse(bad) == nil, "\(bad)")
        }
        #expect(FileModeSyntax.format(0o40) == "0040")

        func mode(_ value: String) -> (UInt16?, [String]) {
            let spec =
                "domains = [\"a.org\"]\nca = \"letsencrypt\"\n[challenge]\ntype = \"http-01\"\nwebroot = \"/w\"\n[install]\nmode = \(value)\n"
            let result = load(nil, [("a.toml", spec)])
            return (result.configuration?.certificates["a"]?.install.keyMode, result.allDiagnostics.map(\.message))
        }
        #expect(mode("\"0600\"").0 == 0o600)
        #expect(mode("\"0640\"").0 == 0o640)
        #expect(
            mode("\"0644\"").1 == [
                "'mode' in [install] is 0644, which lets every user on the host access the private key; drop the 'other' bits, e.g. \"0640\""
            ])
        #expect(mode("\"0601\"").1.count == 1)
        #expect(mode("0o640").1 == ["'mode' in [install] must be an octal string like \"0640\", not an integer"])
        #expect(mode("\"u=rw\"").1.first?.contains("not an octal file mode") == true)
    }

    @Test func formatDiagnosticsPrintsOnePerLine() {
        let text = formatDiagnostics([
            ConfigDiagnostic(file: "/etc/ck/certs.d/a.toml", line: 4, column: 1, message: "one"),
            ConfigDiagnostic(file: "/etc/ck/certkeeper.toml", line: 1, column: 2, message: "two"),
        ])
        #expect(text == "/etc/ck/certs.d/a.toml:4:1: one\n/etc/ck/certkeeper.toml:1:2: two")
    }

    @Test func secretsNeverAppearAndFilesAreNeverRead() {
        // A credential name that is not a valid name is reported by name, but EAB kid values are not echoed in errors.
        let result = load(
            "[ca.x]\ndirectory = \"https://x.example/dir\"\neab_hmac_key_file = \"relative/secret\"\n", [])
        let messages = result.globalDiagnostics.map(\.message)
        #expect(messages.contains { $0.contains("must be an absolute path") })
        let noKid = load("[ca.x]\ndirectory = \"https://x.example/dir\"\neab_hmac_key_file = \"/etc/ck/x.hmac\"\n", [])
        #expect(
            noKid.globalDiagnostics.map(\.description) == [
                "/etc/ck/certkeeper.toml:3:1: [ca.x] sets 'eab_hmac_key_file' without 'eab_kid'; add the EAB key ID as eab_kid = \"...\""
            ])
    }
}
