#if canImport(Glibc)
    import Glibc
#endif

/// A user and group to give new files and directories.
package struct FileOwner: Sendable, Hashable {
    package var uid: uid_t
    package var gid: gid_t

    package init(uid: uid_t, gid: gid_t) {
        self.uid = uid
        self.gid = gid
    }

    /// The owner of the directory at `path` when this process runs as root and the directory belongs to someone
    /// else (the service user's state directory, used by `certkeeper account ...` run as root); nil otherwise, when
    /// new files are the process's own anyway.
    ///
    /// A store that gives its new files this owner stays readable by the daemon whoever wrote to it.
    package static func forFiles(in path: String) -> FileOwner? {
        guard geteuid() == 0 else { return nil }
        var info = stat()
        guard stat(path, &info) == 0, info.st_uid != 0 else { return nil }
        return FileOwner(uid: info.st_uid, gid: info.st_gid)
    }
}
