import Foundation

/// A fresh directory under /tmp (0755, owned by the test process), removed on deinit.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/safefiles-test-XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: result)
        chmod(path, 0o755)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func mode(_ relative: String) -> mode_t { status(relative).st_mode & 0o7777 }

    func status(_ relative: String) -> stat {
        var info = stat()
        lstat(path + "/" + relative, &info)
        return info
    }

    func contents(_ relative: String) -> String? {
        FileManager.default.contents(atPath: path + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }

    func entries(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/" + relative)) ?? []).sorted()
    }

    /// Creates a directory (mode 0755) owned by `owner`, as a site owner's webroot or install directory would be.
    @discardableResult
    func makeDirectory(_ relative: String, owner: uid_t? = nil, mode: mode_t = 0o755) -> String {
        let full = path + "/" + relative
        mkdir(full, mode)
        chmod(full, mode)
        if let owner { chown(full, owner, owner) }
        return full
    }

    func write(_ relative: String, _ text: String, mode: mode_t = 0o600) {
        _ = FileManager.default.createFile(atPath: path + "/" + relative, contents: Data(text.utf8))
        chmod(path + "/" + relative, mode)
    }
}

private let umaskLock = NSLock()

/// Runs `body` with the process umask set to `mask`, restoring it afterwards (serialised: the umask is per process).
func withUmask<T>(_ mask: mode_t, _ body: () throws -> T) rethrows -> T {
    umaskLock.lock()
    defer { umaskLock.unlock() }
    let old = umask(mask)
    defer { umask(old) }
    return try body()
}

struct InjectedFault: Error {}

/// The uid tests use for a hostile site owner (Debian's `nobody`).
let siteOwner: uid_t = 65534
