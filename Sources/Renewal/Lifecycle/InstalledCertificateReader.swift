import ACMECrypto
import ACMEModels
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
    /// The issuer Common Name of the installed chain's topmost certificate (the root it leads to).
    package var chainRoot: String?
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
    /// event loops that run Swift concurrency (and with them status, reload and shutdown).
    package static func load(spec: CertificateSpec, stateDirectory: String) async -> InstalledCertificate? {
        await load(name: spec.name, target: spec.install.target, stateDirectory: stateDirectory)
    }

    /// ``load(spec:stateDirectory:)`` by name and install target: what `delete --revoke` reads once the spec is gone
    /// (`InstallTarget()`: the default layout).
    package static func load(name: String, target: InstallTarget, stateDirectory: String) async
        -> InstalledCertificate?
    {
        await BlockingIO.run { read(name: name, target: target, stateDirectory: stateDirectory) }
    }

    /// Reads synchronously, on the calling thread.
    package static func read(spec: CertificateSpec, stateDirectory: String) -> InstalledCertificate? {
        read(name: spec.name, target: spec.install.target, stateDirectory: stateDirectory)
    }

    static func read(name: String, target: InstallTarget, stateDirectory: String) -> InstalledCertificate? {
        guard
            let installed = CertificateInstaller.readInstalled(
                name: name, target: target, stateDirectory: stateDirectory),
            let chain = try? CertificateChain(pem: installed.fullchainPEM),
            let info = try? CertificateInfo(certificate: chain.leaf)
        else { return nil }
        let key = try? SigningKey(pemRepresentation: installed.keyPEM)
        return InstalledCertificate(
            info: info, keyPEM: installed.keyPEM, keyType: key?.keyType,
            keyMatches: key.map { $0.publicKeyMatches(chain.leaf.publicKey) } ?? false,
            ariCertID: try? ARICertID.make(for: chain.leaf), leafDER: try? chain.leafDER(),
            chainRoot: UntrustedText.sanitized(chain.rootIssuerName, maxBytes: 128))
    }
}
