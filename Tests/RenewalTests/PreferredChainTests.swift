import ACMECrypto
import Crypto
import Foundation
import Renewal
import SwiftASN1
import Testing
import X509

/// `preferred_chain` picks by the topmost issuer first, as certbot does, then by any issuer, as lego does.
@Suite struct PreferredChainTests {
    /// A certificate for `subject` issued (and signed) by `issuer` with `issuerKey`.
    static func certificate(
        _ subject: String, issuer: String, key: P256.Signing.PrivateKey, issuerKey: P256.Signing.PrivateKey
    ) throws -> Certificate {
        try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: Date(timeIntervalSince1970: 1_700_000_000),
            notValidAfter: Date(timeIntervalSince1970: 1_900_000_000),
            issuer: try DistinguishedName { CommonName(issuer) },
            subject: try DistinguishedName { CommonName(subject) },
            signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
            issuerPrivateKey: .init(issuerKey))
    }

    /// Let's Encrypt's two chains in 2021: the default (long) one ends in ISRG Root X1 cross-signed by DST Root CA
    /// X3; the alternate ends at R3's issuer, ISRG Root X1, itself.
    @Test func theChainEndingAtTheRootWinsOverOneThatOnlyPassesThroughIt() throws {
        let leafKey = P256.Signing.PrivateKey()
        let r3Key = P256.Signing.PrivateKey()
        let isrgKey = P256.Signing.PrivateKey()
        let dstKey = P256.Signing.PrivateKey()
        let leaf = try Self.certificate("www.example.org", issuer: "R3", key: leafKey, issuerKey: r3Key)
        let r3 = try Self.certificate("R3", issuer: "ISRG Root X1", key: r3Key, issuerKey: isrgKey)
        let crossSigned = try Self.certificate(
            "ISRG Root X1", issuer: "DST Root CA X3", key: isrgKey, issuerKey: dstKey)
        let long = try CertificateChain(certificates: [leaf, r3, crossSigned])
        let short = try CertificateChain(certificates: [leaf, r3])
        #expect(long.rootIssuerName == "DST Root CA X3")
        #expect(short.rootIssuerName == "ISRG Root X1")
        #expect(long.leads(to: "ISRG Root X1"))

        #expect(OrderIssuer.chooseChain("ISRG Root X1", among: [long, short]) == 1)
        #expect(OrderIssuer.chooseChain("DST Root CA X3", among: [long, short]) == 0)
        // Only an intermediate's issuer matches: the first chain through it.
        #expect(OrderIssuer.chooseChain("R3", among: [long, short]) == 0)
        #expect(OrderIssuer.chooseChain("No Such Root", among: [long, short]) == nil)
    }
}
