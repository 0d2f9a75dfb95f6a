import CertStore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension CertificateInstaller {
    /// `archive/<name>/<n>/` written completely, then `live/<name>` switched with one rename.
    func installDefault(name: String, files: PEMFiles, access: FileAccess, stateDirectory: String) throws
        -> InstalledPaths
    {
        let liveDirectory = stateDirectory + "/live"
        let archiveDirectory = stateDirectory + "/archive/" + name
        let livePath = liveDirectory + "/" + name
        try AtomicFile.ensureDirectory(liveDirectory, mode: FileAccess.directoryMode)
        try AtomicFile.ensureDirectory(archiveDirectory, mode: FileAccess.directoryMode)
        let current = try currentVersion(livePath: livePath, name: name)
        // A version newer than the live one was never switched in: a crash (kill -9) stopped its install. Remove it.
        for abandoned in versions(in: archiveDirectory) where abandoned > (current ?? 0) {
            removeVersion(archiveDirectory + "/\(abandoned)")
        }

        var version = (versions(in: archiveDirectory).max() ?? 0) + 1
        while mkdir(archiveDirectory + "/\(version)", FileAccess.directoryMode) != 0 {
            guard errno == EEXIST else {
                throw CertStoreError.io(operation: "mkdir", path: archiveDirectory + "/\(version)", errno: errno)
            }
            version += 1
        }
        let versionDirectory = archiveDirectory + "/\(version)"
        let tempLink = liveDirectory + "/." + name + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        do {
            guard chmod(versionDirectory, FileAccess.directoryMode) == 0 else {
                throw CertStoreError.io(operation: "chmod", path: versionDirectory, errno: errno)
            }
            try write(files.key, versionDirectory + "/privkey.pem", access.keyMode, access)
            try write(files.cert, versionDirectory + "/cert.pem", FileAccess.certificateMode, access)
            try write(files.chain, versionDirectory + "/chain.pem", FileAccess.certificateMode, access)
            try write(files.fullchain, versionDirectory + "/fullchain.pem", FileAccess.certificateMode, access)
            try AtomicFile.syncDirectory(archiveDirectory)
            try faultHook?(.versionWritten(directory: versionDirectory))

            guard symlink("../archive/\(name)/\(version)", tempLink) == 0 else {
                throw CertStoreError.io(operation: "symlink", path: tempLink, errno: errno)
            }
            guard rename(tempLink, livePath) == 0 else {
                throw CertStoreError.io(operation: "rename \(tempLink) to", path: livePath, errno: errno)
            }
        } catch {
            unlink(tempLink)
            removeVersion(versionDirectory)
            throw error
        }
        try AtomicFile.syncDirectory(liveDirectory)
        try faultHook?(.switched)
        prune(archiveDirectory: archiveDirectory, keeping: [version, current].compactMap { $0 })
        return InstalledPaths(
            fullchain: livePath + "/fullchain.pem", key: livePath + "/privkey.pem", cert: livePath + "/cert.pem",
            chain: livePath + "/chain.pem")
    }

    private func write(_ text: String, _ path: String, _ mode: mode_t, _ access: FileAccess) throws {
        try AtomicFile.write(Array(text.utf8), to: path, mode: mode, owner: access.owner, group: access.group)
    }

    /// The version `live/<name>` points at, nil when it does not exist; throws when it is not our symlink.
    private func currentVersion(livePath: String, name: String) throws -> Int? {
        var info = stat()
        guard lstat(livePath, &info) == 0 else { return nil }
        guard (info.st_mode & S_IFMT) == S_IFLNK,
            let target = try? FileManager.default.destinationOfSymbolicLink(atPath: livePath)
        else { throw InstallerError.unmanagedLivePath(certificate: name, path: livePath) }
        return Int((target as NSString).lastPathComponent)
    }

    private func versions(in directory: String) -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap { Int($0) }
    }

    /// Removes all but the newest ``keepVersions`` versions, never one in `keeping`. Best effort.
    private func prune(archiveDirectory: String, keeping: [Int]) {
        let sorted = versions(in: archiveDirectory).sorted(by: >)
        for version in sorted.dropFirst(keepVersions) where !keeping.contains(version) {
            removeVersion(archiveDirectory + "/\(version)")
        }
    }

    private func removeVersion(_ directory: String) {
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            unlink(directory + "/" + file)
        }
        rmdir(directory)
    }
}
