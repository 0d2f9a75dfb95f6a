import CertkeeperConfig
import DaemonControl
import Renewal
import Testing

/// Reload semantics: a broken spec keeps its last good version, a broken certkeeper.toml keeps everything.
@Suite struct ConfigMergeTests {
    static let main = """
        [defaults]
        ca = "https://127.0.0.1:14000/dir"
        contact = "ops@example.com"
        """

    static func spec(_ domain: String, key: String = "ecdsa-p256") -> String {
        "domains = [\"\(domain)\"]\nkey = \"\(key)\"\n[challenge]\ntype = \"http-01\"\nlisten = \"127.0.0.1:5002\"\n"
    }

    static func load(_ main: String?, _ specs: [(String, String)]) -> ConfigLoadResult {
        ConfigLoader(environment: [:]).load(
            mainTOML: main, specs: specs.map { (fileName: $0.0, text: $0.1) }, configDirectory: "/etc/ck")
    }

    let first = load(main, [("a.toml", spec("a.test")), ("b.toml", spec("b.test")), ("c.toml", spec("c.test"))])
        .configuration!

    @Test func addedRemovedAndChangedSpecsAreReported() throws {
        let result = Self.load(
            Self.main,
            [
                ("a.toml", Self.spec("a.test")), ("b.toml", Self.spec("b.test", key: "rsa-2048")),
                ("d.toml", Self.spec("d.test")),
            ])
        let outcome = try #require(ConfigMerge.merge(previous: first, result: result))
        #expect(!outcome.failed)
        #expect(outcome.added == ["d"])
        #expect(outcome.removed == ["c"])
        #expect(outcome.changed == ["b"])
        #expect(outcome.configuration.certificates["b"]?.keyType == .rsa2048)
        #expect(Set(outcome.configuration.certificates.keys) == ["a", "b", "d"])
    }

    @Test func aBrokenSpecKeepsItsLastGoodVersionAndANewBrokenSpecDoesNotStart() throws {
        let result = Self.load(
            Self.main,
            [
                ("a.toml", Self.spec("a.test")), ("b.toml", "domians = [\"b.test\"]\n"),
                ("c.toml", Self.spec("c.test")), ("e.toml", "domains = 42\n"),
            ])
        let outcome = try #require(ConfigMerge.merge(previous: first, result: result))
        #expect(outcome.failed)
        #expect(outcome.keptLastGood == ["b"])
        #expect(outcome.rejectedNew == ["e"])
        #expect(outcome.configuration.certificates["b"] == first.certificates["b"])
        #expect(outcome.configuration.certificates["e"] == nil)
        #expect(outcome.diagnostics.contains { $0.file == "/etc/ck/certs.d/b.toml" && $0.line == 1 })
        #expect(outcome.removed.isEmpty && outcome.changed.isEmpty)
    }

    @Test func aBrokenMainFileKeepsTheWholePreviousConfiguration() throws {
        let result = Self.load("[defaults]\nca = \n", [("a.toml", Self.spec("a.test"))])
        #expect(result.configuration == nil)
        let outcome = try #require(ConfigMerge.merge(previous: first, result: result))
        #expect(outcome.failed)
        #expect(outcome.configuration == first)
        #expect(outcome.added.isEmpty && outcome.removed.isEmpty && outcome.changed.isEmpty)
        #expect(!outcome.diagnostics.isEmpty)
    }

    @Test func aBrokenMainFileAtStartUpHasNothingToKeep() {
        let result = Self.load("[defaults\n", [])
        #expect(ConfigMerge.merge(previous: nil, result: result) == nil)
    }
}
