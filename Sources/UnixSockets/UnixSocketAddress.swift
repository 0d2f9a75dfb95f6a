#if canImport(Glibc)
    import Glibc
#endif

/// Builds `sockaddr_un` values for filesystem and abstract (`@name`) AF_UNIX socket paths.
package enum UnixSocketAddress {
    /// The longest path `sockaddr_un.sun_path` can hold, without the terminating NUL.
    package static let maxPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Calls `body` with a `sockaddr` for `path` and its length; `nil` if the path is empty or too long.
    /// A leading `@` denotes the abstract namespace (as in `$NOTIFY_SOCKET`).
    package static func withSockaddr<T>(
        path: String,
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T
    ) rethrows -> T? {
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        guard !bytes.isEmpty, bytes.count <= maxPathLength else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            if !abstract { raw[bytes.count] = 0 }
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        let length = socklen_t(pathOffset + bytes.count + (abstract ? 0 : 1))
        return try withUnsafePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }
}

extension UnixSocketAddress {
    /// Sends `payload` as one datagram from the unconnected datagram socket `descriptor` to the socket at `path`
    /// (`MSG_NOSIGNAL`): the bytes sent, -1 with `errno` set, or nil when `path` cannot be a socket address.
    package static func sendDatagram(_ payload: [UInt8], from descriptor: Int32, to path: String) -> Int? {
        withSockaddr(path: path) { address, length in
            payload.withUnsafeBytes { bytes in
                sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), address, length)
            }
        }
    }
}

/// The text of an errno value, e.g. "No such file or directory".
package func errnoDescription(_ code: Int32) -> String {
    String(cString: strerror(code))
}
