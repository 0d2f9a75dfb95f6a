import Crypto
import Foundation
import _CryptoExtras

extension SigningKey {
    /// Loads a private JWK, e.g. certbot's `private_key.json`: RSA `n,e,d,p,q` (dp/dq/qi are recomputed) or
    /// EC `crv,x,y,d` (x/y are checked against d).
    package init(jwkJSON: [UInt8]) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(jwkJSON)) as? [String: Any] else {
            throw ACMECryptoError.invalidJWK(reason: "not a JSON object")
        }
        func member(_ name: String) throws -> [UInt8] {
            guard let text = object[name] as? String else {
                throw ACMECryptoError.invalidJWK(reason: "missing member \"\(name)\"")
            }
            guard let bytes = Base64URL.decodeLenient(text) else {
                throw ACMECryptoError.invalidBase64(what: "JWK member \"\(name)\"")
            }
            return bytes
        }
        switch object["kty"] as? String {
        case "EC":
            let d = try member("d")
            let expected = JWK.ec(curve: object["crv"] as? String ?? "", x: try member("x"), y: try member("y"))
            switch object["crv"] as? String {
            case "P-256":
                guard let key = try? P256.Signing.PrivateKey(rawRepresentation: d) else {
                    throw ACMECryptoError.invalidJWK(reason: "bad P-256 private scalar")
                }
                self = .p256(key)
            case "P-384":
                guard let key = try? P384.Signing.PrivateKey(rawRepresentation: d) else {
                    throw ACMECryptoError.invalidJWK(reason: "bad P-384 private scalar")
                }
                self = .p384(key)
            case let other:
                throw ACMECryptoError.unsupportedKey(reason: "EC curve \(other ?? "missing")")
            }
            guard self.publicJWK == expected else {
                throw ACMECryptoError.invalidJWK(reason: "x/y do not match the private key")
            }
        case "RSA":
            let key: _RSA.Signing.PrivateKey
            do {
                key = try _RSA.Signing.PrivateKey(
                    n: try member("n"),
                    e: try member("e"),
                    d: try member("d"),
                    p: try member("p"),
                    q: try member("q")
                )
            } catch let error as ACMECryptoError {
                throw error
            } catch {
                throw ACMECryptoError.invalidJWK(reason: "inconsistent RSA parameters")
            }
            guard [2048, 3072, 4096].contains(key.keySizeInBits) else {
                throw ACMECryptoError.unsupportedKey(reason: "RSA key of \(key.keySizeInBits) bits")
            }
            self = .rsa(key)
        case let other:
            throw ACMECryptoError.unsupportedKey(reason: "JWK kty \(other ?? "missing")")
        }
    }
}
