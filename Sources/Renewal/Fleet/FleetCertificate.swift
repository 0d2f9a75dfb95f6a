import ACMECrypto
import CertStore
import CertkeeperConfig
import Foundation

extension IssuedCertificate {
    /// A certificate another node published, checked as if this node had downloaded it: the chain verifies, the leaf
    /// names exactly this node's spec's domains, the key is the leaf's, and it is valid at `now`.
    package init(shared: SharedCertificate, spec: CertificateSpec, now: Date) throws {
        let chain = try CertificateChain(pem: shared.fullchainPEM)
        let key = try SigningKey(pemRepresentation: shared.keyPEM)
        try chain.verify(expectedKey: key, expectedNames: spec.domains, now: now)
        self.init(
            keyPEM: shared.keyPEM, fullchainPEM: try chain.pemRepresentation(),
            certPEM: try CertificateChain(certificates: [chain.leaf]).pemRepresentation(),
            chainPEM: chain.intermediates.isEmpty
                ? "" : try CertificateChain(certificates: chain.intermediates).pemRepresentation(),
            info: try CertificateInfo(certificate: chain.leaf), ariCertID: try? ARICertID.make(for: chain.leaf))
    }
}

extension SharedCertificate {
    /// What this node publishes for the fleet after an order.
    package init(issued: IssuedCertificate, name: String, publishedBy: String) {
        self.init(
            name: name, serial: issued.info.serialHex, fullchainPEM: issued.fullchainPEM, keyPEM: issued.keyPEM,
            notAfter: issued.info.notAfter, publishedBy: publishedBy)
    }
}
