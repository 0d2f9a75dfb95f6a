/// A domain name as a sequence of labels (RFC 1035 §3.1).
///
/// Names compare case-insensitively (ASCII), and ``canonicalWire`` is the lowercase, uncompressed wire form
/// that TSIG (RFC 8945 §4.3.3) requires. Text parsing tolerates a trailing dot: `example.test` and
/// `example.test.` are the same name.
package struct DNSName: Sendable, Hashable, CustomStringConvertible {
    /// The labels, leftmost first, as raw bytes; the root name has none.
    package let labels: [[UInt8]]

    /// The root name `.`.
    package static let root = DNSName(uncheckedLabels: [])

    init(uncheckedLabels: [[UInt8]]) {
        self.labels = uncheckedLabels
    }

    /// Builds a name from raw labels, checking the RFC 1035 limits (label 1...63 bytes, name at most 255 bytes).
    package init(labels: [[UInt8]]) throws {
        for label in labels {
            guard !label.isEmpty else { throw DNSWireError.invalidName(reason: "empty label") }
            guard label.count <= 63 else {
                throw DNSWireError.invalidName(reason: "label of \(label.count) bytes (at most 63)")
            }
        }
        let wireLength = labels.reduce(1) { $0 + 1 + $1.count }
        guard wireLength <= 255 else {
            throw DNSWireError.invalidName(reason: "name of \(wireLength) wire bytes (at most 255)")
        }
        self.labels = labels
    }

    /// Parses presentation form such as `_acme-challenge.example.test` (trailing dot optional, `.` is the root).
    ///
    /// Accepts printable ASCII without whitespace; `\.` escapes and compression are not supported.
    package init(_ text: String) throws {
        var trimmed = Substring(text)
        if trimmed == "." {
            self = .root
            return
        }
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        guard !trimmed.isEmpty else { throw DNSWireError.invalidName(reason: "empty name \"\(text)\"") }
        for byte in trimmed.utf8 where byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\\") {
            throw DNSWireError.invalidName(reason: "\"\(text)\" contains a space, control, backslash or non-ASCII byte")
        }
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
        do {
            try self.init(labels: parts)
        } catch DNSWireError.invalidName(let reason) {
            throw DNSWireError.invalidName(reason: "\"\(text)\": \(reason)")
        }
    }

    /// The fully qualified presentation form with a trailing dot, e.g. `example.test.`.
    package var description: String {
        if labels.isEmpty { return "." }
        return labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".") + "."
    }

    /// Uncompressed wire form, keeping the original case.
    package var wire: [UInt8] {
        var out: [UInt8] = []
        for label in labels {
            out.append(UInt8(label.count))
            out.append(contentsOf: label)
        }
        out.append(0)
        return out
    }

    /// Uncompressed wire form with ASCII letters lowercased (RFC 4034 §6.2), as TSIG MACs use.
    package var canonicalWire: [UInt8] { lowercased().wire }

    /// The same name with ASCII letters lowercased.
    package func lowercased() -> DNSName {
        DNSName(uncheckedLabels: labels.map { $0.map(Self.lower) })
    }

    /// The name with the leftmost label removed, or nil for the root.
    package var parent: DNSName? {
        labels.isEmpty ? nil : DNSName(uncheckedLabels: Array(labels.dropFirst()))
    }

    /// True when `self` equals `other` or lies below it (`a.example.test` is a subdomain of `example.test`).
    package func isSubdomain(of other: DNSName) -> Bool {
        guard labels.count >= other.labels.count else { return false }
        return DNSName(uncheckedLabels: Array(labels.suffix(other.labels.count))) == other
    }

    /// Prepends one label, e.g. `_acme-challenge`.
    package func prepending(_ label: String) throws -> DNSName {
        try DNSName(labels: [Array(label.utf8)] + labels)
    }

    package static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        lhs.canonicalWire == rhs.canonicalWire
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(canonicalWire)
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) ? byte + 32 : byte
    }
}
