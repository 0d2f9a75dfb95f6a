import ACMECrypto
import Crypto
import Foundation
import SwiftASN1
import X509

/// The self-signed validation certificate of RFC 8737 §3 for one identifier.
///
/// It has a fresh P-256 key, a subjectAltName with exactly one dNSName (the identifier), and the critical
/// id-pe-acmeIdentifier extension (1.3.6.1.5.5.7.1.31) whose extnValue is the DER
/// `OCTET STRING (SIZE (32))` of SHA-256(keyAuthorization), i.e. `04 20 <32 bytes>`.
package struct TLSALPN01Certificate: Sendable {
    /// id-pe-acmeIdentifier, `{id-pe 31}` (RFC 8737 §6.1). Not the draft-era `{id-pe 30}`.
    package static let acmeIdentifierOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 1, 31]

    /// The certificate.
    package var certificate: Certificate
    /// Its private key (fresh for every challenge).
    package var privateKey: P256.Signing.PrivateKey

    /// Builds the validation certificate.
    ///
    /// - Parameters:
    ///   - domain: The DNS identifier (no `*.`) or IP address (RFC 8738: an iPAddress SAN).
    ///   - keyAuthorization: `token + "." + thumbprint`.
    ///   - now: The current time; the certificate is valid from an hour before to seven days after.
    /// - Throws: ``ResponderError`` when the certificate cannot be built.
    package init(domain: String, keyAuthorization: String, now: Date = Date()) throws {
        let key = P256.Signing.PrivateKey()
        do {
            let name = try DistinguishedName { CommonName("certkeeper tls-alpn-01 challenge") }
            let extensions = try Certificate.Extensions([
                Certificate.Extension(SubjectAlternativeNames([Self.subjectAltName(domain)]), critical: false),
                Self.acmeIdentifierExtension(keyAuthorization: keyAuthorization),
            ])
            self.certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: .init(key.publicKey),
                notValidBefore: now.addingTimeInterval(-3600),
                notValidAfter: now.addingTimeInterval(7 * 86400),
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: .init(key)
            )
        } catch {
            throw ResponderError(
                kind: .certificateGeneration,
                description: "tls-alpn-01 for \(domain): cannot build the validation certificate: \(error)"
            )
        }
        self.privateKey = key
    }

    /// The critical acmeIdentifier extension carrying SHA-256(keyAuthorization) as a DER OCTET STRING.
    static func subjectAltName(_ identifier: String) -> GeneralName {
        if let bytes = IPAddressText.bytes(identifier) { return .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
        return .dnsName(identifier)
    }

    package static func acmeIdentifierExtension(keyAuthorization: String) -> Certificate.Extension {
        let digest = SHA256.hash(data: Array(keyAuthorization.utf8))
        let value: [UInt8] = [0x04, 0x20] + Array(digest)
        return Certificate.Extension(oid: Self.acmeIdentifierOID, critical: true, value: value[...])
    }

    /// The certificate in DER.
    package func derBytes() throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(self.certificate)
        return serializer.serializedBytes
    }
}
