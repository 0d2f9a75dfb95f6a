import ACMECrypto
import ACMEModels
import Crypto
import Testing
import _CryptoExtras

@Suite struct JWSTests {
    struct Parsed {
        var header: [String: JSONValue]
        var payload: [UInt8]
        var signingInput: [UInt8]
        var signature: [UInt8]
    }

    static func parse(_ jws: [UInt8]) throws -> Parsed {
        let object = try #require(try JSONValueParser.object(String(decoding: jws, as: UTF8.self)))
        #expect(Set(object.keys) == ["protected", "payload", "signature"])
        let protected = try #require(object["protected"]?.stringValue)
        let payload = try #require(object["payload"]?.stringValue)
        let headerBytes = try #require(Base64URL.decode(protected))
        let header = try #require(try JSONValueParser.object(String(decoding: headerBytes, as: UTF8.self)))
        let payloadBytes = try #require(Base64URL.decode(payload))
        let signatureText = try #require(object["signature"]?.stringValue)
        let signature = try #require(Base64URL.decode(signatureText))
        return Parsed(
            header: header,
            payload: payloadBytes,
            signingInput: Array("\(protected).\(payload)".utf8),
            signature: signature
        )
    }

    @Test func es256RoundTripUsesRawSignature() throws {
        let key = try SigningKey.generate(.ecdsaP256)
        guard case .p256(let privateKey) = key else {
            Issue.record("not P-256")
            return
        }
        let jws = try JWS.sign(
            protected: ["nonce": "abc", "url": "https://ca.test/acct"],
            payload: Array(#"{"a":1}"#.utf8),
            key: key
        )
        let parsed = try Self.parse(jws)
        #expect(parsed.header["alg"] == "ES256")
        #expect(parsed.header["nonce"] == "abc")
        #expect(parsed.signature.count == 64)
        #expect(String(decoding: parsed.payload, as: UTF8.self) == #"{"a":1}"#)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: parsed.signature)
        #expect(privateKey.publicKey.isValidSignature(signature, for: parsed.signingInput))
    }

    @Test func es384SignatureIs96Bytes() throws {
        let key = try SigningKey.generate(.ecdsaP384)
        guard case .p384(let privateKey) = key else {
            Issue.record("not P-384")
            return
        }
        let parsed = try Self.parse(try JWS.sign(protected: [:], payload: [], key: key))
        #expect(parsed.header["alg"] == "ES384")
        #expect(parsed.signature.count == 96)
        let signature = try P384.Signing.ECDSASignature(rawRepresentation: parsed.signature)
        #expect(privateKey.publicKey.isValidSignature(signature, for: parsed.signingInput))
    }

    @Test func rs256RoundTripAndPostAsGetPayload() throws {
        let key = try SigningKey(pemRepresentation: Fixtures.rsaPKCS1PEM)
        guard case .rsa(let privateKey) = key else {
            Issue.record("not RSA")
            return
        }
        let jws = try JWS.sign(protected: ["kid": "https://ca.test/acct/1"], payload: [], key: key)
        #expect(String(decoding: jws, as: UTF8.self).contains(#""payload":"""#))
        let parsed = try Self.parse(jws)
        #expect(parsed.header["alg"] == "RS256")
        #expect(parsed.payload.isEmpty)
        #expect(parsed.signature.count == 256)
        #expect(
            privateKey.publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: parsed.signature),
                for: SHA256.hash(data: parsed.signingInput),
                padding: .insecurePKCS1v1_5
            )
        )
    }

    @Test func externalAccountBindingStructureAndMAC() throws {
        let hmacKey = Array((0..<32).map { UInt8($0) })
        let account = try SigningKey.generate(.ecdsaP256).publicJWK
        let eab = ExternalAccountBinding.make(
            keyID: "kid-1",
            hmacKey: hmacKey,
            accountJWK: account,
            url: "https://ca.test/new-acct"
        )
        let parsed = try Self.parse(eab.serialized)
        #expect(parsed.header == ["alg": "HS256", "kid": "kid-1", "url": "https://ca.test/new-acct"])
        #expect(parsed.header["nonce"] == nil)
        #expect(parsed.payload == account.canonicalJSON)
        #expect(
            HMAC<SHA256>.isValidAuthenticationCode(
                parsed.signature,
                authenticating: parsed.signingInput,
                using: SymmetricKey(data: hmacKey)
            )
        )
    }

    @Test func keyAuthorizationAndDNSValue() throws {
        let key = try SigningKey(jwkJSON: Array(Fixtures.ecPrivateJWK.utf8))
        let keyAuthorization = KeyAuthorization.make(token: "tok_en-1", jwk: key.publicJWK)
        #expect(keyAuthorization == "tok_en-1.\(Fixtures.ecPrivateJWKThumbprint)")
        let value = KeyAuthorization.dns01Value(keyAuthorization)
        #expect(value.count == 43)
        #expect(Base64URL.decode(value) == Array(SHA256.hash(data: Array(keyAuthorization.utf8))))
    }
}
