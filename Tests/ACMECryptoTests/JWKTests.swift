import ACMECrypto
import ACMEModels
import Testing

@Suite struct JWKTests {
    /// RFC 7638 §3.1 example key and thumbprint.
    @Test func rfc7638Thumbprint() {
        let jwk = JWK(
            kty: "RSA",
            crv: nil,
            x: nil,
            y: nil,
            n:
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            e: "AQAB"
        )
        #expect(jwk.thumbprint() == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        #expect(jwk.canonicalJSON.starts(with: Array(#"{"e":"AQAB","kty":"RSA","n":"0vx7"#.utf8)))
    }

    @Test func ecJWKHasFullLengthCoordinatesInCanonicalOrder() throws {
        for _ in 0..<20 {
            let key = try SigningKey.generate(.ecdsaP256)
            let jwk = key.publicJWK
            #expect(Base64URL.decode(jwk.x!)?.count == 32)
            #expect(Base64URL.decode(jwk.y!)?.count == 32)
            let text = String(decoding: jwk.canonicalJSON, as: UTF8.self)
            #expect(text == #"{"crv":"P-256","kty":"EC","x":"\#(jwk.x!)","y":"\#(jwk.y!)"}"#)
        }
        let p384 = try SigningKey.generate(.ecdsaP384).publicJWK
        #expect(p384.crv == "P-384")
        #expect(Base64URL.decode(p384.x!)?.count == 48)
    }

    @Test func privateJWKsLoadAndMatchIndependentThumbprints() throws {
        let rsa = try SigningKey(jwkJSON: Array(Fixtures.rsaPrivateJWK.utf8))
        #expect(rsa.keyType == .rsa2048)
        #expect(rsa.publicJWK.thumbprint() == Fixtures.rsaPrivateJWKThumbprint)
        let ec = try SigningKey(jwkJSON: Array(Fixtures.ecPrivateJWK.utf8))
        #expect(ec.keyType == .ecdsaP256)
        #expect(ec.publicJWK.thumbprint() == Fixtures.ecPrivateJWKThumbprint)
    }

    @Test func privateJWKWithWrongPublicPartIsRejected() throws {
        let other = try SigningKey.generate(.ecdsaP256).publicJWK
        var object = try #require(
            try JSONValueParser.object(Fixtures.ecPrivateJWK)
        )
        object["x"] = .string(other.x!)
        #expect(throws: ACMECryptoError.self) {
            try SigningKey(jwkJSON: JSONValue.object(object).serialized)
        }
        #expect(throws: ACMECryptoError.self) { try SigningKey(jwkJSON: Array("{}".utf8)) }
    }

    @Test func pemFormatsLoad() throws {
        let sec1 = try SigningKey(pemRepresentation: Fixtures.ecSEC1PEM)
        #expect(sec1.publicJWK.thumbprint() == Fixtures.ecPrivateJWKThumbprint)
        let pkcs1 = try SigningKey(pemRepresentation: Fixtures.rsaPKCS1PEM)
        #expect(pkcs1.publicJWK.thumbprint() == Fixtures.rsaPrivateJWKThumbprint)
        #expect(pkcs1.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        for type in [KeyType.ecdsaP256, .ecdsaP384] {
            let key = try SigningKey.generate(type)
            #expect(key.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----"))
            let again = try SigningKey(pemRepresentation: key.pemRepresentation)
            #expect(again.keyType == type)
            #expect(again.publicJWK == key.publicJWK)
        }
        #expect(throws: ACMECryptoError.self) { try SigningKey(pemRepresentation: "garbage") }
        #expect(!pkcs1.description.contains("PRIVATE"))
    }
}

/// Decodes a JSON object into `JSONValue` members (test helper).
enum JSONValueParser {
    static func object(_ text: String) throws -> [String: JSONValue]? {
        guard case .object(let members) = try ACMEJSON.decode(JSONValue.self, from: Array(text.utf8)) else {
            return nil
        }
        return members
    }
}
