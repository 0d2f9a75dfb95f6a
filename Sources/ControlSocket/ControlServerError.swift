import UnixSockets

/// Why the control socket could not be set up.
package enum ControlServerError: Error, CustomStringConvertible, Equatable {
    /// The socket's directory does not exist.
    case directoryMissing(path: String)
    /// Something that is not a socket occupies the path; it is never deleted automatically.
    case notASocket(path: String)
    /// Another process accepts connections on the path.
    case alreadyInUse(path: String)
    /// The path does not fit into `sockaddr_un`.
    case pathTooLong(path: String, limit: Int)
    /// A system call failed.
    case systemCall(String, path: String, errno: Int32)

    /// A one-line explanation that names the path and what to do.
    package var description: String {
        switch self {
        case .directoryMissing(let path):
            "control socket \(path): directory does not exist; set RuntimeDirectory= in the unit or create it"
        case .notASocket(let path):
            "control socket \(path): the path exists and is not a socket; remove it or choose another path"
        case .alreadyInUse(let path):
            "control socket \(path): another instance is already listening there; stop it first"
        case .pathTooLong(let path, let limit):
            "control socket \(path): path is longer than \(limit) bytes; choose a shorter path"
        case .systemCall(let call, let path, let code):
            "control socket \(path): \(call) failed: \(errnoDescription(code)) (errno \(code))"
        }
    }
}
