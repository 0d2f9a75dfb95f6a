import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

extension CertificateInstaller {
    /// `archive/<name>/<n>/` written completely, then `live/<name>` switched with one rename; every step through
    /// directory descriptors, so nothing planted under the state directory redirects a write.
    func installDefault(name: String, files: PEMFiles, access: FileAccess, stateDirectory: String) throws
        -> InstalledPaths
    {
        // Run as root on the daemon's state directory (`run --once`, `revoke` under sudo): what is created stays the
        // directory owner's, unless the spec names an owner or group, so the daemon can install the next version.
        let stateOwner = FileOwner.forFiles(in: stateDirectory)
        var access = access
        if access.owner == nil { access.owner = stateOwner?.uid }
        if access.group == nil { access.group = stateOwner?.gid }
        let creation = DirectoryCreation(mode: FileAccess.directoryMode, owner: stateOwner)
        let state = try SafePath.openDirectory(stateDirectory, create: creation)
        let live = try state.openSubdirectory("live", create: creation)
        let archive = try state.openSubdirectory("archive", create: creation).openSubdirectory(name, create: creation)
        // Paths as configured (for hooks and messages), whatever the walk resolved.
        let livePath = stateDirectory + "/live/" + name
        let current = try currentVersion(live: live, name: name, livePath: livePath)
        // A version newer than the live one was never switched in: a crash (kill -9) stopped its install. Remove it.
        for abandoned in versions(in: archive) where abandoned > (current ?? 0) {
            archive.removeFlatDirectory("\(abandoned)")
        }

        var version = (versions(in: archive).max() ?? 0) + 1
        var versionDirectory: DirectoryHandle
        while true {
            do {
                versionDirectory = try archive.makeSubdirectory("\(version)", creation)
                break
            } catch let error as FileSystemError where error.errno == EEXIST {
                version += 1
            }
        }
        let tempLink = "." + name + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        do {
            try write(files.key, versionDirectory, "privkey.pem", access.keyMode, access)
            try write(files.cert, versionDirectory, "cert.pem", FileAccess.certificateMode, access)
            try write(files.chain, versionDirectory, "chain.pem", FileAccess.certificateMode, access)
            try write(files.fullchain, versionDirectory, "fullchain.pem", FileAccess.certificateMode, access)
            try archive.sync()
            try faultHook?(.versionWritten(directory: versionDirectory.path))

            try live.symlink("../archive/\(name)/\(version)", as: tempLink, owner: stateOwner)
            try live.rename(tempLink, to: name)
        } catch {
            try? live.remove(tempLink)
            archive.removeFlatDirectory("\(version)")
            throw error
        }
        try live.sync()
        try faultHook?(.switched)
        prune(archive: archive, keeping: [version, current].compactMap { $0 })
        return InstalledPaths(
            fullchain: livePath + "/fullchain.pem", key: livePath + "/privkey.pem", cert: livePath + "/cert.pem",
            chain: livePath + "/chain.pem")
    }

    private func write(
        _ text: String, _ directory: DirectoryHandle, _ name: String, _ mode: mode_t, _ access: FileAccess
    )
        throws
    {
        try directory.write(Array(text.utf8), as: name, mode: mode, owner: access.owner, group: access.group)
    }

    /// The version `live/<name>` points at, nil when it does not exist or points elsewhere (the switch replaces
    /// such a link without following it); throws when it is not a symlink.
    private func currentVersion(live: DirectoryHandle, name: String, livePath: String) throws -> Int? {
        switch try live.kind(of: name) {
        case .missing: return nil
        case .symlink: return live.linkTarget(name).flatMap { Int(SafePathName.last($0)) }
        default: throw InstallerError.unmanagedLivePath(certificate: name, path: livePath)
        }
    }

    /// Removes `live/<name>` (the link, never what it points at) and `archive/<name>/` with every version in it;
    /// returns the paths removed. Missing ones are not an error; anything else than the layout certkeeper writes
    /// (a directory at `live/<name>`, a subdirectory inside a version) is left in place and reported.
    package func removeDefaultLayout(name: String, stateDirectory: String) throws -> [String] {
        try StateName.validate(name, kind: "certificate name")
        guard let state = try? SafePath.openDirectory(stateDirectory) else { return [] }
        var removed: [String] = []
        if let live = try? state.openSubdirectory("live") {
            switch try live.kind(of: name) {
            case .missing: break
            case .symlink:
                try live.remove(name)
                try live.sync()
                removed.append(stateDirectory + "/live/" + name)
            default: throw InstallerError.unmanagedLivePath(certificate: name, path: stateDirectory + "/live/" + name)
            }
        }
        if let archives = try? state.openSubdirectory("archive"), let archive = try? archives.openSubdirectory(name) {
            for version in versions(in: archive) { archive.removeFlatDirectory("\(version)") }
            guard unlinkat(archives.descriptor, name, AT_REMOVEDIR) == 0 else {
                throw FileSystemError.io(
                    operation: "remove directory (it holds files certkeeper did not write)",
                    path: stateDirectory + "/archive/" + name, errno: errno)
            }
            try archives.sync()
            removed.append(stateDirectory + "/archive/" + name)
        }
        return removed
    }

    private func versions(in archive: DirectoryHandle) -> [Int] {
        ((try? archive.entries()) ?? []).compactMap { Int($0) }
    }

    /// Removes all but the newest ``keepVersions`` versions, never one in `keeping`. Best effort.
    private func prune(archive: DirectoryHandle, keeping: [Int]) {
        let sorted = versions(in: archive).sorted(by: >)
        for version in sorted.dropFirst(keepVersions) where !keeping.contains(version) {
            archive.removeFlatDirectory("\(version)")
        }
    }
}

/// Path-name helpers without Foundation.
enum SafePathName {
    /// The last component of a path ("../archive/x/3" -> "3").
    static func last(_ path: String) -> Substring {
        path.split(separator: "/").last ?? ""
    }
}
