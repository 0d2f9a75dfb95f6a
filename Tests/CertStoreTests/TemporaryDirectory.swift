import Foundation

/// A fresh directory under /tmp, removed on deinit.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/certstore-test-XXXXXX").utf8CString)
        guard let result = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: result)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func mode(_ relative: String) -> mode_t {
        var info = stat()
        stat(path + "/" + relative, &info)
        return info.st_mode & 0o7777
    }

    func contents(_ relative: String) -> String? {
        FileManager.default.contents(atPath: path + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }

    func entries(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/" + relative)) ?? []).sorted()
    }
}

struct InjectedFault: Error {}
