#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Answers http-01 by writing the key authorization into a directory that an existing web server serves.
///
/// `present` writes `<webroot>/.well-known/acme-challenge/<token>` with the key authorization (no newline),
/// mode 0644 regardless of the umask, atomically (a temporary file in the same directory, then `rename`).
/// Missing directories below and including `webroot` are created with mode 0755.
/// `cleanUp` removes only that file; directories stay.
public struct WebrootHTTP01Solver: ChallengeSolver {
    /// The directory the web server serves as `/` for the domain, e.g. `/var/www/html`.
    public var webroot: String

    /// - Parameter webroot: The document root of the web server that answers `http://<domain>/` on port 80.
    public init(webroot: String) {
        self.webroot = webroot
    }

    /// The directory the token files go into.
    public var challengeDirectory: String {
        let base = self.webroot.hasSuffix("/") ? String(self.webroot.dropLast()) : self.webroot
        return base + "/.well-known/acme-challenge"
    }

    /// The file `present` writes for `token`.
    public func path(for token: ChallengeToken) -> String {
        self.challengeDirectory + "/" + token.value
    }

    public func present(_ task: ChallengeTask) async throws {
        let token = try ChallengeToken(task.token, domain: task.domain)
        try FileOps.makeDirectories(self.challengeDirectory, domain: task.domain)
        try FileOps.writeAtomically(
            Array(task.keyAuthorization.utf8),
            to: self.path(for: token),
            directory: self.challengeDirectory,
            domain: task.domain
        )
    }

    public func cleanUp(_ task: ChallengeTask) async throws {
        let token = try ChallengeToken(task.token, domain: task.domain)
        let path = self.path(for: token)
        if unlink(path) != 0 && errno != ENOENT {
            throw WebrootHTTP01Error(operation: "remove", path: path, domain: task.domain, errno: errno)
        }
    }
}

/// The POSIX file operations behind ``WebrootHTTP01Solver``.
private enum FileOps {
    static func makeDirectories(_ directory: String, domain: String) throws {
        var prefix = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, 0o755) == 0 {
                // mkdir's mode is filtered by the umask; make it exactly 0755.
                if chmod(prefix, 0o755) != 0 {
                    throw WebrootHTTP01Error(operation: "chmod 0755", path: prefix, domain: domain, errno: errno)
                }
                continue
            }
            let code = errno
            var info = stat()
            guard code == EEXIST, stat(prefix, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw WebrootHTTP01Error(operation: "create directory", path: prefix, domain: domain, errno: code)
            }
        }
    }

    static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String, domain: String) throws {
        let temporary = directory + "/.certkeeper-\(UInt64.random(in: 0...UInt64.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw WebrootHTTP01Error(operation: "create", path: temporary, domain: domain, errno: errno)
        }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            var written = 0
            while written < bytes.count {
                let result = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if result < 0 {
                    if errno == EINTR { continue }
                    throw WebrootHTTP01Error(operation: "write", path: temporary, domain: domain, errno: errno)
                }
                written += result
            }
            // Explicit mode: the web server (another user) must read it, whatever our umask is.
            if fchmod(fd, 0o644) != 0 {
                throw WebrootHTTP01Error(operation: "chmod 0644", path: temporary, domain: domain, errno: errno)
            }
            closed = true
            if close(fd) != 0 {
                throw WebrootHTTP01Error(operation: "close", path: temporary, domain: domain, errno: errno)
            }
            if rename(temporary, path) != 0 {
                throw WebrootHTTP01Error(operation: "rename into place", path: path, domain: domain, errno: errno)
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}

/// A file operation of ``WebrootHTTP01Solver`` failed.
public struct WebrootHTTP01Error: Error, Hashable, CustomStringConvertible {
    /// What was attempted, e.g. `create directory`, `write`, `remove`.
    public var operation: String
    /// The path the operation was on.
    public var path: String
    /// The identifier being validated.
    public var domain: String
    /// The `errno` value.
    public var errno: Int32

    init(operation: String, path: String, domain: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.domain = domain
        self.errno = errno
    }

    public var description: String {
        let reason = String(cString: strerror(self.errno))
        let hint: String
        switch self.errno {
        case EACCES, EPERM:
            hint =
                "give the certkeeper user write access to the directory, and if it runs under systemd "
                + "with ProtectSystem=, list the webroot in ReadWritePaths="
        case EROFS:
            hint = "the file system is read-only here; under systemd add the webroot to ReadWritePaths="
        case ENOENT, ENOTDIR:
            hint = "check the webroot setting for this certificate"
        case ENOSPC, EDQUOT:
            hint = "free some disk space"
        default:
            hint = "check the webroot setting and the directory's permissions"
        }
        return "http-01 webroot for \(self.domain): cannot \(self.operation) \(self.path): \(reason); \(hint)"
    }
}
