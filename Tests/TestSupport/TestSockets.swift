import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A temporary directory removed (with its direct children) on `remove()`.
package struct SocketDirectory {
    package let path: String

    package init() throws {
        var template = Array("/tmp/ck-systemd-XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let created = try #require(result)
        path = String(cString: created)
    }

    package func remove() {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(directory)
        }
        rmdir(path)
    }
}

/// A bound AF_UNIX socket owned by a test (datagram receiver or a stale stream socket file).
package final class TestSocket {
    package let descriptor: Int32
    package let path: String

    /// Binds a socket of `type` at `path`; receives time out after 5 s so a missing message fails instead of hanging.
    package init(path: String, type: Int32 = Int32(SOCK_DGRAM.rawValue)) throws {
        self.path = path
        descriptor = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes + [0]) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(result == 0, "bind \(path): errno \(errno)")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    /// Receives one datagram; also returns a passed file descriptor (SCM_RIGHTS), if any.
    package func receive(capacity: Int = 256 * 1024) throws -> (bytes: [UInt8], passedDescriptor: Int32?) {
        var buffer = [UInt8](repeating: 0, count: capacity)
        let controlSize = 64
        let control = UnsafeMutableRawPointer.allocate(byteCount: controlSize, alignment: 8)
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0, count: controlSize)
        let count = buffer.withUnsafeMutableBytes { raw -> Int in
            var vector = iovec(iov_base: raw.baseAddress, iov_len: raw.count)
            return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                var message = msghdr()
                message.msg_iov = vectorPointer
                message.msg_iovlen = 1
                message.msg_control = control
                message.msg_controllen = controlSize
                let received = recvmsg(descriptor, &message, 0)
                return received < 0 ? received : (message.msg_controllen > 0 ? -(1000 + received) : received)
            }
        }
        if count == -1 { throw ReceiveError.failed(errno: errno) }
        if count <= -1000 {
            let header = control.load(as: cmsghdr.self)
            #expect(header.cmsg_level == SOL_SOCKET && header.cmsg_type == Int32(SCM_RIGHTS))
            let fd = control.load(fromByteOffset: MemoryLayout<cmsghdr>.size, as: Int32.self)
            return (Array(buffer[..<(-(count + 1000))]), fd)
        }
        return (Array(buffer[..<count]), nil)
    }

    package enum ReceiveError: Error { case failed(errno: Int32) }
}

/// Reads everything from `fd` starting at offset 0.
package func readAll(descriptor fd: Int32) -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    var offset: off_t = 0
    while true {
        let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
        guard count > 0 else { break }
        out += chunk[..<count]
        offset += off_t(count)
    }
    return out
}
