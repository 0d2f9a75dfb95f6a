/// A private key algorithm and size, as written in config (`key = "ecdsa-p256"`).
package enum KeyType: String, Sendable, Hashable, CaseIterable, Codable {
    case ecdsaP256 = "ecdsa-p256"
    case ecdsaP384 = "ecdsa-p384"
    case rsa2048 = "rsa-2048"
    case rsa3072 = "rsa-3072"
    case rsa4096 = "rsa-4096"

    /// The accepted spellings, for error messages.
    package static var allNames: String { allCases.map(\.rawValue).joined(separator: " | ") }

    /// RSA modulus size in bits, or nil for ECDSA.
    package var rsaBits: Int? {
        switch self {
        case .rsa2048: return 2048
        case .rsa3072: return 3072
        case .rsa4096: return 4096
        case .ecdsaP256, .ecdsaP384: return nil
        }
    }
}
