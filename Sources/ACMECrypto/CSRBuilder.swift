import SwiftASN1
import X509

/// Builds PKCS#10 CSRs for finalize (RFC 8555 §7.4): every name goes in the SAN (Pebble ignores the CN).
package enum CSRBuilder {
    /// A DER CSR for `domains` signed by `key`. The CN is the first name when it fits in 64 characters.
    ///
    /// - Throws: ``ACMECryptoError/invalidCertificate(reason:)`` when `domains` is empty.
    package static func derCSR(domains: [String], key: SigningKey) throws -> [UInt8] {
        guard let first = domains.first else {
            throw ACMECryptoError.invalidCertificate(reason: "a CSR needs at least one name")
        }
        let subject: DistinguishedName
        if first.utf8.count <= 64 {
            subject = try DistinguishedName { CommonName(first) }
        } else {
            subject = DistinguishedName()
        }
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames(domains.map { GeneralName.dnsName($0) })
        }
        let attributes = CertificateSigningRequest.Attributes(
            [try CertificateSigningRequest.Attribute(ExtensionRequest(extensions: extensions))]
        )
        let csr = try CertificateSigningRequest(
            version: .v1,
            subject: subject,
            privateKey: key.certificatePrivateKey,
            attributes: attributes,
            signatureAlgorithm: signatureAlgorithm(for: key)
        )
        var serializer = DER.Serializer()
        try serializer.serialize(csr)
        return serializer.serializedBytes
    }

    static func signatureAlgorithm(for key: SigningKey) -> Certificate.SignatureAlgorithm {
        switch key {
        case .p256: return .ecdsaWithSHA256
        case .p384: return .ecdsaWithSHA384
        case .rsa: return .sha256WithRSAEncryption
        }
    }
}
