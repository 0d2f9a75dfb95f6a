import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's own user, trusted like root when a command runs as root on its state directory (`certkeeper revoke`,
/// `delete`, `status`, `run --once` under sudo beside a daemon running as `certkeeper`): the links in `live/` are the
/// daemon's, made in directories it owns, and are followed as the daemon itself follows them. Nobody else is added.
package enum TrustedOwner {
    private static let trusted = Mutex<uid_t?>(nil)

    /// The extra trusted user, if one was set.
    static var uid: uid_t? { trusted.withLock { $0 } }

    /// Trusts the owner of the state directory at `path` when this process runs as root and that owner is another
    /// user (``FileOwner/forFiles(in:)``); does nothing otherwise.
    package static func trustOwner(ofStateDirectory path: String) {
        guard let owner = FileOwner.forFiles(in: path) else { return }
        trusted.withLock { $0 = owner.uid }
    }
}
