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

    /// Specs that say the same account, challenge, install paths or hooks hold one copy of it, parsed now or taken
    /// from the cache; they stay equal to what a fresh parse gives.
    @Test func specsShareThePartsTheySayAlike() throws {
        let cache = SpecParseCache()
        var specs = ["a.toml": Self.spec("a.example.com"), "b.toml": Self.spec("b.example.com")]
        specs["c.toml"] = Self.spec("c.example.com").replacingOccurrences(of: "/var/www/html", with: "/srv/www")
        let first = Self.load(Self.main, specs, cache: cache)
        let certificates = try #require(first.cached.configuration?.certificates)
        let (a, b, c) = (
            try #require(certificates["a"]), try #require(certificates["b"]), try #require(certificates["c"])
        )
        #expect(a.sharedParts(with: b) == ["account", "challenge", "install", "hooks"])
        #expect(a.sharedParts(with: c) == ["account", "install", "hooks"])
        #expect(c.challenge.defaultSolver == .http01Webroot(path: "/srv/www"))
        #expect(a.challenge.defaultSolver == .http01Webroot(path: "/var/www/html"))
        #expect(first.cached.configuration == first.fresh.configuration)
        // A reload adding specs: the new ones share what the cached ones hold, and the cached ones keep theirs
        // (the schedule holds them) even when a new file sorts before them.
        specs["d.toml"] = Self.spec("d.example.com")
        specs["0.toml"] = Self.spec("zero.example.com")
        let second = Self.load(Self.main, specs, cache: cache)
        let d = try #require(second.cached.configuration?.certificates["d"])
        let zero = try #require(second.cached.configuration?.certificates["0"])
        let cachedA = try #require(second.cached.configuration?.certificates["a"])
        #expect(cachedA.sharedParts(with: a) == ["account", "challenge", "install", "hooks"])
        #expect(d.sharedParts(with: cachedA) == ["account", "challenge", "install", "hooks"])
        #expect(zero.sharedParts(with: cachedA) == ["account", "challenge", "install", "hooks"])
        #expect(second.cached.configuration == second.fresh.configuration)
        // Changing a shared part of one spec leaves the others as they were.
        var changed = d
        changed.hooks = HooksSpec(run: [["/bin/true"]])
        #expect(changed.sharedParts(with: cachedA) == ["account", "challenge", "install"])
        #expect(cachedA.hooks == HooksSpec() && d.hooks == HooksSpec())
    }

    /// The specs of a load hold one string for their directory (a path of their own each was 0.9 MB with 10,000
    /// specs); each still names its file in full, and one parsed in another directory is not taken from the cache.
    @Test func specsHoldOneDirectoryAndTheCacheIsForOneDirectory() throws {
        let cache = SpecParseCache()
        let specs = [
            (fileName: "a.toml", text: Self.spec("a.example.com")),
            (fileName: "b.toml", text: Self.spec("b.example.com")),
        ]
        let directory = "/etc/certkeeper-with-a-longer-name"
        let first = ConfigLoader(environment: [:], cache: cache).load(
            mainTOML: Self.main, specs: specs, configDirectory: directory)
        let a = try #require(first.configuration?.certificates["a"])
        let b = try #require(first.configuration?.certificates["b"])
        #expect(a.file == directory + "/certs.d/a.toml")
        #expect(b.file == directory + "/certs.d/b.toml")
        #expect(a.sharesDirectoryStorage(with: b))
        // A reload adding a spec: the new one holds the string the cached ones hold.
        let again = ConfigLoader(environment: [:], cache: cache).load(
            mainTOML: Self.main, specs: specs + [(fileName: "c.toml", text: Self.spec("c.example.com"))],
            configDirectory: directory)
        #expect(cache.hits == 2)
        #expect(try #require(again.configuration?.certificates["b"]).sharesDirectoryStorage(with: a))
        #expect(try #require(again.configuration?.certificates["c"]).sharesDirectoryStorage(with: a))
        let elsewhere = ConfigLoader(environment: [:], cache: cache).load(
            mainTOML: Self.main, specs: specs, configDirectory: "/srv/other-configuration-directory")
        #expect(cache.hits == 2, "another directory's specs are parsed, not taken from the cache")
        #expect(cache.parses == 5)
        #expect(elsewhere.configuration?.certificates["a"]?.file == "/srv/other-configuration-directory/certs.d/a.toml")
    }

    /// A spec made from a path names that path again, wherever its last `/` is.
    @Test func aSpecNamesTheFileItWasMadeWith() {
        let ca = CASettings(name: "letsencrypt", directoryURL: "https://example.com/dir")
        let account = AccountSettings(name: "default", ca: ca, contact: nil, eab: nil, isDefault: true)
        let paths = [
            "/etc/certkeeper/certs.d/a.toml", "/a.toml", "a.toml", "relative/dir/a.toml", "", "a//b.toml", "//a.toml",
            "dir/", "/", "a/b//c.toml",
        ]
        for path in paths {
            var spec = CertificateSpec(
                name: "a", file: path, domains: ["a.example.com"], account: account, keyType: .ecdsaP256,
                challenge: ChallengeSpec(defaultSolver: .http01Webroot(path: "/var/www")))
            #expect(spec.file == path)
            spec.file = path + ".moved"
            #expect(spec.file == path + ".moved")
        }
    }
}
