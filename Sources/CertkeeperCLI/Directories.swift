import Foundation

/// Where certkeeper reads config and keeps state: flags, then systemd's environment, then the defaults.
struct Directories {
    var config: String
    var state: String

    static let defaultConfig = "/etc/certkeeper"
    static let defaultState = "/var/lib/certkeeper"

    /// Resolves the directories; under systemd `$CONFIGURATION_DIRECTORY` and `$STATE_DIRECTORY` apply.
    static func resolve(configFlag: String?, stateFlag: String?, environment: [String: String]) -> Directories {
        func firstOf(_ value: String?) -> String? {
            // systemd passes a colon-separated list when several directories are configured.
            value?.split(separator: ":").first.map(String.init)
        }
        return Directories(
            config: configFlag ?? firstOf(environment["CONFIGURATION_DIRECTORY"]) ?? defaultConfig,
            state: stateFlag ?? firstOf(environment["STATE_DIRECTORY"]) ?? defaultState)
    }
}
