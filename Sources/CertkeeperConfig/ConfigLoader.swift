import Crypto
import Foundation

/// Loads and validates `CONFIG_DIR/certkeeper.toml` and `CONFIG_DIR/certs.d/*.toml`.
///
/// Every problem becomes a `ConfigDiagnostic` with file, line and column. A broken spec is left out and the others
/// still load; errors in certkeeper.toml reject the whole configuration. Secret files (EAB HMAC keys, TSIG secrets)
/// are never opened: the loader only records where they are.
package struct ConfigLoader: Sendable {
    /// The process environment. Not consulted for secrets; kept so callers and tests can pass a fixed one.
    package var environment: [String: String]
    /// Results of earlier loads, reused for spec files whose text (and certkeeper.toml) did not change.
    package var cache: SpecParseCache?

    /// The main file's name inside the config directory.
    package static let mainFileName = "certkeeper.toml"
    /// The spec directory's name inside the config directory.
    package static let specDirectoryName = "certs.d"

    package init(environment: [String: String] = ProcessInfo.processInfo.environment, cache: SpecParseCache? = nil) {
        self.environment = environment
        self.cache = cache
    }

    /// Reads the files under `configDirectory` and validates them.
    ///
    /// A missing certkeeper.toml means all defaults; a missing certs.d means no certificates.
    /// Only `certs.d/*.toml` files are read; other names and subdirectories are ignored.
    package func load(configDirectory: String) -> ConfigLoadResult {
        let files = FileManager.default
        var unreadable: [ConfigDiagnostic] = []
        let mainPath = Self.join(configDirectory, Self.mainFileName)
        var mainTOML: String?
        if files.fileExists(atPath: mainPath) {
            if let text = Self.readText(mainPath) {
                mainTOML = text
            } else {
                unreadable.append(
                    ConfigDiagnostic(
                        file: mainPath, line: 1, column: 1,
                        message: "cannot read \(Self.mainFileName) as UTF-8 text; check its permissions and encoding"))
            }
        }
        var specs: [(fileName: String, text: String)] = []
        var unreadableSpecs: [String: [ConfigDiagnostic]] = [:]
        let specDirectory = Self.join(configDirectory, Self.specDirectoryName)
        let names = ((try? files.contentsOfDirectory(atPath: specDirectory)) ?? []).filter { $0.hasSuffix(".toml") }
            .sorted()
        for fileName in names {
            let path = Self.join(specDirectory, fileName)
            var isDirectory: ObjCBool = false
            guard files.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            if let text = Self.readText(path) {
                specs.append((fileName, text))
            } else {
                unreadableSpecs[String(fileName.dropLast(5)), default: []].append(
                    ConfigDiagnostic(
                        file: path, line: 1, column: 1,
                        message: "cannot read \(fileName) as UTF-8 text; check its permissions and encoding"))
            }
        }
        var result = load(mainTOML: mainTOML, specs: specs, configDirectory: configDirectory)
        if !unreadable.isEmpty {
            result.globalDiagnostics += unreadable
            result.configuration = nil
        }
        for (name, diagnostics) in unreadableSpecs { result.specDiagnostics[name, default: []] += diagnostics }
        return result
    }

    /// Validates config text without touching the file system (for tests and `certkeeper check`).
    ///
    /// - Parameters:
    ///   - mainTOML: the text of certkeeper.toml, or nil when there is none.
    ///   - specs: `certs.d` files as (file name, text); names not ending in `.toml` are ignored.
    ///   - configDirectory: used only to name files in diagnostics (`CONFIG_DIR/certs.d/www.toml`).
    package func load(mainTOML: String?, specs: [(fileName: String, text: String)], configDirectory: String)
        -> ConfigLoadResult
    {
        let mainPath = Self.join(configDirectory, Self.mainFileName)
        let mainDiagnostics = DiagnosticCollector(file: mainPath)
        var main: MainConfig? = MainConfig(file: mainPath)
        if let mainTOML {
            switch ConfigNode.parse(mainTOML) {
            case .success(let root):
                main = MainConfigParser(diagnostics: mainDiagnostics).parse(root)
            case .failure(let error):
                mainDiagnostics.error("TOML syntax error: \(error.message)", at: error.position)
            }
            if mainDiagnostics.hasErrors { main = nil }
        }

        var globalDiagnostics = mainDiagnostics.diagnostics
        var specDiagnostics: [String: [ConfigDiagnostic]] = [:]
        var parsed: [String: SpecParser.Parsed] = [:]
        var specDirectory = Self.join(configDirectory, Self.specDirectoryName)
        if let cache { specDirectory = cache.sharedDirectory(specDirectory) }
        // With a cache, only files whose text (or certkeeper.toml) changed since the last load are parsed.
        let mainDigest = cache.flatMap { _ in mainTOML.map(SpecParseCache.digest) }
        var kept: [String: SpecParseCache.Entry] = [:]
        var parsedFiles = 0
        var loaded: [(name: String, fileName: String, textDigest: SHA256Digest?, result: ParsedSpec, cached: Bool)] = []
        for (fileName, text) in specs where fileName.hasSuffix(".toml") {
            let name = String(fileName.dropLast(5))
            let textDigest = cache.map { _ in SpecParseCache.digest(text) }
            if let cache, let textDigest,
                let hit = cache.lookup(fileName, in: specDirectory, textDigest: textDigest, mainDigest: mainDigest)
            {
                loaded.append((name, fileName, textDigest, (hit.spec, hit.diagnostics), true))
            } else {
                let result = parseSpec(
                    name: name, fileName: fileName, text: text, main: main, directory: specDirectory)
                loaded.append((name, fileName, textDigest, result, false))
                parsedFiles += 1
            }
        }
        // Parts many specs say alike (account, challenge, install, hooks) kept once. The cached specs first: they
        // share theirs already (each costs a set lookup) and keep them, so the schedule and the status, which hold
        // the same specs, keep one copy; a new spec takes theirs whatever its file's name.
        var sharing = SpecSharing()
        for index in loaded.indices.sorted(by: { loaded[$0].cached && !loaded[$1].cached }) {
            if let spec = loaded[index].result.spec?.spec { loaded[index].result.spec?.spec = spec.sharing(&sharing) }
        }
        for (name, fileName, textDigest, result, _) in loaded {
            if let textDigest {
                kept[fileName] = SpecParseCache.Entry(
                    textDigest: textDigest, spec: result.spec, diagnostics: result.diagnostics)
            }
            if let spec = result.spec { parsed[name] = spec }
            if !result.diagnostics.isEmpty { specDiagnostics[name, default: []] += result.diagnostics }
        }
        cache?.replace(with: kept, directory: specDirectory, mainDigest: mainDigest, parsed: parsedFiles)

        let conflicts = DefaultAccountConflicts.find(in: Array(parsed.values), mainFile: mainPath)
        globalDiagnostics += conflicts.diagnostics
        for name in conflicts.specNames { parsed[name] = nil }
        let sharedKeys = SharedEABKeyConflicts.find(in: Array(parsed.values), mainFile: mainPath)
        globalDiagnostics += sharedKeys.diagnostics
        for name in sharedKeys.specNames { parsed[name] = nil }

        var configuration: Configuration?
        if let main {
            var cas = main.cas
            for spec in parsed.values where cas[spec.spec.ca.name] == nil && CAPreset.named(spec.spec.ca.name) != nil {
                cas[spec.spec.ca.name] = spec.spec.ca
            }
            if let defaultCA = main.defaultCA, CAPreset.named(defaultCA.name) != nil, cas[defaultCA.name] == nil {
                cas[defaultCA.name] = defaultCA
            }
            for account in main.accounts.values
            where cas[account.ca.name] == nil && CAPreset.named(account.ca.name) != nil {
                cas[account.ca.name] = account.ca
            }
            configuration = Configuration(
                configDirectory: configDirectory, defaults: main.defaults, cas: cas, accounts: main.accounts,
                certificates: parsed.mapValues(\.spec))
            configuration?.store = main.store
        }
        return ConfigLoadResult(
            configuration: configuration, globalDiagnostics: globalDiagnostics, specDiagnostics: specDiagnostics)
    }

    /// A spec file's spec (when it has no errors) and its diagnostics.
    private typealias ParsedSpec = (spec: SpecParser.Parsed?, diagnostics: [ConfigDiagnostic])

    /// Parses and checks one spec file: its spec when it has no errors, and its diagnostics.
    private func parseSpec(
        name: String, fileName: String, text: String, main: MainConfig?, directory: String
    ) -> (spec: SpecParser.Parsed?, diagnostics: [ConfigDiagnostic]) {
        let diagnostics = DiagnosticCollector(file: Self.join(directory, fileName))
        var spec: SpecParser.Parsed?
        if !NameSyntax.isValidName(name) {
            diagnostics.error(
                "spec file '\(fileName)' has an invalid name '\(name)'; rename it using \(NameSyntax.nameRule), ending in .toml",
                at: .start)
        } else {
            switch ConfigNode.parse(text) {
            case .success(let root):
                spec = SpecParser(
                    name: name, directory: directory, fileName: fileName, diagnostics: diagnostics, main: main
                ).parse(root)
            case .failure(let error):
                diagnostics.error("TOML syntax error: \(error.message)", at: error.position)
            }
        }
        return diagnostics.hasErrors ? (nil, diagnostics.diagnostics) : (spec, [])
    }

    static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    private static func readText(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
