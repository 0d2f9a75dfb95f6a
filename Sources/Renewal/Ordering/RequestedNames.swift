import ACMEModels

/// Holds a CA's order and its authorizations to the names a certificate requested (RFC 8555 §7.1.3, §7.1.4), so
/// nothing is solved, and no DNS record or hook is touched, for a name the spec does not list.
struct RequestedNames {
    /// The spec's `domains`, as written (`*.example.com` for a wildcard).
    var names: [String]
    /// The CA's directory URL, for messages.
    var ca: String

    /// Checks that `order` lists exactly the requested DNS identifiers.
    func checkOrder(_ order: Order, url: String) throws {
        let requested = Set(names.map { $0.lowercased() })
        let listed = order.identifiers.map { identifier in
            identifier.type == "dns"
                ? identifier.value.lowercased() : "\(identifier.type):\(identifier.value)"
        }
        let unexpected = listed.filter { !requested.contains($0) }
        let missing = requested.subtracting(listed).sorted()
        guard unexpected.isEmpty, missing.isEmpty else {
            throw IssueError.orderIdentifiersMismatch(
                url: url, ca: ca, unexpected: unexpected.map(Self.quoted), missing: missing)
        }
    }

    /// The requested name `authorization` is for: its identifier, or `*.` plus it when `wildcard` is true.
    func name(for authorization: Authorization, url: String) throws -> String {
        let identifier = authorization.identifier
        let candidate = (authorization.wildcard ?? false) ? "*.\(identifier.value)" : identifier.value
        guard identifier.type == "dns", !identifier.value.contains("*"),
            let requested = names.first(where: { $0.lowercased() == candidate.lowercased() })
        else {
            let shown = identifier.type == "dns" ? candidate : "\(identifier.type):\(candidate)"
            throw IssueError.unrequestedAuthorization(url: url, identifier: Self.quoted(shown), ca: ca)
        }
        return requested
    }

    /// CA-provided text as it may appear in a message.
    static func quoted(_ text: String) -> String {
        UntrustedText.sanitized(text, maxBytes: 256)
    }
}
