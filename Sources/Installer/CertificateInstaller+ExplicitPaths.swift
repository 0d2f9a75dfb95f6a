import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

extension CertificateInstaller {
    /// Stage every file, then rename key, cert, chain, fullchain in that order; each through its directory's
    /// descriptor (see ``SafePath``), so an install directory another user controls cannot redirect a write.
    func installExplicit(name: String, files: PEMFiles, access: FileAccess, spec: InstallTarget) throws
        -> InstalledPaths
    {
        guard let fullchainPath = spec.fullchain else {
            throw InstallerError.incompleteTarget(certificate: name, missing: "fullchain")
        }
        guard let keyPath = spec.key else { throw InstallerError.incompleteTarget(certificate: name, missing: "key") }
        var plan: [(path: String, text: String, mode: mode_t)] = [(keyPath, files.key, access.keyMode)]
        if let cert = spec.cert { plan.append((cert, files.cert, FileAccess.certificateMode)) }
        if let chain = spec.chain { plan.append((chain, files.chain, FileAccess.certificateMode)) }
        plan.append((fullchainPath, files.fullchain, FileAccess.certificateMode))
        for item in plan where !item.path.hasPrefix("/") {
            throw InstallerError.relativePath(certificate: name, path: item.path)
        }

        var staged: [StagedFile] = []
        do {
            for item in plan {
                let (directory, file) = try SafePath.parent(
                    of: item.path, create: DirectoryCreation(mode: FileAccess.directoryMode))
                try directory.checkReplaceable(file)
                staged.append(
                    try directory.stage(
                        Array(item.text.utf8), as: file, mode: item.mode, owner: access.owner, group: access.group))
            }
            try faultHook?(.staged)
        } catch {
            for file in staged { file.discard() }
            throw error
        }
        var pending = staged[...]
        do {
            while let next = pending.first {
                try next.commit()
                pending = pending.dropFirst()
                // The key is first in the plan.
                if pending.count == staged.count - 1 { try faultHook?(.keyCommitted) }
            }
        } catch {
            for file in pending { file.discard() }
            throw error
        }
        return InstalledPaths(fullchain: fullchainPath, key: keyPath, cert: spec.cert, chain: spec.chain)
    }
}
