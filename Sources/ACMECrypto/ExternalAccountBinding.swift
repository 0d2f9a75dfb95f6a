import ACMEModels
import Crypto

/// The `externalAccountBinding` member of a newAccount payload (RFC 8555 §7.3.4).
package enum ExternalAccountBinding {
    /// Builds the inner HS256 JWS: protected `{"alg":"HS256","kid":keyID,"url":url}` (no nonce), payload = the account's
    /// public JWK, MAC with `hmacKey` (already decoded from the CA's base64url).
    package static func make(keyID: String, hmacKey: [UInt8], accountJWK: JWK, url: String) -> JSONValue {
        let protected: JSONValue = ["alg": "HS256", "kid": .string(keyID), "url": .string(url)]
        let protectedB64 = Base64URL.encode(protected.serialized)
        let payloadB64 = Base64URL.encode(accountJWK.canonicalJSON)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(protectedB64).\(payloadB64)".utf8),
            using: SymmetricKey(data: hmacKey)
        )
        return JWS.flattened(protected: protectedB64, payload: payloadB64, signature: Base64URL.encode(mac))
    }
}
