import Testing

@testable import CertkeeperConfig

/// CertificateSpec shares its fields between copies: a change to one copy never shows in another, and equality and
/// hashing are those of the fields.
@Suite struct CertificateSpecTests {
    static func spec(_ domains: [String] = ["www.example.com"]) -> CertificateSpec {
        let ca = CASettings(name: "letsencrypt", directoryURL: "https://acme-v02.api.letsencrypt.org/directory")
        return CertificateSpec(
            name: "www", file: "/etc/certkeeper/certs.d/www.toml", domains: domains,
            account: AccountSettings(name: "default", ca: ca, contact: nil, eab: nil, isDefault: true),
            keyType: .ecdsaP256, challenge: ChallengeSpec(defaultSolver: .http01Listen(address: "127.0.0.1:80")))
    }

    @Test func aChangedCopyLeavesTheOriginalAlone() {
        let original = Self.spec()
        var copy = original
        #expect(copy == original)
        copy.domains.append("example.com")
        copy.hooks.reloadUnits = ["nginx.service"]
        copy.install.keyMode = 0o640
        #expect(original.domains == ["www.example.com"])
        #expect(original.hooks.reloadUnits.isEmpty)
        #expect(original.install.keyMode == 0o600)
        #expect(copy.domains == ["www.example.com", "example.com"])
        #expect(copy.hooks.reloadUnits == ["nginx.service"])
        #expect(copy != original)
    }

    @Test func equalFieldsAreEqualAndHashAlike() {
        let a = Self.spec(["a.example.com"])
        let b = Self.spec(["a.example.com"])
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(Set([a, b]).count == 1)
        #expect(a != Self.spec(["b.example.com"]))
    }
}
