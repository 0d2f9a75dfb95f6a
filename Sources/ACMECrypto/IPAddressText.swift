#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// IP address identifiers (RFC 8738): parsing, the canonical text (RFC 5952 for IPv6) and the reverse-DNS name that
/// tls-alpn-01 puts in SNI.
package enum IPAddressText {
    /// The address in network order (4 or 16 bytes), or nil when `text` is not an IPv4 dotted quad or IPv6 address
    /// (no zone index, no brackets, no prefix length).
    package static func bytes(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= 45, !text.contains("%"), !text.contains("/") else { return nil }
        if text.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
            return withUnsafeBytes(of: &address) { Array($0) }
        }
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    /// True for an IPv4 or IPv6 address literal.
    package static func isAddress(_ text: String) -> Bool { bytes(text) != nil }

    /// The canonical text of an address given as 4 or 16 bytes: dotted quad, or RFC 5952 (`::1`, `2001:db8::1`).
    package static func text(_ bytes: [UInt8]) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        switch bytes.count {
        case 4:
            var address = in_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            guard inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        case 16:
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
            guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        default:
            return nil
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `text` in canonical form, or nil when it is not an address.
    package static func canonical(_ text: String) -> String? { bytes(text).flatMap(Self.text) }

    /// The reverse-DNS name (RFC 8738 §6): `1.0.0.127.in-addr.arpa` or the nibbles of an IPv6 address under
    /// `ip6.arpa`, without the trailing dot.
    package static func reverseName(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.reversed().map { String($0) }.joined(separator: ".") + ".in-addr.arpa" }
        let nibbles = bytes.flatMap { [String($0 >> 4, radix: 16), String($0 & 0x0F, radix: 16)] }
        return nibbles.reversed().joined(separator: ".") + ".ip6.arpa"
    }
}
