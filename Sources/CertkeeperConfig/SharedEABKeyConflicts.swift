/// The cross-file rule for single-use EAB keys: one EAB key id binds one account, so two accounts in use at one CA
/// must not be configured with the same `eab_kid` (a named account without its own EAB falls back to its CA's).
enum SharedEABKeyConflicts {
    /// One diagnostic per spec that uses a conflicting account (at line 1), and the names of those specs.
    static func find(in specs: [SpecParser.Parsed], mainFile: String) -> (
        diagnostics: [ConfigDiagnostic], specNames: Set<String>
    ) {
        // (directory URL, EAB key id) -> account name -> specs using that account
        var bindings: [String: [String: [SpecParser.Parsed]]] = [:]
        for parsed in specs {
            let account = parsed.spec.account
            guard let keyID = account.eab?.keyID else { continue }
            bindings["\(account.ca.directoryURL)\u{0}\(keyID)", default: [:]][account.name, default: []].append(parsed)
        }
        var diagnostics: [ConfigDiagnostic] = []
        var names = Set<String>()
        for (_, accounts) in bindings.sorted(by: { $0.key < $1.key }) where accounts.count > 1 {
            let members = accounts.values.flatMap { $0 }.sorted { $0.spec.name < $1.spec.name }
            let first = members[0].spec.account
            let accountList = accounts.keys.sorted().map { name in
                let users = accounts[name]!.map(\.spec.name).sorted().joined(separator: ", ")
                return "'\(name)' (used by \(users))"
            }.joined(separator: " and ")
            let message =
                "accounts \(accountList) at \(first.ca.directoryURL) are both configured with EAB key id '\(first.eab!.keyID)'; an EAB key binds one account only (single-use at CAs such as Google Trust Services), so give each account in \(mainFile) its own eab_kid and eab_hmac_key_file, or use one account for these certificates"
            for member in members {
                names.insert(member.spec.name)
                diagnostics.append(ConfigDiagnostic(file: member.spec.file, line: 1, column: 1, message: message))
            }
        }
        return (diagnostics, names)
    }
}
