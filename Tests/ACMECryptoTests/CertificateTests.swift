import ACMECrypto
import Foundation
import SwiftASN1
import Testing
import X509

@Suite struct CertificateTests {
    @Test func csrRoundTripCarriesAllNamesInSAN() throws {
        for type in [KeyType.ecdsaP256, .ecdsaP384] {
            let key = try SigningKey.generate(type)
            let names = ["www.example.org", "example.org", "*.example.org"]
            let der = try CSRBuilder.derCSR(domains: names, key: key)
            let csr = try CertificateSigningRequest(derEncoded: der)
            #expect(csr.publicKey == key.certificatePrivateKey.publicKey)
            #expect(csr.publicKey.isValidSignature(csr.signature, for: csr))
            let sans = try #require(try csr.attributes.extensionRequest?.extensions.subjectAlternativeNames)
            #expect(Array(sans) == names.map { GeneralName.dnsName($0) })
            #expect(csr.subject.description == "CN=www.example.org")
        }
        #expect(throws: ACMECryptoError.self) { try CSRBuilder.derCSR(domains: [], key: try .generate(.ecdsaP256)) }
    }

    @Test func rsaCSRIsSignedWithSHA256() throws {
        let key = try SigningKey(pemRepresentation: Fixtures.rsaPKCS1PEM)
        let csr = try CertificateSigningRequest(derEncoded: try CSRBuilder.derCSR(domains: ["a.test"], key: key))
        #expect(csr.signatureAlgorithm == .sha256WithRSAEncryption)
        #expect(csr.publicKey.isValidSignature(csr.signature, for: csr))
    }

    /// RFC 9773 §4.1 worked example: AKI 69:88:5B:...:C8:D4, serial 00:87:65:43:21.
    @Test func ariCertIDWorkedExample() throws {
        let aki = try #require(Base64URL.decode("aYhba4dGQEHhs3uEe6CuLN4ByNQ"))
        #expect(aki.count == 20)
        #expect(aki.first == 0x69 && aki.last == 0xD4)
        let issuerKey = try SigningKey.generate(.ecdsaP256)
        let leaf = try TestCertificates.leaf(
            names: ["example.com"],
            key: try .generate(.ecdsaP256),
            issuerName: "Test CA",
            issuerKey: issuerKey,
            serial: Certificate.SerialNumber(bytes: [0x87, 0x65, 0x43, 0x21]),
            aki: aki
        )
        #expect(try ARICertID.make(for: leaf) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
        #expect(
            ARICertID.make(authorityKeyIdentifier: aki, serialNumber: [0x00, 0x87, 0x65, 0x43, 0x21])
                == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
        )
        let info = try CertificateInfo(certificate: leaf)
        #expect(info.serialHex == "0087654321")
        #expect(info.authorityKeyIdentifier == aki)
        #expect(info.dnsNames == ["example.com"])
        #expect(info.keyType == .ecdsaP256)
        #expect(info.lifetime == 90 * 86400)
    }

    @Test func ariCertIDNeedsAKI() throws {
        let key = try SigningKey.generate(.ecdsaP256)
        let leaf = try TestCertificates.leaf(names: ["a.test"], key: key, issuerName: "CA", issuerKey: key)
        #expect(throws: ACMECryptoError.self) { try ARICertID.make(for: leaf) }
    }

    struct Chain {
        var leafKey: SigningKey
        var pem: String
        var root: Certificate
    }

    static func makeChain(names: [String] = ["a.test", "B.test"]) throws -> Chain {
        let rootKey = try SigningKey.generate(.ecdsaP256)
        let intermediateKey = try SigningKey.generate(.ecdsaP256)
        let leafKey = try SigningKey.generate(.ecdsaP256)
        let root = try TestCertificates.ca(name: "Root", key: rootKey)
        let intermediate = try TestCertificates.ca(
            name: "Intermediate",
            key: intermediateKey,
            issuerKey: rootKey,
            issuerName: "Root"
        )
        let leaf = try TestCertificates.leaf(
            names: names,
            key: leafKey,
            issuerName: "Intermediate",
            issuerKey: intermediateKey
        )
        return Chain(leafKey: leafKey, pem: try TestCertificates.pem([leaf, intermediate]), root: root)
    }

    @Test func chainVerifiesAndReportsEachFailure() throws {
        let chain = try Self.makeChain()
        let parsed = try CertificateChain(pem: chain.pem)
        #expect(parsed.intermediates.count == 1)
        let now = TestCertificates.epoch
        try parsed.verify(expectedKey: chain.leafKey, expectedNames: ["b.test", "A.TEST"], now: now)

        #expect(throws: CertificateChainError.leafKeyMismatch) {
            try parsed.verify(expectedKey: try .generate(.ecdsaP256), expectedNames: ["a.test", "b.test"], now: now)
        }
        #expect(throws: CertificateChainError.self) {
            try parsed.verify(expectedKey: chain.leafKey, expectedNames: ["a.test"], now: now)
        }
        #expect(throws: CertificateChainError.expired(notAfter: parsed.leaf.notValidAfter)) {
            try parsed.verify(expectedKey: chain.leafKey, expectedNames: ["a.test", "b.test"], now: now + 91 * 86400)
        }
        #expect(throws: CertificateChainError.notYetValid(notBefore: parsed.leaf.notValidBefore)) {
            try parsed.verify(expectedKey: chain.leafKey, expectedNames: ["a.test", "b.test"], now: now - 3 * 3600)
        }
        // Within the clock-skew tolerance a leaf that starts "soon" is accepted.
        try parsed.verify(expectedKey: chain.leafKey, expectedNames: ["a.test", "b.test"], now: now - 7200)
    }

    @Test func chainWithForeignIntermediateIsRejected() throws {
        let chain = try Self.makeChain()
        let other = try Self.makeChain()
        let leafPEM = try CertificateChain(pem: chain.pem).leaf.serializeAsPEM().pemString
        let otherIntermediate = try CertificateChain(pem: other.pem).intermediates[0].serializeAsPEM().pemString
        let mixed = try CertificateChain(pem: leafPEM + "\n" + otherIntermediate)
        #expect {
            try mixed.verify(
                expectedKey: chain.leafKey, expectedNames: ["a.test", "b.test"], now: TestCertificates.epoch)
        } throws: { error in
            guard case CertificateChainError.badSignature(index: 0, _) = error else { return false }
            return "\(error)".contains("signature")
        }
        #expect(throws: CertificateChainError.empty) { try CertificateChain(pem: "no certificates here") }
    }
}
