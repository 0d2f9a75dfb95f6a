#if canImport(Glibc)
    import Glibc
#endif

/// Resolves paths component by component with directory descriptors, so that no directory another user can change
/// redirects certkeeper (which may run as root) to a file elsewhere.
///
/// The policy, for every component including the last:
/// - a directory is opened with `openat(O_NOFOLLOW | O_DIRECTORY)` relative to the one before;
/// - a symbolic link is followed only when the directory holding it is trusted (owned by root or by certkeeper's
///   user and writable by no one else, see ``DirectoryHandle/isTrusted``), so `/var/run -> /run` or a link an
///   administrator made under `/etc` work, and a link a site owner planted in their webroot or install directory is
///   refused with ``FileSystemError/symlinkRefused(path:directory:)``;
/// - a missing directory is created with `mkdirat` and given its exact mode through its descriptor.
package enum SafePath {
    /// Symbolic links followed while resolving one path, as Linux's own limit.
    static let maxSymlinks = 40

    /// Opens the directory at `path` (absolute, or relative to the working directory), creating missing components
    /// when `create` is given.
    package static func openDirectory(_ path: String, create: DirectoryCreation? = nil) throws -> DirectoryHandle {
        var hops = 0
        return try walk(path, create: create, hops: &hops)
    }

    /// The directory holding `path`'s last component, opened as ``openDirectory(_:create:)`` does, and that
    /// component's name.
    package static func parent(of path: String, create: DirectoryCreation? = nil) throws -> (
        directory: DirectoryHandle, name: String
    ) {
        let (directoryPath, name) = split(path)
        guard !name.isEmpty, name != ".", name != ".." else {
            throw FileSystemError.notRegularFile(path: path, kind: "directory")
        }
        return (try openDirectory(directoryPath, create: create), name)
    }

    /// Reads the regular file at `path` (nil when it does not exist), following a symbolic link at any component only
    /// in a trusted directory; never blocks on a FIFO, refuses anything but a regular file and anything over `maxSize`.
    package static func readFile(_ path: String, maxSize: Int) throws -> [UInt8]? {
        var current = path
        for _ in 0...maxSymlinks {
            let (directory, name): (DirectoryHandle, String)
            do {
                (directory, name) = try parent(of: current)
            } catch let error as FileSystemError where error.errno == ENOENT {
                return nil
            }
            guard try directory.kind(of: name) == .symlink else {
                return try directory.readFile(name, maxSize: maxSize)
            }
            guard directory.isTrusted, let target = directory.linkTarget(name) else {
                throw FileSystemError.symlinkRefused(path: directory.pathOf(name), directory: directory.path)
            }
            current = target.hasPrefix("/") ? target : directory.pathOf(target)
        }
        throw FileSystemError.tooManySymlinks(path: path)
    }

    /// Reads `paths` as ``readFile(_:maxSize:)`` does, walking once to each directory they share (a certificate and
    /// its key usually sit side by side): one walk instead of one per file.
    package static func readFiles(_ paths: [String], maxSize: Int) throws -> [[UInt8]?] {
        var directories: [String: DirectoryHandle?] = [:]
        return try paths.map { path in
            let (directoryPath, name) = split(path)
            guard !name.isEmpty, name != ".", name != ".." else { return try readFile(path, maxSize: maxSize) }
            if directories[directoryPath] == nil {
                do {
                    directories[directoryPath] = .some(try openDirectory(directoryPath))
                } catch let error as FileSystemError where error.errno == ENOENT {
                    directories[directoryPath] = .some(nil)
                }
            }
            guard let directory = directories[directoryPath] ?? nil else { return nil }
            do {
                return try directory.readFile(name, maxSize: maxSize)
            } catch FileSystemError.symlinkRefused {
                // A link: followed (or refused) by the rules of a single read.
                return try readFile(path, maxSize: maxSize)
            }
        }
    }

    /// Splits a path into its directory and last component ("/a/b" -> ("/a", "b"), "b" -> (".", "b")).
    static func split(_ path: String) -> (String, String) {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return (".", String(trimmed)) }
        let directory = trimmed[..<slash]
        return (directory.isEmpty ? "/" : String(directory), String(trimmed[trimmed.index(after: slash)...]))
    }

    private static func walk(_ path: String, create: DirectoryCreation?, hops: inout Int) throws -> DirectoryHandle {
        let absolute = path.hasPrefix("/")
        var current = try start(absolute: absolute)
        // Components still to walk, the next one last.
        var pending: [String] = path.split(separator: "/").map(String.init).reversed()
        while let component = pending.popLast() {
            if component == "." { continue }
            do {
                current = try current.openSubdirectory(component, create: component == ".." ? nil : create)
            } catch FileSystemError.symlinkRefused(let linkPath, let directory) {
                // A link: follow it only from a trusted directory, and never more than Linux would.
                guard current.isTrusted, let target = current.linkTarget(component) else {
                    throw FileSystemError.symlinkRefused(path: linkPath, directory: directory)
                }
                hops += 1
                guard hops <= maxSymlinks else { throw FileSystemError.tooManySymlinks(path: path) }
                pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
                if target.hasPrefix("/") { current = try start(absolute: true) }
            }
        }
        return current
    }

    private static func start(absolute: Bool) throws -> DirectoryHandle {
        let origin = absolute ? "/" : "."
        let fd = open(origin, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError.io(operation: "open directory", path: origin, errno: errno) }
        return DirectoryHandle(descriptor: fd, path: absolute ? "/" : ".")
    }
}
