import DaemonThreads
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal stub client: one request, one response, over UDP with a TCP retry when the answer is truncated.
///
/// Blocking socket work runs on threads of its own (``threads``), never on the threads that run Swift concurrency, and
/// not on the file I/O threads either: queries that wait out their timeouts (an unreachable name server, a zone's
/// servers checked for propagation) do not hold up reading certificates.
package struct DNSClient: Sendable {
    /// Eight: a propagation check asks every name server of a zone, for several orders at once.
    private static let threads = WorkerThreads(name: "certkeeper-dns", count: 8)

    /// How long to wait for each attempt. Defaults to 3 s.
    package var timeout: Duration
    /// How many UDP attempts (including the first) before giving up. Defaults to 3.
    package var attempts: Int

    package init(timeout: Duration = .seconds(3), attempts: Int = 3) {
        self.timeout = timeout
        self.attempts = max(1, attempts)
    }

    /// Sends `wire` and returns the raw response with the same ID (needed for TSIG verification).
    ///
    /// Uses UDP; if the response has TC set, repeats the request once over TCP.
    package func exchange(_ wire: [UInt8], with server: DNSServerAddress) async throws -> [UInt8] {
        let timeout = self.timeout
        let attempts = self.attempts
        return try await withCheckedThrowingContinuation { continuation in
            Self.threads.submit {
                continuation.resume(
                    with: Result {
                        try BlockingExchange(server: server, timeout: timeout, attempts: attempts).run(wire)
                    })
            }
        }
    }

    /// Sends a standard query and returns the decoded response.
    ///
    /// - Parameters:
    ///   - recursionDesired: false (RD=0) to ask an authoritative server about its own data only.
    package func query(
        _ name: DNSName,
        type: DNSRecordType,
        server: DNSServerAddress,
        recursionDesired: Bool = false
    ) async throws -> DNSMessage {
        let request = DNSMessage.query(
            id: UInt16.random(in: 0...UInt16.max),
            name: name,
            type: type,
            recursionDesired: recursionDesired
        )
        let response = try DNSMessage(decoding: try await exchange(try request.encode(), with: server))
        guard response.questions.first.map({ $0.name == name && $0.type == type }) ?? true else {
            throw DNSClientError.badResponse(server: server, reason: "answer for another question")
        }
        return response
    }
}

/// One exchange with bounded attempts; all blocking.
private struct BlockingExchange {
    let server: DNSServerAddress
    let timeout: Duration
    let attempts: Int

    private var timeoutMilliseconds: Int32 {
        let (seconds, attoseconds) = timeout.components
        guard seconds < Int64(Int32.max) else { return Int32.max }
        return Int32(clamping: max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    }

    func run(_ wire: [UInt8]) throws -> [UInt8] {
        guard wire.count >= 12 else { throw DNSClientError.badResponse(server: server, reason: "request too short") }
        let address = try resolve(socketType: Int32(SOCK_DGRAM.rawValue))
        var lastError = DNSClientError.timedOut(server: server, attempts: attempts, timeout: timeout)
        for _ in 0..<attempts {
            do {
                guard let response = try udp(wire, address: address) else { continue }
                if response[2] & 0x02 != 0 {
                    return try tcp(wire, address: try resolve(socketType: Int32(SOCK_STREAM.rawValue)))
                }
                return response
            } catch let error as DNSClientError {
                lastError = error
            }
        }
        throw lastError
    }

    private struct Address {
        var family: Int32
        var storage: sockaddr_storage
        var length: socklen_t
    }

    private func resolve(socketType: Int32) throws -> Address {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = socketType
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>? = nil
        let status = getaddrinfo(server.host, String(server.port), &hints, &result)
        guard status == 0, let first = result else {
            throw DNSClientError.cannotResolve(server: server, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(result) }
        var storage = sockaddr_storage()
        let length = first.pointee.ai_addrlen
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(length)))
        }
        return Address(family: first.pointee.ai_family, storage: storage, length: length)
    }

    private func ioError(_ operation: String) -> DNSClientError {
        let code = errno
        return .io(server: server, operation: operation, errno: code, reason: String(cString: strerror(code)))
    }

    private func connectSocket(_ fd: Int32, _ address: Address) throws {
        var storage = address.storage
        let status = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        guard status == 0 else { throw ioError("connect") }
    }

    /// One UDP attempt; nil on timeout. Ignores datagrams whose ID or QR bit do not match.
    private func udp(_ wire: [UInt8], address: Address) throws -> [UInt8]? {
        let fd = socket(address.family, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw ioError("socket") }
        defer { close(fd) }
        try connectSocket(fd, address)
        let sent = wire.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == wire.count else { throw ioError("send") }
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 65535)
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return nil }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = Int32(clamping: max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw ioError("poll")
            }
            if ready == 0 { return nil }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count >= 0 else { throw ioError("recv") }
            if count >= 12, buffer[0] == wire[0], buffer[1] == wire[1], buffer[2] & 0x80 != 0 {
                return Array(buffer[0..<count])
            }
        }
    }

    /// One TCP exchange with 2-byte length framing (RFC 1035 §4.2.2).
    private func tcp(_ wire: [UInt8], address: Address) throws -> [UInt8] {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ioError("socket") }
        defer { close(fd) }
        let milliseconds = Int(timeoutMilliseconds)
        var interval = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        try connectSocket(fd, address)
        var framed: [UInt8] = []
        framed.appendU16(UInt16(wire.count))
        framed.append(contentsOf: wire)
        var offset = 0
        while offset < framed.count {
            let sent = framed[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw sendOrTimeout("send (TCP)") }
            offset += sent
        }
        let header = try readExactly(fd, 2)
        let length = Int(header[0]) << 8 | Int(header[1])
        let response = try readExactly(fd, length)
        guard response.count >= 12, response[0] == wire[0], response[1] == wire[1] else {
            throw DNSClientError.badResponse(server: server, reason: "TCP response ID does not match")
        }
        return response
    }

    private func sendOrTimeout(_ operation: String) -> DNSClientError {
        if errno == EAGAIN || errno == EWOULDBLOCK {
            return .timedOut(server: server, attempts: 1, timeout: timeout)
        }
        return ioError(operation)
    }

    private func readExactly(_ fd: Int32, _ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let received = buffer[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received == 0 {
                throw DNSClientError.badResponse(server: server, reason: "TCP connection closed mid-message")
            }
            guard received > 0 else { throw sendOrTimeout("recv (TCP)") }
            offset += received
        }
        return buffer
    }
}
