import ACMECrypto
import Foundation
import SwiftASN1
import Testing
import X509

/// A CA may put names into the leaf that were never asked for: every subjectAltName must be one we requested.
@Suite struct SubjectAltNameTests {
    static let requested = ["a.test", "b.test"]

    /// A one-certificate "chain" for `sans` (self-issued by a test CA key), and the leaf's key.
    static func chain(sans: [GeneralName]) throws -> (CertificateChain, SigningKey) {
        let caKey = try SigningKey.generate(.ecdsaP256)
        let leafKey = try SigningKey.generate(.ecdsaP256)
        let ca = try TestCertificates.ca(name: "SAN CA", key: caKey)
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: leafKey.certificatePrivateKey.publicKey,
            notValidBefore: TestCertificates.epoch - 3600, notValidAfter: TestCertificates.epoch + 90 * 86400,
            issuer: ca.subject, subject: try DistinguishedName { CommonName("a.test") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { SubjectAlternativeNames(sans) },
            issuerPrivateKey: caKey.certificatePrivateKey)
        return (try CertificateChain(certificates: [leaf, ca]), leafKey)
    }

    static func rejection(_ extra: GeneralName) throws -> String? {
        let (chain, key) = try chain(sans: requested.map { .dnsName($0) } + [extra])
        do {
            try chain.verify(expectedKey: key, expectedNames: requested, now: TestCertificates.epoch)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func onlyTheRequestedNamesPass() throws {
        let (chain, key) = try Self.chain(sans: [.dnsName("B.test"), .dnsName("a.test")])
        try chain.verify(expectedKey: key, expectedNames: Self.requested, now: TestCertificates.epoch)
    }

    @Test func anIPAddressSANIsRejected() throws {
        let message = try #require(try Self.rejection(.ipAddress(ASN1OctetString(contentBytes: [192, 0, 2, 7]))))
        #expect(message.contains("192.0.2.7"), "\(message)")
        #expect(message.contains("CN=a.test"), "\(message)")
    }

    @Test func anIPv6AddressSANIsRejected() throws {
        let bytes: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]
        let message = try #require(try Self.rejection(.ipAddress(ASN1OctetString(contentBytes: bytes[...]))))
        #expect(message.contains("2001:db8:"), "\(message)")
    }

    @Test func aURISANIsRejected() throws {
        let message = try #require(try Self.rejection(.uniformResourceIdentifier("https://evil.test/")))
        #expect(message.contains("https://evil.test/"), "\(message)")
        #expect(message.contains("CN=a.test"), "\(message)")
    }

    @Test func anEmailSANIsRejected() throws {
        let message = try #require(try Self.rejection(.rfc822Name("root@evil.test")))
        #expect(message.contains("root@evil.test"), "\(message)")
    }

    @Test func anExtraDNSNameIsRejected() throws {
        let message = try #require(try Self.rejection(.dnsName("evil.test")))
        #expect(message.contains("evil.test"), "\(message)")
    }
}
