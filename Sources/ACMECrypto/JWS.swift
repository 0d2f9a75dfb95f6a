import ACMEModels

/// JWS Flattened JSON Serialization (RFC 7515 §7.2.2) as ACME requires (RFC 8555 §6.2).
package enum JWS {
    /// Signs `payload` with `key` and returns `{"payload":..,"protected":..,"signature":..}` as JSON bytes.
    ///
    /// - Parameters:
    ///   - protected: Header members (`nonce`, `url`, `jwk` or `kid`). `alg` is set from the key when absent.
    ///   - payload: The payload bytes; empty for POST-as-GET (encodes as `""`).
    ///   - key: The signing key.
    package static func sign(protected: [String: JSONValue], payload: [UInt8], key: SigningKey) throws -> [UInt8] {
        var header = protected
        if header["alg"] == nil { header["alg"] = .string(key.jwsAlgorithm) }
        let protectedB64 = Base64URL.encode(JSONValue.object(header).serialized)
        let payloadB64 = Base64URL.encode(payload)
        let signature = try key.sign(Array("\(protectedB64).\(payloadB64)".utf8))
        return flattened(protected: protectedB64, payload: payloadB64, signature: Base64URL.encode(signature))
            .serialized
    }

    /// The flattened JWS object from already-encoded parts.
    package static func flattened(protected: String, payload: String, signature: String) -> JSONValue {
        ["protected": .string(protected), "payload": .string(payload), "signature": .string(signature)]
    }
}
