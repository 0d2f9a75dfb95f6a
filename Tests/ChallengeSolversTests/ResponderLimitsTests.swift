import Foundation
import Testing

@testable import ChallengeSolvers

#if canImport(Glibc)
    import Glibc
#endif

/// Descriptor accounting and raw-socket helpers for the flood tests.
enum FloodSupport {
    /// Runs blocking socket work on a thread of its own, so it never holds one of the few cooperative threads
    /// that every other test running alongside needs.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Entries in /proc/self/fd: every descriptor this process holds, the responders' sockets included.
    static func openDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    /// How many client connections fit: raises RLIMIT_NOFILE's soft limit towards the hard one when needed, so
    /// `wanted` client sockets and as many server-side ones (before the fix) fit, and scales down if they do not.
    static func connectionBudget(wanted: Int) -> Int {
        let needed = 2 * wanted + 512
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return wanted }
        if limit.rlim_cur < rlim_t(needed) {
            limit.rlim_cur = min(limit.rlim_max, rlim_t(needed))
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return min(wanted, (Int(limit.rlim_cur) - 512) / 2)
    }

    /// Opens `count` connections to `port`; every other one sends `partial` (a request or hello cut short).
    static func flood(port: Int, count: Int, partial: [UInt8]) throws -> [Int32] {
        var clients: [Int32] = []
        clients.reserveCapacity(count)
        do {
            for index in 0..<count {
                let fd = try RawTCPClient.connect(port: port)
                clients.append(fd)
                if index % 2 == 0 {
                    _ = partial.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
            }
        } catch {
            for fd in clients { close(fd) }
            throw error
        }
        return clients
    }

    /// The responder's descriptors, i.e. all of ours beyond `baseline` and `clients`, once the `evicted` oldest
    /// clients have each seen the server close their connection (its descriptor is closed before the FIN goes out),
    /// waiting for those closes with poll(2), not by sleeping; nil when one was not closed within 2 s.
    static func serverDescriptors(baseline: Int, clients: [Int32], evicted: Int) async throws -> Int? {
        let displaced = Array(clients.prefix(evicted))
        let allClosed = try await blocking { displaced.allSatisfy { closedByServer($0, within: .seconds(2)) } }
        guard allClosed else { return nil }
        return try self.openDescriptors() - baseline - clients.count
    }

    /// True when the server closes `fd` (EOF or reset) within `limit`; anything it sends first is skipped.
    static func closedByServer(_ fd: Int32, within limit: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limit)
        var buffer = [UInt8](repeating: 0, count: 512)
        for _ in 0..<10_000 {
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else { return false }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = Int32(min(1000, seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1))
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, milliseconds) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 { return true }
            if count < 0, errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR { return true }
        }
        return false
    }
}

@Suite("responder connection limits", .serialized)
struct ResponderLimitsTests {
    static let address = "127.0.0.1:0"
    /// Descriptors other tests running alongside may hold; far below the thousands an unbounded responder holds.
    static let slack = 200

    @Test("http-01: a slowloris of 2,000 connections stays under the cap and a validation still gets its answer")
    func httpSlowloris() async throws {
        let cap = 64
        let count = FloodSupport.connectionBudget(wanted: 2_000)
        #expect(count == 2_000, "RLIMIT_NOFILE too low for 2,000 connections; scaled to \(count)")
        // A long deadline: the cap alone must keep the flood bounded.
        let pool = HTTP01ResponderPool(limits: ResponderLimits(maxConnections: cap, connectionDeadline: .seconds(60)))
        try await pool.register(
            token: "slowToken", keyAuthorization: "slowToken.thumb", domain: "a.test", on: Self.address)
        let port = try #require(try await pool.boundPort(on: Self.address))
        let baseline = try FloodSupport.openDescriptors()

        let clients = try await FloodSupport.blocking {
            try FloodSupport.flood(
                port: port, count: count, partial: Array("GET /.well-known/acme-challenge/slowTo".utf8))
        }
        defer { for fd in clients { close(fd) } }

        let clock = ContinuousClock()
        let start = clock.now
        let answer = try await FloodSupport.blocking {
            try RawTCPClient.get(port: port, target: "/.well-known/acme-challenge/slowToken")
        }
        #expect(answer.status == 200)
        #expect(answer.body == "slowToken.thumb")
        #expect(clock.now - start < .seconds(5))

        let statistics = try #require(try await pool.connectionStatistics(on: Self.address))
        #expect(statistics.highWater <= cap)
        #expect(statistics.accepted >= count + 1)
        // The oldest flood connections were closed to make room (the first one among them).
        #expect(statistics.evicted >= count + 1 - cap)
        let server = try #require(
            try await FloodSupport.serverDescriptors(
                baseline: baseline, clients: clients, evicted: statistics.evicted),
            "an evicted connection was not closed")
        #expect(server <= cap + Self.slack, "the responder holds \(server) descriptors for \(count) flood connections")
        await pool.shutdown()
    }

    @Test("http-01: a silent connection and a trickled head are both closed at the deadline")
    func httpDeadline() async throws {
        let pool = HTTP01ResponderPool(
            limits: ResponderLimits(maxConnections: 8, connectionDeadline: .milliseconds(200)))
        try await pool.register(token: "tok", keyAuthorization: "tok.thumb", domain: "a.test", on: Self.address)
        let port = try #require(try await pool.boundPort(on: Self.address))
        let clock = ContinuousClock()

        let silent = try RawTCPClient.connect(port: port)
        defer { close(silent) }
        let start = clock.now
        #expect(FloodSupport.closedByServer(silent, within: .seconds(3)))
        #expect(clock.now - start < .seconds(2))

        // One byte every 50 ms keeps a read-idle timer happy; the total deadline still closes it.
        let trickle = try RawTCPClient.connect(port: port)
        defer { close(trickle) }
        let head = Array("GET /.well-known/acme-challenge/tok HTTP/1.1\r\nHost: a.test\r\nX-Pad: aaaaaaaaaaaaaaaa".utf8)
        var closed = false
        for byte in head {
            var value = byte
            guard send(trickle, &value, 1, Int32(MSG_NOSIGNAL)) == 1 else {
                closed = true
                break
            }
            if FloodSupport.closedByServer(trickle, within: .milliseconds(50)) {
                closed = true
                break
            }
        }
        #expect(closed, "a trickled head kept the connection open for \(head.count * 50) ms")
        await pool.shutdown()
    }

    @Test("http-01: the answer is sent once the head is in, without waiting for a body")
    func httpAnswersOnHead() async throws {
        let pool = HTTP01ResponderPool()
        try await pool.register(token: "tok", keyAuthorization: "tok.thumb", domain: "a.test", on: Self.address)
        let port = try #require(try await pool.boundPort(on: Self.address))
        let clock = ContinuousClock()
        let start = clock.now
        // Announces a body that never comes (the client's receive timeout is 5 s).
        let raw = try RawTCPClient.exchange(
            port: port,
            request: "GET /.well-known/acme-challenge/tok HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100\r\n\r\n")
        #expect(raw.hasPrefix("HTTP/1.1 200"))
        #expect(raw.hasSuffix("\r\n\r\ntok.thumb"))
        #expect(clock.now - start < .seconds(3))
        await pool.shutdown()
    }

    @Test("tls-alpn-01: 2,000 idle connections stay under the cap and a real acme-tls/1 handshake succeeds")
    func tlsFlood() async throws {
        let cap = 32
        let count = FloodSupport.connectionBudget(wanted: 2_000)
        #expect(count == 2_000, "RLIMIT_NOFILE too low for 2,000 connections; scaled to \(count)")
        let pool = TLSALPN01ResponderPool(
            limits: ResponderLimits(maxConnections: cap, connectionDeadline: .seconds(60)))
        try await pool.register(domain: "flood.example.test", keyAuthorization: "f.thumb", on: Self.address)
        let port = try #require(try await pool.boundPort(on: Self.address))
        let baseline = try FloodSupport.openDescriptors()

        // Half send the first bytes of a TLS record header and stop.
        let clients = try await FloodSupport.blocking {
            try FloodSupport.flood(port: port, count: count, partial: [0x16, 0x03, 0x01, 0x02])
        }
        defer { for fd in clients { close(fd) } }

        let clock = ContinuousClock()
        let start = clock.now
        let result = try await TLSALPN01Tests.handshake(port: port, serverName: "flood.example.test")
        #expect(result.negotiated == "acme-tls/1")
        #expect(clock.now - start < .seconds(5))

        let statistics = try #require(try await pool.connectionStatistics(on: Self.address))
        #expect(statistics.highWater <= cap)
        let server = try #require(
            try await FloodSupport.serverDescriptors(
                baseline: baseline, clients: clients, evicted: statistics.evicted),
            "an evicted connection was not closed")
        #expect(server <= cap + Self.slack, "the responder holds \(server) descriptors for \(count) flood connections")
        await pool.shutdown()
    }

    @Test("tls-alpn-01: a connection that never sends a hello is closed at the deadline")
    func tlsDeadline() async throws {
        let pool = TLSALPN01ResponderPool(
            limits: ResponderLimits(maxConnections: 8, connectionDeadline: .milliseconds(200)))
        try await pool.register(domain: "slow.example.test", keyAuthorization: "s.thumb", on: Self.address)
        let port = try #require(try await pool.boundPort(on: Self.address))
        let silent = try RawTCPClient.connect(port: port)
        defer { close(silent) }
        let clock = ContinuousClock()
        let start = clock.now
        #expect(FloodSupport.closedByServer(silent, within: .seconds(3)))
        #expect(clock.now - start < .seconds(2))
        await pool.shutdown()
    }
}
