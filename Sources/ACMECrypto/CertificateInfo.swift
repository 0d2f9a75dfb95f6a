import Crypto
import Foundation
import X509
import _CryptoExtras

/// Facts about an end-entity certificate that renewal decisions need.
package struct CertificateInfo: Sendable, Hashable {
    /// SAN dNSName entries, in certificate order.
    package var dnsNames: [String]
    /// SAN iPAddress entries as canonical text (RFC 8738 identifiers), in certificate order.
    package var ipAddresses: [String]
    /// Every identifier the certificate names: DNS names, then IP addresses.
    package var identifiers: [String] { dnsNames + ipAddresses }
    package var notBefore: Date
    package var notAfter: Date
    /// Serial number as lowercase hex of its DER value bytes (e.g. `0087654321`).
    package var serialHex: String
    /// The subject key's type, nil for keys certkeeper does not issue (e.g. P-521, Ed25519, odd RSA sizes).
    package var keyType: KeyType?
    /// The Authority Key Identifier's keyIdentifier, if present.
    package var authorityKeyIdentifier: [UInt8]?
    /// The issuer DN as text.
    package var issuer: String

    /// Reads the facts from `certificate`.
    package init(certificate: Certificate) throws {
        do {
            let sans = try certificate.extensions.subjectAlternativeNames.map(Array.init) ?? []
            self.dnsNames = sans.compactMap { (name: GeneralName) -> String? in
                if case .dnsName(let value) = name { return value }
                return nil
            }
            self.ipAddresses = sans.compactMap { (name: GeneralName) -> String? in
                if case .ipAddress(let octets) = name { return IPAddressText.text(Array(octets.bytes)) }
                return nil
            }
            self.authorityKeyIdentifier = try certificate.extensions.authorityKeyIdentifier?.keyIdentifier.map(
                Array.init)
        } catch {
            throw ACMECryptoError.invalidCertificate(reason: "malformed extension: \(error)")
        }
        self.notBefore = certificate.notValidBefore
        self.notAfter = certificate.notValidAfter
        self.serialHex = ARICertID.derValueBytes(of: certificate.serialNumber).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
        self.issuer = certificate.issuer.description
        if P256.Signing.PublicKey(certificate.publicKey) != nil {
            self.keyType = .ecdsaP256
        } else if P384.Signing.PublicKey(certificate.publicKey) != nil {
            self.keyType = .ecdsaP384
        } else if let rsa = _RSA.Signing.PublicKey(certificate.publicKey) {
            self.keyType = KeyType.allCases.first { $0.rsaBits == rsa.keySizeInBits }
        } else {
            self.keyType = nil
        }
    }

    /// Reads the facts from the first certificate of a PEM chain.
    package init(pem: String) throws {
        try self.init(certificate: CertificateChain(pem: pem).leaf)
    }

    /// The lifetime, notAfter - notBefore.
    package var lifetime: TimeInterval { notAfter.timeIntervalSince(notBefore) }
}
