import ACMECrypto
import Foundation
import X509

/// Builds small CA -> leaf chains with swift-certificates for verification tests.
enum TestCertificates {
    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)

    static func ca(name: String, key: SigningKey, issuerKey: SigningKey? = nil, issuerName: String? = nil) throws
        -> Certificate
    {
        try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.certificatePrivateKey.publicKey,
            notValidBefore: epoch - 86400,
            notValidAfter: epoch + 86400 * 365,
            issuer: try DistinguishedName { CommonName(issuerName ?? name) },
            subject: try DistinguishedName { CommonName(name) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            },
            issuerPrivateKey: (issuerKey ?? key).certificatePrivateKey
        )
    }

    static func leaf(
        names: [String],
        key: SigningKey,
        issuerName: String,
        issuerKey: SigningKey,
        serial: Certificate.SerialNumber = Certificate.SerialNumber(),
        aki: [UInt8]? = nil,
        notBefore: Date = epoch - 3600,
        lifetime: TimeInterval = 90 * 86400
    ) throws -> Certificate {
        try Certificate(
            version: .v3,
            serialNumber: serial,
            publicKey: key.certificatePrivateKey.publicKey,
            notValidBefore: notBefore,
            notValidAfter: notBefore + lifetime,
            issuer: try DistinguishedName { CommonName(issuerName) },
            subject: try DistinguishedName { CommonName(names[0]) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                SubjectAlternativeNames(names.map { GeneralName.dnsName($0) })
                if let aki { AuthorityKeyIdentifier(keyIdentifier: aki[...]) }
            },
            issuerPrivateKey: issuerKey.certificatePrivateKey
        )
    }

    static func pem(_ certificates: [Certificate]) throws -> String {
        try certificates.map { try $0.serializeAsPEM().pemString }.joined(separator: "\n")
    }
}
