/// The cross-file rule: specs that share a CA's default account must agree on its contact.
enum DefaultAccountConflicts {
    /// One diagnostic per conflicting spec (at its `contact` key, or line 1), and the names of those specs.
    static func find(in specs: [SpecParser.Parsed], mainFile: String) -> (
        diagnostics: [ConfigDiagnostic], specNames: Set<String>
    ) {
        var groups: [String: [SpecParser.Parsed]] = [:]
        for parsed in specs where parsed.spec.account.isDefault {
            groups[parsed.spec.account.ca.directoryURL, default: []].append(parsed)
        }
        var diagnostics: [ConfigDiagnostic] = []
        var names = Set<String>()
        for (directory, group) in groups.sorted(by: { $0.key < $1.key }) {
            let contacts = Set(group.map { $0.spec.account.contact ?? "" })
            guard contacts.count > 1 else { continue }
            let members = group.sorted { $0.spec.name < $1.spec.name }
            let listing = members.map { "\($0.spec.name) (\($0.spec.account.contact ?? "no contact"))" }.joined(
                separator: ", ")
            let caName =
                members[0].spec.ca.name == directory ? directory : "'\(members[0].spec.ca.name)' (\(directory))"
            let message =
                "certificates sharing the default account of CA \(caName) have different contacts: \(listing); one ACME account has one contact, so give them the same contact, or define named accounts with [account.NAME] in \(mainFile) and set account = \"NAME\" in each spec"
            for member in members {
                names.insert(member.spec.name)
                diagnostics.append(
                    ConfigDiagnostic(
                        file: member.spec.file, line: member.contactPosition.line,
                        column: member.contactPosition.column,
                        message: message))
            }
        }
        return (diagnostics, names)
    }
}
