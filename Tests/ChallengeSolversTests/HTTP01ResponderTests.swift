import Foundation
import NIOCore
import Testing

@testable import ChallengeSolvers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A blocking raw TCP client, so tests control the exact request bytes (absolute-form targets).
enum RawTCPClient {
    struct ConnectFailed: Error { var errno: Int32 }

    static func connect(port: Int) throws -> Int32 {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw ConnectFailed(errno: errno) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw ConnectFailed(errno: code)
        }
        return fd
    }

    /// Sends `request` and returns everything the server sends until it closes (at most 64 KiB).
    static func exchange(port: Int, request: String) throws -> String {
        let fd = try self.connect(port: port)
        defer { close(fd) }
        let bytes = Array(request.utf8)
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        #expect(sent == bytes.count)
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<16 {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response += buffer[..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }

    static func get(port: Int, target: String, method: String = "GET", host: String = "www.example.test") throws
        -> (status: Int, headers: String, body: String)
    {
        let raw = try self.exchange(
            port: port,
            request: "\(method) \(target) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: test\r\n\r\n"
        )
        let parts = raw.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let statusLine = head.components(separatedBy: "\r\n").first ?? ""
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? -1
        return (status, head, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }
}

@Suite("built-in http-01 responder")
struct HTTP01ResponderTests {
    static let address = "127.0.0.1:0"

    private static func task(_ token: String, domain: String = "www.example.test") -> ChallengeTask {
        ChallengeTask(
            domain: domain, wildcard: false, type: "http-01", token: token, keyAuthorization: token + ".thumb")
    }

    @Test("request targets: origin and absolute form name a token, other targets do not")
    func requestTargetParsing() {
        #expect(HTTP01RequestHandler.token(inRequestTarget: "/.well-known/acme-challenge/abc") == "abc")
        #expect(
            HTTP01RequestHandler.token(inRequestTarget: "http://www.example.test/.well-known/acme-challenge/abc")
                == "abc"
        )
        #expect(
            HTTP01RequestHandler.token(inRequestTarget: "HTTP://www.example.test:80/.well-known/acme-challenge/abc")
                == "abc"
        )
        #expect(HTTP01RequestHandler.token(inRequestTarget: "/.well-known/acme-challenge/") == nil)
        #expect(HTTP01RequestHandler.token(inRequestTarget: "/index.html") == nil)
        #expect(HTTP01RequestHandler.token(inRequestTarget: "https://x/.well-known/acme-challenge/abc") == nil)
        #expect(HTTP01RequestHandler.token(inRequestTarget: "http://u@x/.well-known/acme-challenge/abc") == nil)
        #expect(HTTP01RequestHandler.token(inRequestTarget: "*") == nil)
    }

    @Test("serves live tokens in origin and absolute form, 404 otherwise, closes when the last token goes")
    func servesOverRealSocket() async throws {
        let pool = HTTP01ResponderPool()
        let first = BuiltinHTTP01Solver(address: Self.address, pool: pool)
        let second = BuiltinHTTP01Solver(address: Self.address, pool: pool)
        #expect(try await pool.boundPort(on: Self.address) == nil)

        try await first.present(Self.task("tokenOne"))
        try await second.present(Self.task("token-Two", domain: "other.example.test"))
        let port = try #require(try await pool.boundPort(on: Self.address))

        let origin = try RawTCPClient.get(port: port, target: "/.well-known/acme-challenge/tokenOne")
        #expect(origin.status == 200)
        #expect(origin.body == "tokenOne.thumb")
        #expect(origin.headers.lowercased().contains("content-type: application/octet-stream"))

        let absolute = try RawTCPClient.get(
            port: port,
            target: "http://www.example.test:\(port)/.well-known/acme-challenge/tokenOne"
        )
        #expect(absolute.status == 200)
        #expect(absolute.body == "tokenOne.thumb")

        // The second solver shares the listener.
        let shared = try RawTCPClient.get(port: port, target: "/.well-known/acme-challenge/token-Two")
        #expect(shared.status == 200)
        #expect(shared.body == "token-Two.thumb")

        let head = try RawTCPClient.get(port: port, target: "/.well-known/acme-challenge/tokenOne", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.headers.lowercased().contains("content-length: 14"))

        let unknown = try RawTCPClient.get(port: port, target: "/.well-known/acme-challenge/nope<script>")
        #expect(unknown.status == 404)
        #expect(!unknown.body.contains("script"))
        #expect(!unknown.headers.contains("script"))
        #expect(try RawTCPClient.get(port: port, target: "/.well-known/acme-challenge/nope").status == 404)
        #expect(try RawTCPClient.get(port: port, target: "/").status == 404)
        #expect(try RawTCPClient.get(port: port, target: "/.well-known/acme-challenge/../tokenOne").status == 404)
        #expect(
            try RawTCPClient.get(port: port, target: "/.well-known/acme-challenge/tokenOne", method: "POST").status
                == 404
        )

        // Removing one token keeps the listener for the other.
        try await first.cleanUp(Self.task("tokenOne"))
        #expect(try RawTCPClient.get(port: port, target: "/.well-known/acme-challenge/tokenOne").status == 404)
        #expect(try RawTCPClient.get(port: port, target: "/.well-known/acme-challenge/token-Two").status == 200)

        // The last cleanUp closes the listener: nothing listens while idle.
        try await second.cleanUp(Self.task("token-Two", domain: "other.example.test"))
        #expect(try await pool.boundPort(on: Self.address) == nil)
        let refused = try #require(throws: RawTCPClient.ConnectFailed.self) { _ = try RawTCPClient.connect(port: port) }
        #expect(refused.errno == ECONNREFUSED)

        // And the next challenge opens it again.
        try await first.present(Self.task("again"))
        let newPort = try #require(try await pool.boundPort(on: Self.address))
        #expect(try RawTCPClient.get(port: newPort, target: "/.well-known/acme-challenge/again").body == "again.thumb")
        try await first.cleanUp(Self.task("again"))
        #expect(try await pool.boundPort(on: Self.address) == nil)
    }

    @Test("concurrent presents on one address bind it once")
    func concurrentPresents() async throws {
        let pool = HTTP01ResponderPool()
        let solver = BuiltinHTTP01Solver(address: Self.address, pool: pool)
        let tokens = (0..<8).map { "concurrent\($0)" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for token in tokens {
                group.addTask { try await solver.present(Self.task(token)) }
            }
            try await group.waitForAll()
        }
        let port = try #require(try await pool.boundPort(on: Self.address))
        for token in tokens {
            #expect(try RawTCPClient.get(port: port, target: "/.well-known/acme-challenge/\(token)").status == 200)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for token in tokens {
                group.addTask { try await solver.cleanUp(Self.task(token)) }
            }
            try await group.waitForAll()
        }
        #expect(try await pool.boundPort(on: Self.address) == nil)
    }

    @Test("an address in use is an error naming it, and the failed token is not kept")
    func bindFailure() async throws {
        let holder = HTTP01ResponderPool()
        try await holder.register(token: "held", keyAuthorization: "held.x", domain: "a.test", on: Self.address)
        let port = try #require(try await holder.boundPort(on: Self.address))
        let busy = "127.0.0.1:\(port)"

        let pool = HTTP01ResponderPool()
        let error = try await #require(throws: ResponderError.self) {
            try await pool.register(token: "tok", keyAuthorization: "tok.x", domain: "b.test", on: busy)
        }
        #expect(error.kind == .bindFailed)
        #expect(error.description.contains(busy))
        #expect(error.description.contains("already listens"))
        #expect(try await pool.boundPort(on: busy) == nil)

        try await holder.unregister(token: "held", on: Self.address)
    }

    @Test("bind errors below port 1024 mention CAP_NET_BIND_SERVICE")
    func privilegedPortHint() throws {
        let error = ResponderError.bindFailed(
            "http-01",
            address: try ListenAddress("0.0.0.0:80"),
            errno: EACCES,
            underlying: ""
        )
        #expect(error.description.contains("0.0.0.0:80"))
        #expect(error.description.contains("CAP_NET_BIND_SERVICE"))
        let high = ResponderError.bindFailed(
            "http-01", address: try ListenAddress("[::1]:5002"), errno: EADDRINUSE, underlying: "")
        #expect(high.description.contains("[::1]:5002"))
        #expect(!high.description.contains("CAP_NET_BIND_SERVICE"))
    }

    @Test("listen addresses parse IPv4 and bracketed IPv6 and reject the rest")
    func listenAddresses() throws {
        #expect(try ListenAddress("127.0.0.1:5002") == ListenAddress("127.0.0.1:5002"))
        let v6 = try ListenAddress("[::1]:80")
        #expect(v6.host == "::1" && v6.port == 80 && v6.description == "[::1]:80")
        let any = try ListenAddress("0.0.0.0:80")
        #expect(any.host == "0.0.0.0" && any.port == 80)
        for bad in ["", "80", "::1:80", "[::1]80", "host:", "1.2.3.4:70000", "1.2.3.4:-1", "[::1]:"] {
            #expect(throws: ResponderError.self) { try ListenAddress(bad) }
        }
    }

    @Test("a bad token never reaches the listener")
    func badTokenRejected() async throws {
        let pool = HTTP01ResponderPool()
        await #expect(throws: InvalidChallengeTokenError.self) {
            try await pool.register(token: "a/b", keyAuthorization: "x", domain: "d.test", on: Self.address)
        }
        #expect(try await pool.boundPort(on: Self.address) == nil)
    }
}
