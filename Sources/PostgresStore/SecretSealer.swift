import Crypto
import Foundation

/// Encryption at rest of the private keys the PostgreSQL store keeps (account keys, staged rollover keys, pending
/// order keys), so a dump of the database alone does not give them away.
///
/// AES-256-GCM from swift-crypto; each value is sealed with a fresh random nonce and authenticated together with its
/// purpose (`context`: which account or certificate it belongs to), so a sealed value copied onto another row does not
/// open there. The text stored is `ck-sealed-v1:<key id>:<base64 of nonce, ciphertext and tag>`; the key id (the first
/// 8 bytes of a SHA-256 over the key, in hex) names the key that sealed it without revealing it.
///
/// Rotation: the operator adds a new key as the current one and keeps the old ones as `previous` keys; values sealed
/// with any of them open, new values are sealed with the current key, and `certkeeper store reseal` rewrites every
/// value with the current key, after which the previous keys can be dropped.
package struct SecretSealer: Sendable {
    /// One 256-bit key and its public id.
    package struct Key: Sendable {
        package let id: String
        fileprivate let key: SymmetricKey

        /// - Parameter bytes: exactly 32 bytes.
        package init(bytes: [UInt8]) throws {
            guard bytes.count == 32 else { throw SealingError.badKeyLength(bytes.count) }
            key = SymmetricKey(data: bytes)
            let digest = SHA256.hash(data: Array("certkeeper sealing key id\n".utf8) + bytes)
            id = digest.prefix(8).map { String(format: "%02x", $0) }.joined()
        }

        /// Reads a key file: the base64 text of 32 random bytes (`head -c 32 /dev/urandom | base64`), surrounding
        /// whitespace ignored.
        package init(fileContents: [UInt8], path: String) throws {
            let text = String(decoding: fileContents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let data = Data(base64Encoded: text), data.count == 32 else {
                throw SealingError.badKeyFile(path: path)
            }
            try self.init(bytes: Array(data))
        }
    }

    private static let prefix = "ck-sealed-v1:"

    /// The key new values are sealed with.
    package let current: Key
    /// Keys that still open older values (rotation), current first.
    private let keys: [String: Key]

    package init(current: Key, previous: [Key] = []) {
        self.current = current
        var keys: [String: Key] = [:]
        for key in previous { keys[key.id] = key }
        keys[current.id] = current
        self.keys = keys
    }

    /// Seals `plaintext` for `context` (for example "account-key|CA|name").
    package func seal(_ plaintext: String, context: String) throws -> String {
        let box = try AES.GCM.seal(
            Array(plaintext.utf8), using: current.key, authenticating: Array(context.utf8))
        guard let combined = box.combined else { throw SealingError.sealFailed }
        return Self.prefix + current.id + ":" + combined.base64EncodedString()
    }

    /// Opens a value sealed by ``seal(_:context:)`` with any known key; `context` must be the one it was sealed for.
    package func open(_ sealed: String, context: String) throws -> String {
        guard sealed.hasPrefix(Self.prefix) else { throw SealingError.notSealed(context: context) }
        let rest = sealed.dropFirst(Self.prefix.count)
        guard let colon = rest.firstIndex(of: ":") else { throw SealingError.notSealed(context: context) }
        let keyID = String(rest[..<colon])
        guard let key = keys[keyID] else { throw SealingError.unknownKey(keyID: keyID, context: context) }
        guard let combined = Data(base64Encoded: String(rest[rest.index(after: colon)...])) else {
            throw SealingError.notSealed(context: context)
        }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            let plaintext = try AES.GCM.open(box, using: key.key, authenticating: Array(context.utf8))
            return String(decoding: plaintext, as: UTF8.self)
        } catch {
            throw SealingError.authenticationFailed(keyID: keyID, context: context)
        }
    }

    /// The id of the key that sealed `sealed`, or nil when it is not a sealed value.
    package static func keyID(of sealed: String) -> String? {
        guard sealed.hasPrefix(prefix) else { return nil }
        let rest = sealed.dropFirst(prefix.count)
        return rest.firstIndex(of: ":").map { String(rest[..<$0]) }
    }
}

/// Why a key could not be sealed or opened; never carries key material.
package enum SealingError: Error, Sendable, Hashable, CustomStringConvertible {
    case badKeyLength(Int)
    case badKeyFile(path: String)
    case sealFailed
    case notSealed(context: String)
    case unknownKey(keyID: String, context: String)
    case authenticationFailed(keyID: String, context: String)

    package var description: String {
        switch self {
        case .badKeyLength(let count):
            return "an encryption key must be 32 bytes, not \(count)"
        case .badKeyFile(let path):
            return
                "\(path) does not hold an encryption key: it must be the base64 text of 32 random bytes (make one with `head -c 32 /dev/urandom | base64 > \(path)`)"
        case .sealFailed:
            return "AES-GCM sealing failed"
        case .notSealed(let context):
            return "the stored \(context) is not a sealed value; was the row written by something else?"
        case .unknownKey(let keyID, let context):
            return
                "the stored \(context) was sealed with key \(keyID), which is neither encryption_key_file nor one of previous_encryption_key_files; add that key file back"
        case .authenticationFailed(let keyID, let context):
            return
                "the stored \(context) does not open with key \(keyID): it was altered, or moved from another row"
        }
    }
}
