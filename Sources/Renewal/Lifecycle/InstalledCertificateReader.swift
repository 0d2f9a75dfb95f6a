import ACMECrypto
import CertkeeperConfig
import Installer
import SafeFiles

/// What is installed for a spec right now, read from its install paths.
package struct InstalledCertificate: Sendable {
    package var info: CertificateInfo
    package var keyPEM: String
    package var keyType: KeyType?
    /// True when the installed key is the key of the installed leaf.
    package var keyMatches: Bool
    /// RFC 9773 CertID of the installed leaf (nil without an Authority Key Identifier).
    package var ariCertID: String?
    /// The leaf in DER (for revocation).
    package var leafDER: [UInt8]?
}

extension InstallSpec {
    /// The installer's view of these settings.
    package var target: InstallTarget {
        InstallTarget(
            fullchain: fullchain, key: key, cert: cert, chain: chain, owner: owner, group: group, keyMode: keyMode)
    }
}

/// Reads the installed certificate and key for a spec (nil when missing or unreadable).
package enum InstalledCertificateReader {
    /// ``read(spec:stateDirectory:)`` on a thread of ``BlockingIO``, so a slow file system never stalls the
    /// cooperative pool (and with it status, reload and shutdown).
    package static func load(spec: CertificateSpec, stateDirectory: String) async -> InstalledCertificate? {
        await BlockingIO.run { read(spec: spec, stateDirectory: stateDirectory) }
    }

    /// Reads synchronously, on the calling thread.
    package static func read(spec: CertificateSpec, stateDirectory: String) -> InstalledCertificate? {
        guard
            let installed = CertificateInstaller.readInstalled(
                name: spec.name, target: spec.install.target, stateDirectory: stateDirectory),
            let chain = try? CertificateChain(pem: installed.fullchainPEM),
            let info = try? CertificateInfo(certificate: chain.leaf)
        else { return nil }
        let key = try? SigningKey(pemRepresentation: installed.keyPEM)
        return InstalledCertificate(
            info: info, keyPEM: installed.keyPEM, keyType: key?.keyType,
            keyMatches: key.map { $0.publicKeyMatches(chain.leaf.publicKey) } ?? false,
            ariCertID: try? ARICertID.make(for: chain.leaf), leafDER: try? chain.leafDER())
    }
}
