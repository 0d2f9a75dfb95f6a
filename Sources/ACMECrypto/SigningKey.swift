import Crypto
import Foundation
import X509
import _CryptoExtras

/// A private key used to sign JWS requests (account keys) or CSRs (certificate keys).
///
/// `description` never includes key material.
package enum SigningKey: Sendable, CustomStringConvertible {
    case p256(P256.Signing.PrivateKey)
    case p384(P384.Signing.PrivateKey)
    case rsa(_RSA.Signing.PrivateKey)

    /// Generates a fresh key of `type`.
    package static func generate(_ type: KeyType) throws -> SigningKey {
        switch type {
        case .ecdsaP256: return .p256(P256.Signing.PrivateKey())
        case .ecdsaP384: return .p384(P384.Signing.PrivateKey())
        case .rsa2048, .rsa3072, .rsa4096:
            return .rsa(try _RSA.Signing.PrivateKey(keySize: .init(bitCount: type.rsaBits!)))
        }
    }

    /// Loads a PEM private key: PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`).
    package init(pemRepresentation pem: String) throws {
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
            self = .p256(key)
        } else if let key = try? P384.Signing.PrivateKey(pemRepresentation: pem) {
            self = .p384(key)
        } else if let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) {
            guard [2048, 3072, 4096].contains(key.keySizeInBits) else {
                throw ACMECryptoError.unsupportedKey(reason: "RSA key of \(key.keySizeInBits) bits")
            }
            self = .rsa(key)
        } else {
            let label =
                pem.split(separator: "\n").first { $0.hasPrefix("-----BEGIN") }.map(String.init) ?? "no PEM header"
            throw ACMECryptoError.unsupportedKey(reason: "cannot parse PEM (\(label))")
        }
    }

    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    package var pemRepresentation: String {
        switch self {
        case .p256(let key): return key.pemRepresentation
        case .p384(let key): return key.pemRepresentation
        case .rsa(let key): return key.pkcs8PEMRepresentation
        }
    }

    /// The key's algorithm and size.
    package var keyType: KeyType {
        switch self {
        case .p256: return .ecdsaP256
        case .p384: return .ecdsaP384
        case .rsa(let key):
            switch key.keySizeInBits {
            case 3072: return .rsa3072
            case 4096: return .rsa4096
            default: return .rsa2048
            }
        }
    }

    /// The JWS `alg`: ES256, ES384 or RS256.
    package var jwsAlgorithm: String {
        switch self {
        case .p256: return "ES256"
        case .p384: return "ES384"
        case .rsa: return "RS256"
        }
    }

    /// The public key as a JWK.
    package var publicJWK: JWK {
        switch self {
        case .p256(let key):
            let point = Array(key.publicKey.x963Representation.dropFirst())
            return .ec(curve: "P-256", x: Array(point[0..<32]), y: Array(point[32...]))
        case .p384(let key):
            let point = Array(key.publicKey.x963Representation.dropFirst())
            return .ec(curve: "P-384", x: Array(point[0..<48]), y: Array(point[48...]))
        case .rsa(let key):
            // getKeyPrimitives only fails for keys BoringSSL cannot export, which generated/loaded keys never are.
            let primitives = try! key.publicKey.getKeyPrimitives()
            return .rsa(modulus: Array(primitives.modulus), exponent: Array(primitives.publicExponent))
        }
    }

    /// Signs `bytes` for JWS: raw R‖S for ECDSA (64 or 96 bytes), RSASSA-PKCS1-v1_5 SHA-256 for RSA.
    package func sign(_ bytes: [UInt8]) throws -> [UInt8] {
        switch self {
        case .p256(let key): return Array(try key.signature(for: bytes).rawRepresentation)
        case .p384(let key): return Array(try key.signature(for: bytes).rawRepresentation)
        case .rsa(let key):
            return Array(
                try key.signature(for: SHA256.hash(data: bytes), padding: .insecurePKCS1v1_5).rawRepresentation)
        }
    }

    /// The key for swift-certificates (CSRs, test certificates).
    package var certificatePrivateKey: Certificate.PrivateKey {
        switch self {
        case .p256(let key): return Certificate.PrivateKey(key)
        case .p384(let key): return Certificate.PrivateKey(key)
        case .rsa(let key): return Certificate.PrivateKey(key)
        }
    }

    /// True when `publicKey` (e.g. a certificate's) belongs to this private key.
    package func publicKeyMatches(_ publicKey: Certificate.PublicKey) -> Bool {
        certificatePrivateKey.publicKey == publicKey
    }

    package var description: String { "SigningKey(\(keyType.rawValue), thumbprint \(publicJWK.thumbprint()))" }
}
