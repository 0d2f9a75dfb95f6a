import ACMECrypto

/// Validates one `certs.d/NAME.toml` into a `CertificateSpec`.
struct SpecParser {
    let name: String
    /// The spec file: its directory (one string for every spec of a load) and its name.
    let directory: String
    let fileName: String
    let diagnostics: DiagnosticCollector
    /// Nil when certkeeper.toml itself failed: then CA and account references are not checked.
    let main: MainConfig?

    static let topLevelKeys = [
        "domains", "ca", "account", "contact", "key", "renew_before", "reuse_key", "profile", "preferred_chain",
        "challenge", "install", "hooks",
    ]
    static let installKeys = ["fullchain", "key", "cert", "chain", "owner", "group", "mode"]
    static let hooksKeys = ["run", "reload_units", "on_failure", "timeout"]

    /// A spec and where its `contact` is (line 1 when inherited), for the cross-file contact check.
    struct Parsed {
        var spec: CertificateSpec
        var contactPosition: SourcePosition
    }

    func parse(_ root: ConfigNode) -> Parsed? {
        let top = TableReader(root, diagnostics: diagnostics)
        top.rejectUnknownKeys(known: Self.topLevelKeys) { key in
            SolverParser.solverKeys.contains(key) && key != "domains"
                ? "'\(key)' belongs in the [challenge] table" : nil
        }
        let domains = parseDomains(top)
        let specContact = top.contact("contact")
        let keyType = top.keyType("key")
        let renewBefore = top.renewBefore("renew_before")
        let reuseKey = top.boolean("reuse_key")?.value ?? false
        var profile: String?
        if let (text, node) = top.string("profile") {
            if text.isEmpty || text.contains(where: \.isWhitespace) {
                diagnostics.error(
                    "'profile' in [top level] must be a profile name like \"tlsserver\" (see the CA's directory meta.profiles); got '\(text)'",
                    atValueOf: node)
            }
            profile = text
        }
        var preferredChain: String?
        if let (text, node) = top.string("preferred_chain") {
            if text.trimmingCharacters(in: .whitespaces).isEmpty || text.count > 256
                || text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            {
                diagnostics.error(
                    "'preferred_chain' in [top level] must be the Common Name of the root the chain should lead to, e.g. \"ISRG Root X1\"; got '\(text)'",
                    atValueOf: node)
            }
            preferredChain = text
        }
        let challenge = parseChallenge(top, domains: domains ?? [])
        let install = top.table("install").flatMap(parseInstall) ?? (top.has("install") ? nil : InstallSpec())
        let hooks = parseHooks(top.table("hooks"))
        let account = resolveAccount(top, specContact: specContact)
        guard !diagnostics.hasErrors, let domains, let challenge, let install, let hooks, let account else {
            return nil
        }
        let spec = CertificateSpec(
            name: name, directory: directory, fileName: fileName, domains: domains.map(\.0), account: account,
            keyType: keyType ?? main?.defaults.keyType ?? .ecdsaP256, challenge: challenge, install: install,
            hooks: hooks,
            renewBefore: renewBefore ?? main?.defaults.renewBefore, reuseKey: reuseKey, profile: profile,
            preferredChain: preferredChain)
        return Parsed(spec: spec, contactPosition: top["contact"]?.keyPosition ?? .start)
    }

    private func parseDomains(_ top: TableReader) -> [(String, ConfigNode)]? {
        guard let (entries, node) = top.stringArray("domains") else {
            if !top.has("domains") {
                diagnostics.error(
                    "missing 'domains' in [top level]; add domains = [\"example.com\", \"www.example.com\"]", at: .start
                )
            }
            return nil
        }
        guard !entries.isEmpty else {
            diagnostics.error("'domains' in [top level] is empty; list at least one name", atValueOf: node)
            return nil
        }
        var seen = Set<String>()
        var out: [(String, ConfigNode)] = []
        for (text, entry) in entries {
            if let address = IPAddressText.canonical(text) {
                // An IP address identifier (RFC 8738), in canonical form ("::1", not "0:0:0:0:0:0:0:1").
                if !seen.insert(address).inserted {
                    diagnostics.error(
                        "'domains' entry '\(text)' is listed twice (as \(address)); remove the duplicate",
                        atValueOf: entry)
                }
                out.append((address, entry))
                continue
            }
            let domain = text.lowercased()
            let base = domain.hasPrefix("*.") ? String(domain.dropFirst(2)) : domain
            if IPAddressText.isAddress(base) {
                diagnostics.error(
                    "'domains' entry '\(text)' is a wildcard of an IP address; list the address itself",
                    atValueOf: entry)
            } else if let problem = NameSyntax.dnsNameProblem(base) {
                diagnostics.error("'domains' entry '\(text)' is not a valid DNS name: \(problem)", atValueOf: entry)
            } else if !seen.insert(domain).inserted {
                diagnostics.error("'domains' entry '\(text)' is listed twice; remove the duplicate", atValueOf: entry)
            }
            out.append((domain, entry))
        }
        return out
    }

    private func parseChallenge(_ top: TableReader, domains: [(String, ConfigNode)]) -> ChallengeSpec? {
        guard let table = top.table("challenge") else {
            if !top.has("challenge") {
                diagnostics.error(
                    "missing [challenge] table; add [challenge] with type = \"http-01\" and webroot = \"/var/www/html\" (or dns-01 / tls-alpn-01)",
                    at: .start)
            }
            return nil
        }
        let solvers = SolverParser(diagnostics: diagnostics)
        let before = diagnostics.diagnostics.count
        let defaultSolver = solvers.parse(table, allowDomains: true)
        var perDomain: [String: SolverSpec] = [:]
        var failedOverrides = Set<String>()
        if let overrides = table.table("domains") {
            for (domain, node) in overrides.node.entries ?? [] {
                let lowered = IPAddressText.canonical(domain) ?? domain.lowercased()
                guard case .table = node.value else {
                    diagnostics.error(
                        "'\(domain)' in \(overrides.displayName) must be a table like [challenge.domains.\"\(domain)\"] with type = \"dns-01\", not \(node.typeDescription)",
                        atValueOf: node)
                    failedOverrides.insert(lowered)
                    continue
                }
                let reader = TableReader(node, diagnostics: diagnostics)
                if !domains.contains(where: { $0.0 == lowered }) {
                    diagnostics.error(
                        "\(reader.displayName) is for '\(domain)', which is not in 'domains'; add it there or remove this table",
                        atKeyOf: node)
                }
                if let solver = solvers.parse(reader, allowDomains: false) {
                    perDomain[lowered] = solver
                } else {
                    failedOverrides.insert(lowered)
                }
            }
        }
        // Wildcards need dns-01; check every wildcard whose solver is known, even if other parts have errors.
        for (domain, entry) in domains where domain.hasPrefix("*.") && !failedOverrides.contains(domain) {
            guard let solver = perDomain[domain] ?? defaultSolver else { continue }
            if solver.challengeType != "dns-01" {
                diagnostics.error(
                    "'domains' entry '\(domain)' is a wildcard, which only dns-01 can validate, but its challenge type is \(solver.challengeType); add [challenge.domains.\"\(domain)\"] with type = \"dns-01\", or use dns-01 in [challenge]",
                    atValueOf: entry)
            }
        }
        // IP addresses (RFC 8738) are validated by http-01 or tls-alpn-01 only.
        for (domain, entry) in domains where IPAddressText.isAddress(domain) && !failedOverrides.contains(domain) {
            guard let solver = perDomain[domain] ?? defaultSolver, solver.challengeType == "dns-01" else { continue }
            diagnostics.error(
                "'domains' entry '\(domain)' is an IP address, which dns-01 cannot validate (RFC 8738); add [challenge.domains.\"\(domain)\"] with type = \"http-01\" or \"tls-alpn-01\"",
                atValueOf: entry)
        }
        guard let defaultSolver, diagnostics.diagnostics.count == before else { return nil }
        return ChallengeSpec(defaultSolver: defaultSolver, perDomain: perDomain)
    }

    private func parseInstall(_ table: TableReader) -> InstallSpec? {
        let before = diagnostics.diagnostics.count
        table.rejectUnknownKeys(known: Self.installKeys)
        var install = InstallSpec()
        install.fullchain = table.absolutePath("fullchain")
        install.key = table.absolutePath("key")
        install.cert = table.absolutePath("cert")
        install.chain = table.absolutePath("chain")
        switch (table["fullchain"], table["key"]) {
        case (let fullchain?, nil):
            diagnostics.error(
                "[install] sets 'fullchain' without 'key'; give both (or neither, for the default layout under STATE_DIR/live/\(name)/)",
                atKeyOf: fullchain)
        case (nil, let key?):
            diagnostics.error(
                "[install] sets 'key' without 'fullchain'; give both (or neither, for the default layout under STATE_DIR/live/\(name)/)",
                atKeyOf: key)
        default: break
        }
        var seenPaths: [String: String] = [:]
        for key in ["fullchain", "key", "cert", "chain"] {
            guard let (path, node) = table.string(key), path.hasPrefix("/") else { continue }
            if let other = seenPaths[path] {
                diagnostics.error(
                    "'\(key)' in [install] is the same path as '\(other)' (\(path)); each file needs its own path",
                    atValueOf: node)
            }
            seenPaths[path] = key
        }
        for key in ["owner", "group"] {
            guard let (text, node) = table.string(key) else { continue }
            if NameSyntax.isValidOwner(text) {
                if key == "owner" { install.owner = text } else { install.group = text }
            } else {
                diagnostics.error(
                    "'\(key)' in [install] must be a \(key == "owner" ? "user" : "group") name or numeric id; got '\(text)'",
                    atValueOf: node)
            }
        }
        if let node = table["mode"] {
            if case .string(let text) = node.value {
                if let mode = FileModeSyntax.parse(text) {
                    if mode > FileModeSyntax.maximumKeyMode {
                        diagnostics.error(
                            "'mode' in [install] is \(FileModeSyntax.format(mode)), which sets the setuid, setgid or sticky bit; a key file needs none of them: use permission bits only, e.g. \"\(FileModeSyntax.format(mode & FileModeSyntax.maximumKeyMode & ~0o007))\"",
                            atValueOf: node)
                    } else if mode & 0o007 != 0 {
                        diagnostics.error(
                            "'mode' in [install] is \(FileModeSyntax.format(mode)), which lets every user on the host access the private key; drop the 'other' bits, e.g. \"\(FileModeSyntax.format(mode & ~0o007))\"",
                            atValueOf: node)
                    } else {
                        install.keyMode = mode
                    }
                } else {
                    diagnostics.error(
                        "'mode' in [install] is not an octal file mode: '\(text)'; write e.g. \"0640\"", atValueOf: node
                    )
                }
            } else {
                diagnostics.error(
                    "'mode' in [install] must be an octal string like \"0640\", not \(node.typeDescription)",
                    atValueOf: node)
            }
        }
        return diagnostics.diagnostics.count == before ? install : nil
    }

    private func parseHooks(_ table: TableReader?) -> HooksSpec? {
        var hooks = HooksSpec(timeoutSeconds: main?.defaults.hookTimeoutSeconds ?? 60)
        guard let table else { return hooks }
        let before = diagnostics.diagnostics.count
        table.rejectUnknownKeys(known: Self.hooksKeys)
        hooks.run = table.commandList("run") ?? []
        hooks.onFailure = table.commandList("on_failure") ?? []
        if let (units, _) = table.stringArray("reload_units") {
            for (unit, node) in units {
                if NameSyntax.isValidUnitName(unit) {
                    hooks.reloadUnits.append(unit)
                } else {
                    diagnostics.error(
                        "'reload_units' in [hooks]: '\(unit)' is not a systemd unit name; write the full name with its suffix, e.g. \"nginx.service\"",
                        atValueOf: node)
                }
            }
        }
        if let timeout = table.duration("timeout", allowZero: false, maximum: DurationLimits.hookTimeout) {
            hooks.timeoutSeconds = timeout
        }
        return diagnostics.diagnostics.count == before ? hooks : nil
    }

    /// The named account, or the CA's default account; checks EAB and contact requirements.
    private func resolveAccount(_ top: TableReader, specContact: String?) -> AccountSettings? {
        let accountName = top.name("account", what: "account")
        let caEntry = top.string("ca")
        guard let main else { return nil }
        let before = diagnostics.diagnostics.count
        var ca: CASettings?
        if let (reference, node) = caEntry {
            switch main.resolveCA(reference) {
            case .success(let resolved): ca = resolved
            case .failure(let problem): diagnostics.error("'ca' in [top level]: \(problem.message)", atValueOf: node)
            }
        }
        if let accountName, let accountNode = top["account"] {
            guard let account = main.accounts[accountName] else {
                var message = "account '\(accountName)' is not defined; add [account.\(accountName)] to \(main.file)"
                if let suggestion = Suggestion.closest(to: accountName, in: main.accounts.keys.sorted()) {
                    message += ", or did you mean '\(suggestion)'?"
                }
                diagnostics.error(message, atValueOf: accountNode)
                return nil
            }
            if let ca, let caNode = top["ca"], ca.directoryURL != account.ca.directoryURL {
                diagnostics.error(
                    "'ca' is '\(ca.name)' but account '\(accountName)' belongs to CA '\(account.ca.name)'; remove 'ca' or pick an account of that CA",
                    atValueOf: caNode)
            }
            if let specContact, let contactNode = top["contact"], specContact != account.contact {
                diagnostics.error(
                    "'contact' (\(specContact)) differs from account '\(accountName)' (\(account.contact ?? "no contact")); the account's contact applies, so remove 'contact' here or change it in [account.\(accountName)]",
                    atKeyOf: contactNode)
            }
            return diagnostics.diagnostics.count == before ? account : nil
        }
        guard diagnostics.diagnostics.count == before else { return nil }
        guard let resolved = ca ?? main.defaultCA else {
            if main.defaults.ca == nil {
                diagnostics.error(
                    "no CA for this certificate; set ca = \"letsencrypt\" (or another preset, [ca.NAME] or https:// URL) here, use account = \"NAME\", or set ca in [defaults] of \(main.file)",
                    at: .start)
            }
            return nil
        }
        let position = top["ca"]?.valuePosition ?? .start
        let from = top.has("ca") ? "" : " (from [defaults] ca in \(main.file))"
        let account = AccountSettings(
            name: "default", ca: resolved, contact: specContact ?? main.defaults.contact, eab: resolved.eab,
            isDefault: true)
        if resolved.requiresEAB && resolved.eab == nil {
            diagnostics.error(
                "CA '\(resolved.name)'\(from) requires External Account Binding; \(main.eabHint(for: resolved)), or use account = \"NAME\" with its own EAB",
                at: position)
        }
        if resolved.requiresEAB && account.contact == nil {
            diagnostics.error(
                "CA '\(resolved.name)'\(from) requires a contact for new accounts (it answers \"Accounts must have at least one contact.\"); set contact = \"ops@example.com\" here or in [defaults] of \(main.file)",
                at: position)
        }
        return diagnostics.diagnostics.count == before ? account : nil
    }
}
