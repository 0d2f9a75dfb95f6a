import ACMECrypto
import ACMEModels
import Crypto
import Testing

/// RFC 7515 Appendix A.2 (RS256) and A.3 (ES256) against ``SigningKey`` and ``JWS``.
@Suite struct RFC7515VectorTests {
    typealias V = RFC7515Vectors

    @Test func vectorsAreSelfConsistent() {
        #expect(Base64URL.encode(Array(#"{"alg":"RS256"}"#.utf8)) == V.rs256ProtectedB64)
        #expect(Base64URL.encode(Array(#"{"alg":"ES256"}"#.utf8)) == V.es256ProtectedB64)
        #expect(Base64URL.encode(V.payload) == V.payloadB64)
        #expect(Base64URL.encode(V.rs256Signature) == V.rs256SignatureB64)
        #expect(Base64URL.encode(V.es256Signature) == V.es256SignatureB64)
        #expect(V.rs256Signature.count == 256)
        #expect(V.es256Signature.count == 64)
    }

    @Test func rs256SignatureMatchesRFCByteForByte() throws {
        let key = try SigningKey(jwkJSON: Array(V.rsaPrivateJWK.utf8))
        #expect(key.keyType == .rsa2048)
        #expect(key.jwsAlgorithm == "RS256")
        #expect(key.publicJWK == JWK(kty: "RSA", n: V.rsaN, e: "AQAB"))
        let signature = try key.sign(V.signingInput(protectedB64: V.rs256ProtectedB64))
        #expect(signature == V.rs256Signature)
    }

    /// `JWS.sign` with no extra header members serializes `{"alg":"RS256"}`, so the whole A.2 object is reproduced.
    @Test func jwsSignReproducesRFCAppendixA2() throws {
        let key = try SigningKey(jwkJSON: Array(V.rsaPrivateJWK.utf8))
        let jws = try JWS.sign(protected: [:], payload: V.payload, key: key)
        let object = try #require(try JSONValueParser.object(String(decoding: jws, as: UTF8.self)))
        #expect(object["protected"]?.stringValue == V.rs256ProtectedB64)
        #expect(object["payload"]?.stringValue == V.payloadB64)
        #expect(object["signature"]?.stringValue == V.rs256SignatureB64)
    }

    @Test func rfcES256SignatureVerifies() throws {
        let x = try #require(Base64URL.decode(V.ecX))
        let y = try #require(Base64URL.decode(V.ecY))
        let publicKey = try P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: V.es256Signature)
        let input = V.signingInput(protectedB64: V.es256ProtectedB64)
        #expect(publicKey.isValidSignature(signature, for: input))
        #expect(!publicKey.isValidSignature(signature, for: input + [0x20]))
        #expect(!publicKey.isValidSignature(signature, for: V.signingInput(protectedB64: V.rs256ProtectedB64)))
    }

    @Test func ourES256SignaturesWithTheRFCKeyAreRawAndVerify() throws {
        let key = try SigningKey(jwkJSON: Array(V.ecPrivateJWK.utf8))
        guard case .p256(let privateKey) = key else {
            Issue.record("A.3 key did not load as P-256")
            return
        }
        #expect(key.publicJWK == JWK(kty: "EC", crv: "P-256", x: V.ecX, y: V.ecY))
        let input = V.signingInput(protectedB64: V.es256ProtectedB64)
        let ours = try key.sign(input)
        #expect(ours.count == 64)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: ours)
        #expect(privateKey.publicKey.isValidSignature(signature, for: input))
        // The RFC's own signature verifies under the key loaded through our JWK path too.
        let rfc = try P256.Signing.ECDSASignature(rawRepresentation: V.es256Signature)
        #expect(privateKey.publicKey.isValidSignature(rfc, for: input))
    }

    /// The signature covers ASCII(protected + "." + payload) exactly as the members appear in the object.
    @Test func jwsSignatureCoversProtectedDotPayloadMembers() throws {
        let key = try SigningKey(jwkJSON: Array(V.rsaPrivateJWK.utf8))
        let header: [String: JSONValue] = ["nonce": "n0nce", "url": "https://ca.test/new-order", "kid": "acct/1"]
        let payload = Array(#"{"identifiers":[{"type":"dns","value":"a.test"}]}"#.utf8)
        let jws = try JWS.sign(protected: header, payload: payload, key: key)
        let object = try #require(try JSONValueParser.object(String(decoding: jws, as: UTF8.self)))
        let protected = try #require(object["protected"]?.stringValue)
        let payloadMember = try #require(object["payload"]?.stringValue)
        let signature = try #require(object["signature"]?.stringValue)
        var expectedHeader = header
        expectedHeader["alg"] = "RS256"
        #expect(protected == Base64URL.encode(JSONValue.object(expectedHeader).serialized))
        #expect(payloadMember == Base64URL.encode(payload))
        // RS256 is deterministic: the member must equal our signature over the ASCII signing input.
        #expect(signature == Base64URL.encode(try key.sign(Array("\(protected).\(payloadMember)".utf8))))
        #expect(signature != Base64URL.encode(try key.sign(Array("\(protected)\(payloadMember)".utf8))))
    }
}
