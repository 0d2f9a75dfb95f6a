import SafeFiles

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
/// Missing directories below and including `webroot` are created with mode 0755; run as root, a created directory
/// takes the owner and group of the one it is created in, so a site owner's webroot stays theirs to manage.
/// `cleanUp` removes only that file; directories stay.
///
/// The webroot usually belongs to another user (a site owner), so every step goes through directory descriptors
/// (``SafePath``): a symbolic link is followed only in a directory that only root or certkeeper's user can change,
/// so a site owner who swaps `.well-known` or `acme-challenge` for a link gets a refusal naming the path, never a
/// directory or file created elsewhere.
package struct WebrootHTTP01Solver: ChallengeSolver {
    /// The directory the web server serves as `/` for the domain, e.g. `/var/www/html`.
    package var webroot: String

    /// - Parameter webroot: The document root of the web server that answers `http://<domain>/` on port 80.
    package init(webroot: String) {
        self.webroot = webroot
    }

    /// The directory the token files go into.
    package var challengeDirectory: String {
        let base = self.webroot.hasSuffix("/") ? String(self.webroot.dropLast()) : self.webroot
        return base + "/.well-known/acme-challenge"
    }

    /// The file `present` writes for `token`.
    package func path(for token: ChallengeToken) -> String {
        self.challengeDirectory + "/" + token.value
    }

    package func present(_ task: ChallengeTask) async throws {
        let token = try ChallengeToken(task.token, domain: task.domain)
        do {
            let directory = try SafePath.openDirectory(
                challengeDirectory, create: DirectoryCreation(mode: 0o755, ownership: .inheritFromParent))
            // Explicit mode: the web server (another user) must read it, whatever our umask is.
            try directory.write(Array(task.keyAuthorization.utf8), as: token.value, mode: 0o644)
        } catch let error as FileSystemError {
            throw WebrootHTTP01Error(domain: task.domain, failure: error)
        }
    }

    package func cleanUp(_ task: ChallengeTask) async throws {
        let token = try ChallengeToken(task.token, domain: task.domain)
        do {
            let directory = try SafePath.openDirectory(challengeDirectory)
            try directory.remove(token.value)
        } catch let error as FileSystemError {
            if error.errno == ENOENT { return }
            throw WebrootHTTP01Error(domain: task.domain, failure: error)
        }
    }
}

/// A file operation of ``WebrootHTTP01Solver`` failed or was refused.
package struct WebrootHTTP01Error: Error, Hashable, CustomStringConvertible {
    /// The identifier being validated.
    package var domain: String
    /// What failed, naming the path.
    package var failure: FileSystemError

    package init(domain: String, failure: FileSystemError) {
        self.domain = domain
        self.failure = failure
    }

    package var description: String {
        guard let code = failure.errno else { return "http-01 webroot for \(domain): \(failure)" }
        let hint: String
        switch code {
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
        return "http-01 webroot for \(domain): cannot \(failure); \(hint)"
    }
}
