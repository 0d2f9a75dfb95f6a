import ACMECrypto
import ACMEModels

/// Holds a CA's order and its authorizations to the names a certificate requested (RFC 8555 §7.1.3, §7.1.4), so
/// nothing is solved, and no DNS record or hook is touched, for a name the spec does not list.
struct RequestedNames {
    /// The spec's `domains`, as written (`*.example.com` for a wildcard).
    var names: [String]
    /// The CA's directory URL, for messages.
    var ca: String

    /// Checks that `order` lists exactly the requested identifiers (DNS names, and IP addresses as `ip` identifiers,
    /// RFC 8738).
    func checkOrder(_ order: Order, url: String) throws {
        let requested = Dictionary(names.map { (Self.key(forName: $0), $0) }, uniquingKeysWith: { first, _ in first })
        let listed = order.identifiers.map { Self.key(for: $0) }
        let unexpected = listed.filter { requested[$0] == nil }
        let missing = requested.filter { !listed.contains($0.key) }.map(\.value).sorted()
        guard unexpected.isEmpty, missing.isEmpty else {
            throw IssueError.orderIdentifiersMismatch(
                url: url, ca: ca, unexpected: unexpected.map { Self.quoted(Self.shown($0)) }, missing: missing)
        }
    }

    /// The requested name `authorization` is for: its identifier, or `*.` plus it when `wildcard` is true.
    func name(for authorization: Authorization, url: String) throws -> String {
        let identifier = authorization.identifier
        let wildcard = authorization.wildcard ?? false
        let candidate = Identifier(
            type: identifier.type, value: wildcard ? "*.\(identifier.value)" : identifier.value)
        let key = Self.key(for: candidate)
        guard !identifier.value.contains("*"), !(wildcard && identifier.type != "dns"),
            let requested = names.first(where: { Self.key(forName: $0) == key })
        else {
            throw IssueError.unrequestedAuthorization(url: url, identifier: Self.quoted(Self.shown(key)), ca: ca)
        }
        return requested
    }

    /// `dns:NAME` (lowercased) or `ip:ADDRESS` (canonical), so a DNS name never stands in for an address.
    static func key(forName name: String) -> String {
        IPAddressText.canonical(name).map { "ip:\($0)" } ?? "dns:\(name.lowercased())"
    }

    /// The same key for a CA's identifier; other types (and malformed addresses) keep their text.
    static func key(for identifier: Identifier) -> String {
        switch identifier.type {
        case "dns": return "dns:\(identifier.value.lowercased())"
        case "ip": return "ip:\(IPAddressText.canonical(identifier.value) ?? identifier.value)"
        default: return "\(identifier.type):\(identifier.value)"
        }
    }

    /// A key as messages show it: DNS names bare, other types with theirs.
    static func shown(_ key: String) -> String {
        key.hasPrefix("dns:") ? String(key.dropFirst(4)) : key
    }

    /// CA-provided text as it may appear in a message.
    static func quoted(_ text: String) -> String {
        UntrustedText.sanitized(text, maxBytes: 256)
    }
}
