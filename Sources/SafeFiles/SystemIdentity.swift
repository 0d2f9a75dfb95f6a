import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Resolves `owner`/`group` settings (names or numeric ids) to uid/gid with `getpwnam_r`/`getgrnam_r`.
package enum SystemIdentity {
    /// The uid for a user name or a decimal uid ("www-data", "33").
    package static func uid(forUser user: String) throws -> uid_t {
        if let numeric = uid_t(user) { return numeric }
        guard !user.isEmpty else { throw FileSystemError.unknownUser(user) }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>? = nil
        var size = 4096
        while size <= 1 << 20 {
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getpwnam_r(user, &entry, &buffer, size, &result)
            if rc == ERANGE {
                size *= 2
                continue
            }
            guard rc == 0, result != nil else { throw FileSystemError.unknownUser(user) }
            return entry.pw_uid
        }
        throw FileSystemError.unknownUser(user)
    }

    /// The gid for a group name or a decimal gid ("ssl-cert", "110").
    package static func gid(forGroup group: String) throws -> gid_t {
        if let numeric = gid_t(group) { return numeric }
        guard !group.isEmpty else { throw FileSystemError.unknownGroup(group) }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>? = nil
        var size = 4096
        while size <= 1 << 20 {
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getgrnam_r(group, &entry, &buffer, size, &result)
            if rc == ERANGE {
                size *= 2
                continue
            }
            guard rc == 0, result != nil else { throw FileSystemError.unknownGroup(group) }
            return entry.gr_gid
        }
        throw FileSystemError.unknownGroup(group)
    }

    /// The name of the group `gid`, or nil when it has none.
    package static func groupName(_ gid: gid_t) -> String? {
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>? = nil
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.gr_name
        else { return nil }
        return String(cString: name)
    }
}
