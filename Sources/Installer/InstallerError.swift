/// Why an installation or a reload was refused or failed.
package enum InstallerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The key mode grants access to "other" or has bits outside 0o777.
    case unsafeKeyMode(certificate: String, mode: UInt16)
    /// Only one of fullchain/key was given.
    case incompleteTarget(certificate: String, missing: String)
    /// An explicit path is not absolute.
    case relativePath(certificate: String, path: String)
    /// `live/<name>` exists but is not a symlink the installer manages.
    case unmanagedLivePath(certificate: String, path: String)
    /// A unit name that could be mistaken for an option or is not a systemd unit name.
    case invalidUnitName(String)

    package var description: String {
        switch self {
        case .unsafeKeyMode(let certificate, let mode):
            return
                "certificate \(certificate): key mode 0\(String(mode, radix: 8)) is readable by others; use 0600 or 0640"
        case .incompleteTarget(let certificate, let missing):
            return "certificate \(certificate): install.\(missing) is missing; give both fullchain and key, or neither"
        case .relativePath(let certificate, let path):
            return "certificate \(certificate): install path \"\(path)\" must be absolute"
        case .unmanagedLivePath(let certificate, let path):
            return
                "certificate \(certificate): \(path) exists and is not a symlink; move it aside so certkeeper can manage it"
        case .invalidUnitName(let unit):
            return "invalid systemd unit name \"\(unit)\""
        }
    }
}
