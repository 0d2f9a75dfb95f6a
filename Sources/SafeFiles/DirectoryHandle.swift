import CFileSync

#if canImport(Glibc)
    import Glibc
#endif

/// An open directory: every operation is relative to its descriptor (`openat`, `mkdirat`, `renameat`, `unlinkat`,
/// `fchmod`, `fchown`), with `O_NOFOLLOW` on the last component, so a directory that another user can change cannot
/// redirect a write, a chmod or a chown elsewhere once it is open.
///
/// Obtain one with ``SafePath/openDirectory(_:create:)``, which applies the symlink policy to every component.
package final class DirectoryHandle: Sendable {
    /// The open descriptor (`O_DIRECTORY | O_CLOEXEC`), closed when the handle goes away.
    package let descriptor: Int32
    /// The path it was reached by, for messages only.
    package let path: String

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// The path of an entry, for messages.
    package func pathOf(_ name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    /// True when only root or this process's user can change the directory's entries: owned by one of them and
    /// writable by no one else (a group-writable directory counts only when its group is root's).
    ///
    /// Symbolic links are followed only in trusted directories.
    package var isTrusted: Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        return Self.isTrusted(info)
    }

    static func isTrusted(_ info: stat) -> Bool {
        let owner = info.st_uid == 0 || info.st_uid == geteuid() || TrustedOwner.uid == info.st_uid
        let groupWrite = info.st_mode & S_IWGRP != 0 && info.st_gid != 0
        return owner && !groupWrite && info.st_mode & S_IWOTH == 0
    }

    /// The directory's own `stat`.
    package func status() throws -> stat {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw FileSystemError.io(operation: "stat", path: path, errno: errno)
        }
        return info
    }

    /// What `name` is, without following a symbolic link.
    package func kind(of name: String) throws -> EntryKind {
        var info = stat()
        guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return .missing }
            throw FileSystemError.io(operation: "stat", path: pathOf(name), errno: errno)
        }
        return EntryKind(mode: info.st_mode)
    }

    /// Opens the subdirectory `name` (one component, never following a symbolic link), creating it when missing and
    /// `create` is given.
    package func openSubdirectory(_ name: String, create: DirectoryCreation? = nil) throws -> DirectoryHandle {
        let full = pathOf(name)
        var fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 { return DirectoryHandle(descriptor: fd, path: full) }
        var code = errno
        if code == ENOENT, let create {
            var created = false
            if mkdirat(descriptor, name, 0o700) == 0 {
                created = true
            } else if errno != EEXIST {
                throw FileSystemError.io(operation: "create directory", path: full, errno: errno)
            }
            fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            code = errno
            if fd >= 0 {
                let handle = DirectoryHandle(descriptor: fd, path: full)
                if created {
                    try handle.applyCreation(create, parent: self)
                    if create.durable { try sync() }
                }
                return handle
            }
        }
        switch try kind(of: name) {
        case .symlink: throw FileSystemError.symlinkRefused(path: full, directory: path)
        case .regular, .special: throw FileSystemError.notDirectory(path: full)
        default: throw FileSystemError.io(operation: "open directory", path: full, errno: code)
        }
    }

    private func applyCreation(_ create: DirectoryCreation, parent: DirectoryHandle) throws {
        var owner: FileOwner?
        switch create.ownership {
        case .process: owner = nil
        case .explicit(let given): owner = given
        case .inheritFromParent:
            if geteuid() == 0 {
                let parentInfo = try parent.status()
                owner = FileOwner(uid: parentInfo.st_uid, gid: parentInfo.st_gid)
            }
        }
        if let owner {
            guard fchown(descriptor, owner.uid, owner.gid) == 0 else {
                throw FileSystemError.io(operation: "chown", path: path, errno: errno)
            }
        }
        guard fchmod(descriptor, create.mode) == 0 else {
            throw FileSystemError.io(operation: "chmod", path: path, errno: errno)
        }
    }

    /// Reads the regular file `name`, or returns nil when it does not exist.
    ///
    /// Opened with `O_NOFOLLOW | O_NONBLOCK` (a FIFO cannot block the read), insisted on being a regular file with
    /// `fstat`, and refused when larger than `maxSize`.
    package func readFile(_ name: String, maxSize: Int) throws -> [UInt8]? {
        let full = pathOf(name)
        let fd = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return nil }
            if code == ELOOP { throw FileSystemError.symlinkRefused(path: full, directory: path) }
            throw FileSystemError.io(operation: "open", path: full, errno: code)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileSystemError.io(operation: "stat", path: full, errno: errno) }
        let kind = EntryKind(mode: info.st_mode)
        guard kind == .regular else { throw FileSystemError.notRegularFile(path: full, kind: kind.description) }
        guard info.st_size <= maxSize else { throw FileSystemError.tooLarge(path: full, limit: maxSize) }
        var result: [UInt8] = []
        result.reserveCapacity(Int(info.st_size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSystemError.io(operation: "read", path: full, errno: errno)
            }
            if count == 0 { break }
            guard result.count + count <= maxSize else { throw FileSystemError.tooLarge(path: full, limit: maxSize) }
            result.append(contentsOf: buffer[0..<count])
        }
        return result
    }

    /// Throws unless `name` is missing or a regular file, or a symbolic link in a trusted directory (which a rename
    /// replaces without touching what it points to).
    package func checkReplaceable(_ name: String) throws {
        switch try kind(of: name) {
        case .missing, .regular: return
        case .symlink:
            guard isTrusted else { throw FileSystemError.symlinkRefused(path: pathOf(name), directory: path) }
        case .directory: throw FileSystemError.notRegularFile(path: pathOf(name), kind: "directory")
        case .special(let kind): throw FileSystemError.notRegularFile(path: pathOf(name), kind: kind)
        }
    }

    /// Writes a complete, fsynced temp file next to `name` (created `O_EXCL | O_NOFOLLOW`, chowned and chmodded
    /// through its descriptor) without touching `name` yet. With `durable: false` it is not fsynced: whoever commits
    /// it must make its data durable first (``syncFileSystem()``), or accept losing it.
    package func stage(
        _ bytes: some Sequence<UInt8>, as name: String, mode: mode_t, owner: uid_t? = nil, group: gid_t? = nil,
        durable: Bool = true
    ) throws -> StagedFile {
        let tempName = ".\(name).tmp-\(Self.randomSuffix())"
        let tempPath = pathOf(tempName)
        let fd = openat(descriptor, tempName, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0o600)
        guard fd >= 0 else { throw FileSystemError.io(operation: "create", path: tempPath, errno: errno) }
        do {
            try Self.writeAll(fd: fd, bytes: Array(bytes), path: tempPath)
            if owner != nil || group != nil {
                // fchown first: it may clear mode bits, so the explicit fchmod comes after it.
                guard fchown(fd, owner ?? uid_t.max, group ?? gid_t.max) == 0 else {
                    throw FileSystemError.io(operation: "chown", path: tempPath, errno: errno)
                }
            }
            guard fchmod(fd, mode) == 0 else {
                throw FileSystemError.io(operation: "chmod", path: tempPath, errno: errno)
            }
            if durable {
                guard fsync(fd) == 0 else {
                    throw FileSystemError.io(operation: "fsync", path: tempPath, errno: errno)
                }
            }
            guard close(fd) == 0 else { throw FileSystemError.io(operation: "close", path: tempPath, errno: errno) }
        } catch {
            close(fd)
            unlinkat(descriptor, tempName, 0)
            throw error
        }
        return StagedFile(directory: self, tempName: tempName, finalName: name)
    }

    /// Replaces `name` with `bytes` atomically (stage, then rename); see ``stage(_:as:mode:owner:group:)``.
    ///
    /// `beforeRename` is a test seam called after the temp file is complete; throwing from it behaves like a crash
    /// there (the temp file is removed, the old file kept).
    package func write(
        _ bytes: some Sequence<UInt8>, as name: String, mode: mode_t, owner: uid_t? = nil, group: gid_t? = nil,
        beforeRename: (() throws -> Void)? = nil
    ) throws {
        try checkReplaceable(name)
        let staged = try stage(bytes, as: name, mode: mode, owner: owner, group: group)
        do {
            try beforeRename?()
            try staged.commit()
        } catch {
            staged.discard()
            throw error
        }
    }

    /// `renameat` within this directory.
    package func rename(_ from: String, to: String) throws {
        guard renameat(descriptor, from, descriptor, to) == 0 else {
            throw FileSystemError.io(operation: "rename \(pathOf(from)) to", path: pathOf(to), errno: errno)
        }
    }

    /// Creates the symbolic link `name` pointing at `target`, owned by `owner` when one is given (the link itself).
    package func symlink(_ target: String, as name: String, owner: FileOwner? = nil) throws {
        guard symlinkat(target, descriptor, name) == 0 else {
            throw FileSystemError.io(operation: "symlink", path: pathOf(name), errno: errno)
        }
        if let owner, fchownat(descriptor, name, owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW) != 0 {
            let code = errno
            unlinkat(descriptor, name, 0)
            throw FileSystemError.io(operation: "chown symlink", path: pathOf(name), errno: code)
        }
    }

    /// The target of the symbolic link `name`, nil when it is not one.
    package func linkTarget(_ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(descriptor, name, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Removes the entry `name` (not a directory); a missing one is not an error.
    package func remove(_ name: String) throws {
        guard unlinkat(descriptor, name, 0) == 0 || errno == ENOENT else {
            throw FileSystemError.io(operation: "remove", path: pathOf(name), errno: errno)
        }
    }

    /// Removes the directory `name` and the files directly in it; a symbolic link or file there is removed itself,
    /// never followed. Best effort.
    package func removeFlatDirectory(_ name: String) {
        if let child = try? openSubdirectory(name) {
            for entry in (try? child.entries()) ?? [] { unlinkat(child.descriptor, entry, 0) }
            unlinkat(descriptor, name, AT_REMOVEDIR)
        } else {
            unlinkat(descriptor, name, 0)
        }
    }

    /// Creates the subdirectory `name` as `create` says and opens it; throws `EEXIST` as an io error when it exists.
    package func makeSubdirectory(_ name: String, _ create: DirectoryCreation) throws -> DirectoryHandle {
        guard mkdirat(descriptor, name, 0o700) == 0 else {
            throw FileSystemError.io(operation: "create directory", path: pathOf(name), errno: errno)
        }
        let child = try openSubdirectory(name)
        try child.applyCreation(create, parent: self)
        return child
    }

    /// The names in the directory, without `.` and `..`.
    package func entries() throws -> [String] {
        let copy = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw FileSystemError.io(operation: "list", path: path, errno: errno)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Gives the file `from` the name `to` too (`linkat`) unless `to` exists: false then, and nothing changed. The
    /// atomic "create only if absent" a rename cannot do.
    package func linkIfAbsent(_ from: String, as to: String) throws -> Bool {
        guard linkat(descriptor, from, descriptor, to, 0) == 0 else {
            if errno == EEXIST { return false }
            throw FileSystemError.io(operation: "link \(pathOf(from)) to", path: pathOf(to), errno: errno)
        }
        return true
    }

    /// Flushes the directory's entries (new names, renames) to disk.
    package func sync() throws {
        guard fsync(descriptor) == 0 else {
            throw FileSystemError.io(operation: "fsync directory", path: path, errno: errno)
        }
    }

    /// `syncfs(2)`: everything written on this directory's file system reaches the disk, in one call (what many
    /// files staged with `durable: false` wait for, instead of one fsync each).
    package func syncFileSystem() throws {
        guard certkeeper_syncfs(descriptor) == 0 else {
            throw FileSystemError.io(operation: "syncfs", path: path, errno: errno)
        }
    }

    static func randomSuffix() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt64, radix: 36)
    }

    private static func writeAll(fd: Int32, bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw FileSystemError.io(operation: "write", path: path, errno: errno)
            }
            offset += written
        }
    }
}
