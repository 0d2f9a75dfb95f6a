import Foundation
import Testing

@testable import CertkeeperConfig

/// A reload parses only the spec files that changed, and answers exactly what a full parse answers.
@Suite struct SpecParseCacheTests {
    static let main = """
        [defaults]
        ca = "letsencrypt"
        contact = "ops@example.com"
        """

    static func spec(_ domain: String) -> String {
        """
        domains = ["\(domain)"]

        [challenge]
        type = "http-01"
        webroot = "/var/www/html"
        """
    }

    /// Loads through `cache` and, for comparison, without one.
    static func load(_ main: String?, _ specs: [String: String], cache: SpecParseCache) -> (
        cached: ConfigLoadResult, fresh: ConfigLoadResult
    ) {
        let files = specs.sorted { $0.key < $1.key }.map { (fileName: $0.key, text: $0.value) }
        return (
            ConfigLoader(environment: [:], cache: cache).load(mainTOML: main, specs: files, configDirectory: "/etc/ck"),
            ConfigLoader(environment: [:]).load(mainTOML: main, specs: files, configDirectory: "/etc/ck")
        )
    }

    @Test func unchangedFilesAreNotParsedAgainAndGiveTheSameResult() {
        let cache = SpecParseCache()
        let specs = [
            "a.toml": Self.spec("a.example.com"), "b.toml": Self.spec("b.example.com"),
            "broken.toml": "domains = [\"c.example.com\"\n",
        ]
        let first = Self.load(Self.main, specs, cache: cache)
        #expect(cache.parses == 3)
        #expect(cache.hits == 0)
        let second = Self.load(Self.main, specs, cache: cache)
        #expect(cache.parses == 3, "nothing changed, nothing parsed")
        #expect(cache.hits == 3)
        #expect(second.cached.configuration == first.fresh.configuration)
        #expect(second.cached.configuration?.certificates.count == 2)
        // The broken file's diagnostics are reported again, with their positions, at every load.
        #expect(second.cached.specDiagnostics == second.fresh.specDiagnostics)
        #expect(second.cached.specDiagnostics["broken"]?.first?.file == "/etc/ck/certs.d/broken.toml")
    }

    @Test func anEditedFileIsParsedAgain() throws {
        let cache = SpecParseCache()
        var specs = ["a.toml": Self.spec("a.example.com"), "b.toml": Self.spec("b.example.com")]
        _ = Self.load(Self.main, specs, cache: cache)
        specs["b.toml"] = Self.spec("new.example.com")
        let edited = Self.load(Self.main, specs, cache: cache)
        #expect(cache.parses == 3)
        #expect(cache.hits == 1)
        #expect(try #require(edited.cached.configuration?.certificates["b"]).domains == ["new.example.com"])
        #expect(edited.cached.configuration == edited.fresh.configuration)
        // Broken by an edit: the cached good version is not served.
        specs["a.toml"] = "domains = 5\n"
        let broken = Self.load(Self.main, specs, cache: cache)
        #expect(broken.cached.configuration?.certificates["a"] == nil)
        #expect(broken.cached.specDiagnostics == broken.fresh.specDiagnostics)
        #expect(broken.cached.specDiagnostics["a"]?.isEmpty == false)
    }

    @Test func aChangedMainFileParsesEverySpecAgain() throws {
        let cache = SpecParseCache()
        let specs = ["a.toml": Self.spec("a.example.com"), "b.toml": Self.spec("b.example.com")]
        let before = Self.load(Self.main, specs, cache: cache)
        #expect(try #require(before.cached.configuration?.certificates["a"]).ca.name == "letsencrypt")
        let otherDefaults = Self.main.replacingOccurrences(of: "letsencrypt", with: "letsencrypt-staging")
        let after = Self.load(otherDefaults, specs, cache: cache)
        #expect(cache.parses == 4)
        #expect(cache.hits == 0)
        #expect(try #require(after.cached.configuration?.certificates["a"]).ca.name == "letsencrypt-staging")
        #expect(after.cached.configuration == after.fresh.configuration)
    }

    @Test func aRemovedFileIsForgotten() {
        let cache = SpecParseCache()
        var specs = ["a.toml": Self.spec("a.example.com"), "b.toml": Self.spec("b.example.com")]
        _ = Self.load(Self.main, specs, cache: cache)
        #expect(cache.count == 2)
        specs["b.toml"] = nil
        let after = Self.load(Self.main, specs, cache: cache)
        #expect(cache.count == 1)
        #expect(after.cached.configuration?.certificates.keys.sorted() == ["a"])
        // Put back unchanged: parsed again, not served from a stale entry.
        specs["b.toml"] = Self.spec("b.example.com")
        _ = Self.load(Self.main, specs, cache: cache)
        #expect(cache.parses == 3)
    }
}
