/// Errors from key, JWK, PEM and certificate handling. Messages never contain key material.
package enum ACMECryptoError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Input was not valid base64url (`what` names the field).
    case invalidBase64(what: String)
    /// A private key could not be loaded or is of an unsupported kind.
    case unsupportedKey(reason: String)
    /// A JWK was malformed or inconsistent.
    case invalidJWK(reason: String)
    /// A PEM certificate (chain) could not be parsed.
    case invalidCertificate(reason: String)

    package var description: String {
        switch self {
        case .invalidBase64(let what): return "\(what) is not valid base64url"
        case .unsupportedKey(let reason):
            return
                "unsupported private key: \(reason) (use ECDSA P-256/P-384 or RSA 2048/3072/4096, PEM PKCS#8/SEC1/PKCS#1)"
        case .invalidJWK(let reason): return "invalid JWK: \(reason)"
        case .invalidCertificate(let reason): return "invalid certificate: \(reason)"
        }
    }
}
