#if canImport(Glibc)
    import Glibc
#endif

/// Where the control socket lives: `$RUNTIME_DIRECTORY/control.sock` (set by `RuntimeDirectory=`),
/// else `/run/<daemon>/control.sock`.
package enum ControlSocketPath {
    /// The socket's file name inside the runtime directory.
    package static let fileName = "control.sock"

    /// The default control socket path.
    ///
    /// - Parameters:
    ///   - daemonName: the daemon's runtime directory name under /run when `$RUNTIME_DIRECTORY` is unset.
    ///   - environment: the environment to read; `nil` reads the process environment.
    package static func `default`(daemonName: String = "certkeeper", environment: [String: String]? = nil) -> String {
        let value: String?
        if let environment {
            value = environment["RUNTIME_DIRECTORY"]
        } else {
            value = getenv("RUNTIME_DIRECTORY").map { String(cString: $0) }
        }
        // Several RuntimeDirectory= entries are passed colon-separated; the first one is ours.
        if let first = value?.split(separator: ":").first, first.hasPrefix("/") {
            return (first.hasSuffix("/") ? String(first.dropLast()) : String(first)) + "/" + fileName
        }
        return "/run/\(daemonName)/\(fileName)"
    }
}
