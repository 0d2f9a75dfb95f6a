import UnixSockets

#if canImport(Glibc)
    import Glibc
#endif

/// An unconnected AF_UNIX datagram socket that sends native-protocol entries to journald.
///
/// Oversized entries (`EMSGSIZE`/`ENOBUFS`) are passed as a sealed memfd, as sd_journal_sendv does; if that is
/// impossible the caller truncates. The descriptor is closed when the last handler copy goes away.
final class JournalSocket: Sendable {
    /// The socket path entries are sent to.
    let path: String
    private let descriptor: Int32
    private let maxDatagramBytes: Int

    /// Opens a datagram socket for `path`; `nil` if no socket can be created or the path is unusable.
    /// Payloads above `maxDatagramBytes` skip the datagram attempt and go straight to the memfd.
    init?(path: String, maxDatagramBytes: Int = Int.max) {
        guard path.utf8.count <= UnixSocketAddress.maxPathLength, !path.isEmpty else { return nil }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var bufferSize: Int32 = 8 * 1024 * 1024
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
        self.path = path
        self.descriptor = descriptor
        self.maxDatagramBytes = maxDatagramBytes
    }

    deinit {
        close(descriptor)
    }

    /// Outcome of one send attempt.
    enum SendResult: Equatable {
        case sent
        case tooLarge
        case failed(errno: Int32)
    }

    /// Sends `payload` as one datagram, falling back to a sealed memfd when the datagram is too large.
    func send(_ payload: [UInt8]) -> SendResult {
        let result = payload.count > maxDatagramBytes ? .tooLarge : sendDatagram(payload)
        guard result == .tooLarge else { return result }
        return sendViaMemfd(payload) ? .sent : .tooLarge
    }

    private func sendDatagram(_ payload: [UInt8]) -> SendResult {
        guard let outcome = UnixSocketAddress.sendDatagram(payload, from: descriptor, to: path) else {
            return .failed(errno: ENAMETOOLONG)
        }
        if outcome >= 0 { return .sent }
        let code = errno
        return code == EMSGSIZE || code == ENOBUFS ? .tooLarge : .failed(errno: code)
    }

    private typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
    private static let memfdCreate: MemfdCreate? = {
        // memfd_create is not visible through the Glibc module (it needs _GNU_SOURCE), so look it up at run time.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memfd_create") else { return nil }
        return unsafeBitCast(symbol, to: MemfdCreate.self)
    }()

    /// Writes the payload into a sealed memfd and sends an empty datagram carrying it (SCM_RIGHTS).
    private func sendViaMemfd(_ payload: [UInt8]) -> Bool {
        let memfdCloexec: UInt32 = 0x1
        let memfdAllowSealing: UInt32 = 0x2
        guard let create = Self.memfdCreate else { return false }
        let memfd = create("journal-data", memfdCloexec | memfdAllowSealing)
        guard memfd >= 0 else { return false }
        defer { close(memfd) }
        var written = 0
        while written < payload.count {
            let result = payload.withUnsafeBytes { write(memfd, $0.baseAddress! + written, $0.count - written) }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { return false }
            written += result
        }
        let fAddSeals: Int32 = 1024 + 9
        let seals: Int32 = 0x1 | 0x2 | 0x4 | 0x8  // SEAL, SHRINK, GROW, WRITE
        guard fcntl(memfd, fAddSeals, seals) == 0 else { return false }
        return sendDescriptor(memfd)
    }

    private func sendDescriptor(_ fd: Int32) -> Bool {
        let headerSize = MemoryLayout<cmsghdr>.size
        let alignment = MemoryLayout<Int>.size
        let space = headerSize + ((MemoryLayout<Int32>.size + alignment - 1) / alignment) * alignment
        let control = UnsafeMutableRawPointer.allocate(byteCount: space, alignment: alignment)
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0, count: space)
        let header = control.bindMemory(to: cmsghdr.self, capacity: 1)
        header.pointee.cmsg_len = Int(headerSize + MemoryLayout<Int32>.size)
        header.pointee.cmsg_level = SOL_SOCKET
        header.pointee.cmsg_type = Int32(SCM_RIGHTS)
        (control + headerSize).storeBytes(of: fd, as: Int32.self)

        let outcome: Int? = UnixSocketAddress.withSockaddr(path: path) { address, length in
            var message = msghdr()
            message.msg_name = UnsafeMutableRawPointer(mutating: address)
            message.msg_namelen = length
            message.msg_control = control
            message.msg_controllen = space
            return sendmsg(descriptor, &message, Int32(MSG_NOSIGNAL))
        }
        return (outcome ?? -1) >= 0
    }
}
