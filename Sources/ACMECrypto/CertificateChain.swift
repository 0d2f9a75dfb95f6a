import Foundation
import SwiftASN1
import X509

/// A PEM certificate chain as downloaded from an ACME server: end-entity first, then intermediates.
package struct CertificateChain: Sendable {
    /// All certificates, leaf first.
    package let certificates: [Certificate]

    /// Parses every `CERTIFICATE` block of `pem` (other blocks are ignored).
    package init(pem: String) throws {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: pem)
        } catch {
            throw ACMECryptoError.invalidCertificate(reason: "malformed PEM chain: \(error)")
        }
        var certificates: [Certificate] = []
        for (index, document) in documents.enumerated() where document.discriminator == "CERTIFICATE" {
            do {
                certificates.append(try Certificate(pemDocument: document))
            } catch {
                throw ACMECryptoError.invalidCertificate(reason: "PEM block #\(index): \(error)")
            }
        }
        guard !certificates.isEmpty else { throw CertificateChainError.empty }
        self.certificates = certificates
    }

    /// Wraps already-parsed certificates (leaf first).
    package init(certificates: [Certificate]) throws {
        guard !certificates.isEmpty else { throw CertificateChainError.empty }
        self.certificates = certificates
    }

    /// The end-entity certificate.
    package var leaf: Certificate { certificates[0] }

    /// The leaf in DER, as revocation sends it.
    package func leafDER() throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(leaf)
        return serializer.serializedBytes
    }

    /// The certificates after the leaf.
    package var intermediates: [Certificate] { Array(certificates.dropFirst()) }

    /// How far in the future a new leaf's notBefore may lie (CA clock skew), in seconds.
    package static let clockSkewTolerance: TimeInterval = 3600

    /// The chain as PEM text, leaf first.
    package func pemRepresentation() throws -> String {
        try certificates.map { try $0.serializeAsPEM().pemString }.joined(separator: "\n") + "\n"
    }

    /// Checks the chain before installing it.
    ///
    /// - The leaf's public key is `expectedKey`'s.
    /// - The leaf's SAN DNS names equal `expectedNames` as a set (case-insensitive), and it has no other
    ///   subjectAltName: no IP address unless listed in `expectedIPAddresses` (network-order bytes; RFC 8738
    ///   identifiers), no URI, e-mail or other name.
    /// - Each certificate names the next as issuer and carries a signature the next one's key verifies.
    /// - `now` lies within the leaf's validity period (allowing ``clockSkewTolerance`` before its start).
    package func verify(
        expectedKey: SigningKey, expectedNames: [String], expectedIPAddresses: [[UInt8]] = [], now: Date
    ) throws {
        guard expectedKey.publicKeyMatches(leaf.publicKey) else { throw CertificateChainError.leafKeyMismatch }
        let info = try CertificateInfo(certificate: leaf)
        let actual = info.dnsNames
        let normalise = { (names: [String]) in Set(names.map { $0.lowercased() }) }
        // IP address identifiers among the names are expected as iPAddress SANs.
        let expectedIPAddresses = expectedIPAddresses + expectedNames.compactMap(IPAddressText.bytes)
        let expectedNames = expectedNames.filter { !IPAddressText.isAddress($0) }
        try SubjectAltNameCheck(dnsNames: normalise(expectedNames), ipAddresses: Set(expectedIPAddresses))
            .check(leaf)
        let expectedAddressText = expectedIPAddresses.compactMap(IPAddressText.text)
        guard normalise(actual) == normalise(expectedNames), Set(info.ipAddresses) == Set(expectedAddressText) else {
            throw CertificateChainError.namesMismatch(
                expected: expectedNames.sorted() + expectedAddressText.sorted(),
                actual: actual.sorted() + info.ipAddresses.sorted())
        }
        for index in certificates.indices.dropLast() {
            let certificate = certificates[index]
            let issuer = certificates[index + 1]
            guard certificate.issuer == issuer.subject else {
                throw CertificateChainError.issuerMismatch(
                    index: index,
                    subject: certificate.subject.description,
                    issuer: issuer.subject.description
                )
            }
            guard issuer.publicKey.isValidSignature(certificate.signature, for: certificate) else {
                throw CertificateChainError.badSignature(index: index, subject: certificate.subject.description)
            }
        }
        // A CA's clock may run slightly ahead of ours: a leaf that starts within the hour is accepted.
        guard now.addingTimeInterval(Self.clockSkewTolerance) >= leaf.notValidBefore else {
            throw CertificateChainError.notYetValid(notBefore: leaf.notValidBefore)
        }
        guard now < leaf.notValidAfter else { throw CertificateChainError.expired(notAfter: leaf.notValidAfter) }
    }
}

extension CertificateChain {
    /// The Common Name of the issuer of the topmost certificate: the root the chain leads to, as certbot's and lego's
    /// `--preferred-chain` name it (e.g. "ISRG Root X1"). The whole issuer name when it has no Common Name.
    package var rootIssuerName: String {
        let issuer = certificates[certificates.count - 1].issuer
        for rdn in issuer {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                return "\(attribute.value)"
            }
        }
        return "\(issuer)"
    }

    /// The Common Names of every certificate's issuer, leaf first.
    package var issuerNames: [String] {
        certificates.compactMap { certificate in
            for rdn in certificate.issuer {
                for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                    return "\(attribute.value)"
                }
            }
            return nil
        }
    }

    /// True when this chain leads to `name`: the topmost certificate's issuer, or any certificate's issuer, has that
    /// Common Name (certbot compares the topmost issuer, lego any issuer; both are accepted).
    package func leads(to name: String) -> Bool {
        rootIssuerName == name || issuerNames.contains(name)
    }
}
