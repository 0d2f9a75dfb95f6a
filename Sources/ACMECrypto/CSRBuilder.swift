import SwiftASN1
import X509

/// Builds PKCS#10 CSRs for finalize (RFC 8555 §7.4): every name goes in the SAN (Pebble ignores the CN).
package enum CSRBuilder {
    /// A DER CSR for `domains` signed by `key`. The CN is the first name when it fits in 64 characters.
    ///
    /// - Throws: ``ACMECryptoError/invalidCertificate(reason:)`` when `domains` is empty.
    /// IP addresses (RFC 8738) go in as iPAddress SANs; the CN is only ever a DNS name.
    package static func derCSR(domains: [String], key: SigningKey) throws -> [UInt8] {
        guard !domains.isEmpty else {
            throw ACMECryptoError.invalidCertificate(reason: "a CSR needs at least one name")
        }
        let subject: DistinguishedName
        if let first = domains.first(where: { !IPAddressText.isAddress($0) }), first.utf8.count <= 64 {
            subject = try DistinguishedName { CommonName(first) }
        } else {
            subject = DistinguishedName()
        }
        let names = domains.map { name -> GeneralName in
            if let bytes = IPAddressText.bytes(name) { return .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
            return .dnsName(name)
        }
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames(names)
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
