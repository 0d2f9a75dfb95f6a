import Foundation
import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

/// Installs a key and its certificates so that no reader sees a certificate without its key, and a crash at any
/// point leaves a usable pair behind.
///
/// **Default layout** (``InstallTarget/usesDefaultLayout``):
/// ```
/// STATE_DIR/archive/<name>/<n>/{privkey.pem,cert.pem,chain.pem,fullchain.pem}   one directory per version
/// STATE_DIR/live/<name> -> ../archive/<name>/<n>                                relative symlink
/// ```
/// The new version directory is written completely (each file fsynced), then a temp symlink is renamed over
/// `live/<name>`: one atomic switch, so a reader sees either the old pair or the new pair. The last
/// ``keepVersions`` versions are kept, so an old version stays readable for processes that opened it.
///
/// **Explicit paths**: missing directories are created (0755); every file is first staged as a complete temp file
/// next to its target (with owner, group and mode), then renamed into place key first, then cert, chain, fullchain.
/// Between the key rename and the fullchain rename (a few renames, microseconds) a reader may see the new key
/// with the old certificate; a crash exactly there leaves that mismatch until the next run, which re-installs
/// (the daemon compares the installed key and certificate on start). A failure before the key rename leaves all
/// previous files untouched.
package struct CertificateInstaller: Sendable {
    /// Versions kept under `archive/<name>/` in the default layout (the live one included).
    package var keepVersions: Int
    /// Test seam: called at each ``InstallStep``; throwing aborts the install there like a crash would.
    package var faultHook: (@Sendable (InstallStep) throws -> Void)?

    package init(keepVersions: Int = 3, faultHook: (@Sendable (InstallStep) throws -> Void)? = nil) {
        self.keepVersions = max(1, keepVersions)
        self.faultHook = faultHook
    }

    /// Installs one certificate.
    ///
    /// - Parameters:
    ///   - name: the certificate name (validated as a path component).
    ///   - keyPEM: the private key.
    ///   - fullchainPEM: leaf followed by intermediates.
    ///   - certPEM: the leaf only.
    ///   - chainPEM: the intermediates only.
    ///   - spec: where to install and with which owner, group and key mode.
    ///   - stateDirectory: certkeeper's state directory (for the default layout).
    /// - Returns: the paths to hand to deploy hooks.
    package func install(
        name: String, keyPEM: String, fullchainPEM: String, certPEM: String, chainPEM: String, spec: InstallTarget,
        stateDirectory: String
    ) throws -> InstalledPaths {
        try StateName.validate(name, kind: "certificate name")
        guard spec.keyMode & 0o007 == 0, spec.keyMode <= 0o777 else {
            throw InstallerError.unsafeKeyMode(certificate: name, mode: spec.keyMode)
        }
        let owner = try spec.owner.map { try SystemIdentity.uid(forUser: $0) }
        let group = try spec.group.map { try SystemIdentity.gid(forGroup: $0) }
        let files = PEMFiles(key: keyPEM, fullchain: fullchainPEM, cert: certPEM, chain: chainPEM)
        let access = FileAccess(owner: owner, group: group, keyMode: mode_t(spec.keyMode))
        if spec.usesDefaultLayout {
            return try installDefault(name: name, files: files, access: access, stateDirectory: stateDirectory)
        }
        return try installExplicit(name: name, files: files, access: access, spec: spec)
    }

    /// Largest key or chain file read back: real ones are a few kilobytes.
    static let maxPEMSize = 1 << 20

    /// The installed full chain and key, for adoption and reconciliation; nil when either is missing or unreadable.
    ///
    /// Read as ``SafePath/readFile(_:maxSize:)`` does: a FIFO or device never blocks, a link another user planted is
    /// not followed.
    package static func readInstalled(name: String, target: InstallTarget, stateDirectory: String)
        -> (fullchainPEM: String, keyPEM: String)?
    {
        let fullchainPath: String
        let keyPath: String
        if target.usesDefaultLayout {
            guard StateName.isValid(name) else { return nil }
            let live = stateDirectory + "/live/" + name
            fullchainPath = live + "/fullchain.pem"
            keyPath = live + "/privkey.pem"
        } else {
            guard let fullchain = target.fullchain, let key = target.key else { return nil }
            fullchainPath = fullchain
            keyPath = key
        }
        guard let files = try? SafePath.readFiles([fullchainPath, keyPath], maxSize: maxPEMSize),
            let fullchain = files[0], let key = files[1]
        else { return nil }
        return (String(decoding: fullchain, as: UTF8.self), String(decoding: key, as: UTF8.self))
    }
}

/// The four PEM documents of one installation.
struct PEMFiles {
    var key: String
    var fullchain: String
    var cert: String
    var chain: String
}

/// Resolved ownership and the key mode.
struct FileAccess {
    var owner: uid_t?
    var group: gid_t?
    var keyMode: mode_t
    static let certificateMode: mode_t = 0o644
    static let directoryMode: mode_t = 0o755
}
