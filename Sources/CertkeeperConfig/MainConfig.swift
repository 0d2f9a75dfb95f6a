/// certkeeper.toml after validation: defaults, declared CAs and named accounts.
struct MainConfig {
    /// `CONFIG_DIR/certkeeper.toml`, for messages that send the user there.
    var file: String
    var defaults = DaemonDefaults()
    /// `[store]`: files (the default) or PostgreSQL.
    var store = StoreSettings.files
    /// `[ca.NAME]` tables, by name.
    var cas: [String: CASettings] = [:]
    /// `[account.NAME]` tables, by name.
    var accounts: [String: AccountSettings] = [:]
    /// `defaults.ca`, resolved.
    var defaultCA: CASettings?

    struct ResolutionProblem: Error {
        var message: String
    }

    /// Resolves `ca = "..."`: a `[ca.NAME]` table, a preset, or an https directory URL.
    /// A URL that equals a known CA's directory resolves to that CA (so its EAB settings apply).
    /// The CA carries its effective proxy: its own `proxy`, else `[defaults] proxy`.
    func resolveCA(_ reference: String) -> Result<CASettings, ResolutionProblem> {
        resolveDeclaredCA(reference).map { settings in
            var settings = settings
            if settings.proxy == nil { settings.proxy = defaults.proxy }
            return settings
        }
    }

    private func resolveDeclaredCA(_ reference: String) -> Result<CASettings, ResolutionProblem> {
        if let declared = cas[reference] { return .success(declared) }
        if let preset = CAPreset.named(reference) { return .success(preset.settings) }
        if reference.contains("://") {
            if let problem = NameSyntax.directoryURLProblem(reference) {
                return .failure(ResolutionProblem(message: problem))
            }
            if let declared = cas.values.sorted(by: { $0.name < $1.name }).first(where: { $0.directoryURL == reference }
            ) {
                return .success(declared)
            }
            if let preset = CAPreset.all.first(where: { $0.directoryURL == reference }) {
                var settings = preset.settings
                settings.name = reference
                return .success(settings)
            }
            return .success(CASettings(name: reference, directoryURL: reference))
        }
        if let reason = CAPreset.retired[reference.lowercased()] {
            return .failure(ResolutionProblem(message: "CA '\(reference)' is not available: \(reason)"))
        }
        let known = CAPreset.all.map(\.name) + cas.keys.sorted()
        var message = "unknown CA '\(reference)'"
        if let suggestion = Suggestion.closest(to: reference, in: known) {
            message += "; did you mean '\(suggestion)'?"
        }
        message +=
            " Use a preset (\(CAPreset.all.map(\.name).joined(separator: ", "))), a [ca.NAME] table in \(file), or an https:// directory URL"
        return .failure(ResolutionProblem(message: message))
    }

    /// Where to add EAB settings for a CA, for messages.
    func eabHint(for ca: CASettings) -> String {
        let table =
            ca.name.contains("://") ? "a [ca.NAME] table with directory = \"\(ca.directoryURL)\"" : "[ca.\(ca.name)]"
        return
            "add eab_kid = \"...\" and eab_hmac_key_file = \"/etc/certkeeper/\(ca.name.contains("://") ? "NAME" : ca.name).hmac\" (or eab_hmac_key_credential = \"NAME\") to \(table) in \(file)"
    }
}
