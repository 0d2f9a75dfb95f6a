/// Validates certkeeper.toml into a `MainConfig`.
struct MainConfigParser {
    let diagnostics: DiagnosticCollector

    static let topLevelKeys = ["defaults", "ca", "account", "store"]
    static let defaultsKeys = [
        "ca", "contact", "key", "max_concurrent_orders", "renew_before", "hook_timeout", "job_timeout",
        "metrics_listen", "metrics_textfile", "proxy",
    ]
    static let caKeys = [
        "directory", "trust_roots", "eab_kid", "eab_hmac_key_file", "eab_hmac_key_credential", "proxy",
    ]
    static let accountKeys = ["ca", "contact", "eab_kid", "eab_hmac_key_file", "eab_hmac_key_credential", "key"]

    func parse(_ root: ConfigNode) -> MainConfig {
        var config = MainConfig(file: diagnostics.file)
        let top = TableReader(root, diagnostics: diagnostics)
        top.rejectUnknownKeys(known: Self.topLevelKeys) { key in
            Self.defaultsKeys.contains(key) ? "'\(key)' belongs in the [defaults] table" : nil
        }
        if let cas = top.table("ca") {
            for (name, node) in cas.node.entries ?? [] {
                if let ca = parseCA(name: name, node: node) { config.cas[name] = ca }
            }
        }
        if let defaults = top.table("defaults") {
            config.defaults = parseDefaults(defaults)
            if let (reference, node) = defaults.string("ca") {
                switch config.resolveCA(reference) {
                case .success(let ca): config.defaultCA = ca
                case .failure(let problem): diagnostics.error("'ca' in [defaults]: \(problem.message)", atValueOf: node)
                }
            }
        }
        if let store = top.table("store") {
            config.store = StoreSettingsParser(diagnostics: diagnostics).parse(store) ?? .files
        }
        if let accounts = top.table("account") {
            for (name, node) in accounts.node.entries ?? [] {
                if let account = parseAccount(name: name, node: node, config: config) {
                    config.accounts[name] = account
                }
            }
        }
        return config
    }

    private func parseDefaults(_ table: TableReader) -> DaemonDefaults {
        table.rejectUnknownKeys(known: Self.defaultsKeys)
        var defaults = DaemonDefaults()
        defaults.ca = table.string("ca")?.value
        defaults.contact = table.contact("contact")
        if let key = table.keyType("key") { defaults.keyType = key }
        if let (count, node) = table.integer("max_concurrent_orders") {
            if (1...256).contains(count) {
                defaults.maxConcurrentOrders = count
            } else {
                diagnostics.error(
                    "'max_concurrent_orders' in [defaults] must be between 1 and 256, not \(count)", atValueOf: node)
            }
        }
        defaults.renewBefore = table.renewBefore("renew_before")
        defaults.proxy = proxy(table)
        if let timeout = table.duration("hook_timeout", allowZero: false, maximum: DurationLimits.hookTimeout) {
            defaults.hookTimeoutSeconds = timeout
        }
        if let timeout = table.duration("job_timeout", allowZero: false, maximum: DurationLimits.jobTimeout) {
            defaults.jobTimeoutSeconds = timeout
        }
        if let (text, node) = table.string("metrics_listen") {
            if let endpoint = Self.listenEndpoint(text) {
                defaults.metricsListen = endpoint
            } else {
                diagnostics.error(
                    "'metrics_listen' in [defaults] must be an IP address and port, e.g. \"127.0.0.1:9712\" or \"[::1]:9712\"; got '\(text)'",
                    atValueOf: node)
            }
        }
        defaults.metricsTextfile = table.absolutePath("metrics_textfile")
        return defaults
    }

    /// `IPv4:PORT` or `[IPv6]:PORT`.
    static func listenEndpoint(_ text: String) -> ListenEndpoint? {
        guard let normalised = NameSyntax.hostPort(text, defaultPort: nil),
            let colon = normalised.lastIndex(of: ":"), let port = Int(normalised[normalised.index(after: colon)...])
        else { return nil }
        var host = String(normalised[..<colon])
        if host.hasPrefix("[") {
            host = String(host.dropFirst().dropLast())
        } else if !NameSyntax.isIPv4(Substring(host)) {
            return nil
        }
        return ListenEndpoint(host: host, port: port)
    }

    private func parseCA(name: String, node: ConfigNode) -> CASettings? {
        guard case .table = node.value else {
            diagnostics.error(
                "'ca.\(name)' must be a table ([ca.\(name)] with directory = \"https://...\"), not \(node.typeDescription)",
                atValueOf: node)
            return nil
        }
        let table = TableReader(node, diagnostics: diagnostics)
        let before = diagnostics.diagnostics.count
        if !NameSyntax.isValidName(name) {
            diagnostics.error(
                "CA name '\(name)' in \(table.displayName) is not valid; use \(NameSyntax.nameRule)", atKeyOf: node)
        }
        table.rejectUnknownKeys(known: Self.caKeys)
        let preset = CAPreset.named(name)
        var directory = preset?.directoryURL
        if let (url, urlNode) = table.string("directory") {
            if let problem = NameSyntax.directoryURLProblem(url) {
                diagnostics.error("'directory' in \(table.displayName): \(problem)", atValueOf: urlNode)
            } else {
                directory = url
            }
        } else if preset == nil {
            var message = "\(table.displayName) needs directory = \"https://...\" (the CA's ACME directory URL)"
            if let reason = CAPreset.retired[name.lowercased()] { message += "; note: \(reason)" }
            diagnostics.error(message, atKeyOf: node)
        }
        let trustRoots = table.absolutePath("trust_roots")
        let (eab, _) = table.eab()
        let proxy = self.proxy(table)
        guard diagnostics.diagnostics.count == before, let directory else { return nil }
        let presetRequiresEAB = CAPreset.all.contains { $0.directoryURL == directory && $0.requiresEAB }
        return CASettings(
            name: name, directoryURL: directory, trustRootsFile: trustRoots, eab: eab,
            requiresEAB: presetRequiresEAB || eab != nil, proxy: proxy)
    }

    /// `proxy = "http://host:port"` in `table`; the value is never quoted back (it may hold a password).
    private func proxy(_ table: TableReader) -> HTTPProxy? {
        guard let (text, node) = table.string("proxy") else { return nil }
        switch HTTPProxy.parse(text) {
        case .success(let proxy): return proxy
        case .failure(let problem):
            diagnostics.error("'proxy' in \(table.displayName) \(problem.message)", atValueOf: node)
            return nil
        }
    }

    private func parseAccount(name: String, node: ConfigNode, config: MainConfig) -> AccountSettings? {
        guard case .table = node.value else {
            diagnostics.error(
                "'account.\(name)' must be a table ([account.\(name)] with ca = \"...\"), not \(node.typeDescription)",
                atValueOf: node)
            return nil
        }
        let table = TableReader(node, diagnostics: diagnostics)
        let before = diagnostics.diagnostics.count
        if !NameSyntax.isValidName(name) {
            diagnostics.error(
                "account name '\(name)' in \(table.displayName) is not valid; use \(NameSyntax.nameRule)", atKeyOf: node
            )
        }
        table.rejectUnknownKeys(known: Self.accountKeys)
        var ca: CASettings?
        if let (reference, caNode) = table.string("ca") {
            switch config.resolveCA(reference) {
            case .success(let resolved): ca = resolved
            case .failure(let problem):
                diagnostics.error("'ca' in \(table.displayName): \(problem.message)", atValueOf: caNode)
            }
        } else if let defaultCA = config.defaultCA {
            ca = defaultCA
        } else if config.defaults.ca == nil {
            diagnostics.error(
                "\(table.displayName) has no CA; add ca = \"letsencrypt\" (a preset, a [ca.NAME] name or an https:// directory URL), or set ca in [defaults]",
                atKeyOf: node)
        }
        let contact = table.contact("contact")
        let keyType = table.keyType("key")
        let (ownEAB, _) = table.eab()
        guard diagnostics.diagnostics.count == before, let ca else { return nil }
        let account = AccountSettings(
            name: name, ca: ca, contact: contact ?? config.defaults.contact, eab: ownEAB ?? ca.eab,
            keyType: keyType ?? .ecdsaP256, isDefault: false)
        if ca.requiresEAB && account.eab == nil {
            diagnostics.error(
                "\(table.displayName) uses CA '\(ca.name)', which requires External Account Binding; add eab_kid = \"...\" and eab_hmac_key_file = \"/etc/certkeeper/\(name).hmac\" (or eab_hmac_key_credential = \"NAME\") to \(table.displayName)",
                atKeyOf: node)
        }
        if ca.requiresEAB && account.contact == nil {
            diagnostics.error(
                "\(table.displayName) uses CA '\(ca.name)', which requires a contact for new accounts (it answers \"Accounts must have at least one contact.\"); add contact = \"ops@example.com\" to \(table.displayName) or to [defaults]",
                atKeyOf: node)
        }
        return diagnostics.diagnostics.count == before ? account : nil
    }
}
