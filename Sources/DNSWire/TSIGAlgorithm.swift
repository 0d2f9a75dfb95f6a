import Crypto

/// A TSIG HMAC algorithm (RFC 8945 §6). HMAC-MD5 is deliberately absent ("MUST NOT be used").
package enum TSIGAlgorithm: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case hmacSHA1 = "hmac-sha1"
    case hmacSHA256 = "hmac-sha256"
    case hmacSHA384 = "hmac-sha384"
    case hmacSHA512 = "hmac-sha512"

    /// Parses `hmac-sha256`, `HMAC-SHA256.` and the like (case-insensitive, trailing dot optional).
    package init?(name: String) {
        var lowered = name.lowercased()
        if lowered.hasSuffix(".") { lowered.removeLast() }
        self.init(rawValue: lowered)
    }

    /// The algorithm name as carried in the TSIG RDATA, e.g. `hmac-sha256.`.
    package var dnsName: DNSName { DNSName(uncheckedLabels: [Array(rawValue.utf8)]) }

    /// The full MAC length in bytes.
    package var macLength: Int {
        switch self {
        case .hmacSHA1: return Insecure.SHA1.byteCount
        case .hmacSHA256: return SHA256.byteCount
        case .hmacSHA384: return SHA384.byteCount
        case .hmacSHA512: return SHA512.byteCount
        }
    }

    package var description: String { rawValue }

    /// HMAC of `data` under `secret`.
    func mac(_ data: [UInt8], secret: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: secret)
        switch self {
        case .hmacSHA1: return Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key))
        case .hmacSHA256: return Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case .hmacSHA384: return Array(HMAC<SHA384>.authenticationCode(for: data, using: key))
        case .hmacSHA512: return Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
        }
    }

    /// Constant-time check of a received full-length MAC.
    func isValid(mac: [UInt8], for data: [UInt8], secret: [UInt8]) -> Bool {
        let key = SymmetricKey(data: secret)
        switch self {
        case .hmacSHA1: return HMAC<Insecure.SHA1>.isValidAuthenticationCode(mac, authenticating: data, using: key)
        case .hmacSHA256: return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: data, using: key)
        case .hmacSHA384: return HMAC<SHA384>.isValidAuthenticationCode(mac, authenticating: data, using: key)
        case .hmacSHA512: return HMAC<SHA512>.isValidAuthenticationCode(mac, authenticating: data, using: key)
        }
    }
}
