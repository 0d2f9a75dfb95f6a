import CertkeeperConfig
import Synchronization

/// Where the controller reads the configuration from at start and at every reload.
package protocol ConfigurationSource: Sendable {
    /// Reads and checks the whole configuration (certkeeper.toml and every spec).
    func load() -> ConfigLoadResult
}

/// The configuration directory on disk: `certkeeper.toml` and `certs.d/*.toml`.
///
/// Every load reads every file, and parses only the spec files whose text (or certkeeper.toml) changed since the
/// load before (``SpecParseCache``).
package struct DirectoryConfigurationSource: ConfigurationSource {
    package var directory: String
    package let cache = SpecParseCache()

    package init(directory: String) { self.directory = directory }

    package func load() -> ConfigLoadResult { ConfigLoader(cache: cache).load(configDirectory: directory) }
}

/// The configuration as text held in memory: the twin of ``DirectoryConfigurationSource`` for tests and tools.
package final class MemoryConfigurationSource: ConfigurationSource {
    private let files = Mutex<(main: String?, specs: [String: String])>((nil, [:]))
    private let loads = Mutex(0)
    package let directory: String

    package init(main: String?, specs: [String: String], directory: String = "/etc/certkeeper") {
        files.withLock { $0 = (main, specs) }
        self.directory = directory
    }

    /// Replaces certkeeper.toml (nil: missing).
    package func setMain(_ text: String?) { files.withLock { $0.main = text } }
    /// Writes (or with nil, deletes) `certs.d/NAME.toml`.
    package func setSpec(_ name: String, _ text: String?) { files.withLock { $0.specs[name] = text } }
    /// How many times the configuration was read.
    package var loadCount: Int { loads.withLock { $0 } }

    package func load() -> ConfigLoadResult {
        let (main, specs) = files.withLock { $0 }
        loads.withLock { $0 += 1 }
        return ConfigLoader(environment: [:]).load(
            mainTOML: main,
            specs: specs.sorted { $0.key < $1.key }.map { (fileName: "\($0.key).toml", text: $0.value) },
            configDirectory: directory)
    }
}
