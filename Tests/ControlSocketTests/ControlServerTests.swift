import Logging
import Synchronization
import TestSupport
import Testing

@testable import ControlSocket

#if canImport(Glibc)
    import Glibc
#endif

struct ControlServerTests {
    private let logger = Logger(label: "control-test") { _ in SwiftLogNoOpLogHandler() }

    /// Runs a server at `path` for the duration of `body`, then cancels it and waits for it to finish.
    private func withServer(
        path: String,
        allowedPeerUIDs: Set<UInt32> = [0, getuid()],
        requestTimeout: Duration = .seconds(10),
        handler: @escaping ControlServer.Handler = { request, _ in
            ControlResponse(ok: true, message: "did \(request.verb)", payload: request.renewedName)
        },
        _ body: () async throws -> Void
    ) async throws {
        let server = ControlServer(
            configuration: .init(path: path, allowedPeerUIDs: allowedPeerUIDs, requestTimeout: requestTimeout),
            logger: logger,
            handler: handler
        )
        let (listening, continuation) = AsyncStream<Void>.makeStream()
        let task = Task { try await server.run(onListening: { continuation.yield() }) }
        var iterator = listening.makeAsyncIterator()
        _ = await iterator.next()
        do {
            try await body()
        } catch {
            task.cancel()
            throw error
        }
        task.cancel()
        try await task.value
    }

    @Test func roundTripsARequestAndRemovesTheSocketOnExit() async throws {
        let directory = try SocketDirectory()
        defer { directory.remove() }
        let path = directory.path + "/control.sock"
        try await withServer(path: path) {
            var info = stat()
            #expect(lstat(path, &info) == 0)
            #expect(info.st_mode & S_IFMT == S_IFSOCK)
            #expect(info.st_mode & 0o777 == 0o600)
            let response = try await ControlClient.send(
                ControlCommand.renew(name: "www", force: true),
                to: path,
                timeout: .seconds(10)
            )
            #expect(response == ControlResponse(ok: true, message: "did renew", payload: "www"))
            let second = try await ControlClient.send(
                ControlCommand.status, to: path, timeout: .seconds(10))
            #expect(second == ControlResponse(ok: true, message: "did status", payload: nil))
        }
        var info = stat()
        #expect(lstat(path, &info) != 0 && errno == ENOENT)
    }

    /// `renew --wait`: the handler's progress lines reach the client in order, before and apart from the answer,
    /// even when several arrive in one read.
    @Test func progressLinesComeBeforeTheAnswer() async throws {
        let directory = try SocketDirectory()
        defer { directory.remove() }
        let path = directory.path + "/control.sock"
        let handler: ControlServer.Handler = { request, progress in
            for step in ["order created", "authorizations valid", "installed"] { await progress(step) }
            return ControlResponse(ok: true, message: "done \(request.renewedName ?? "")")
        }
        try await withServer(path: path, handler: handler) {
            let seen = LockedLines()
            let response = try await ControlClient.send(
                .renewWaiting(name: "www", force: false), to: path, timeout: .seconds(10)
            ) { seen.append($0) }
            #expect(response == ControlResponse(ok: true, message: "done www"))
            #expect(seen.lines == ["order created", "authorizations valid", "installed"])
            // A client that does not ask for progress skips the progress lines: it never takes one for the answer.
            let plain = try await ControlClient.send(.renewWaiting(name: "api", force: false), to: path)
            #expect(plain == ControlResponse(ok: true, message: "done api"))
        }
    }

    @Test func replacesAStaleSocketFile() async throws {
        let directory = try SocketDirectory()
        defer { directory.remove() }
        let path = directory.path + "/control.sock"
        do { _ = try TestSocket(path: path, type: Int32(SOCK_STREAM.rawValue)) }  // bound, closed: file stays
        var info = stat()
        try #require(lstat(path, &info) == 0)
        await #expect(throws: ControlClient.Failure.notAccepting(daemon: "certkeeper", path: path)) {
            try await ControlClient.send(ControlCommand.status, to: path, timeout: .seconds(5))
        }
        try await withServer(path: path) {
            let response = try await ControlClient.send(
                ControlCommand.reload, to: path, timeout: .seconds(10))
            #expect(response.ok)
            #expect(response.message == "did reload")
        }
    }

    @Test func refusesToReplaceALiveSocketOrARegularFile() async throws {
        let directory = try SocketDirectory()
        defer { directory.remove() }
        let path = directory.path + "/control.sock"
        try await withServer(path: path) {
            let second = ControlServer(configuration: .init(path: path), logger: logger) { _, _ in
                ControlResponse(ok: true, message: "")
            }
            await #expect(throws: ControlServerError.alreadyInUse(path: path)) { try await second.run() }
            // The first server still answers.
            let response = try await ControlClient.send(
                ControlCommand.status, to: path, timeout: .seconds(10))
            #expect(response.ok)
        }
        let filePath = directory.path + "/regular"
        let fd = open(filePath, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        close(fd)
        let server = ControlServer(configuration: .init(path: filePath), logger: logger) { _, _ in
            ControlResponse(ok: true, message: "")
        }
        await #expect(throws: ControlServerError.notASocket(path: filePath)) { try await server.run() }
        await #expect(throws: ControlServerError.directoryMissing(path: directory.path + "/missing/control.sock")) {
            try await ControlServer(
                configuration: .init(path: directory.path + "/missing/control.sock"),
                logger: logger
            ) { _, _ in ControlResponse(ok: true, message: "") }.run()
        }
    }

    @Test func refusesPeersWhoseUIDIsNotAllowed() async throws {
        let directory = try SocketDirectory()
        defer { directory.remove() }
        let path = directory.path + "/control.sock"
        try await withServer(path: path, allowedPeerUIDs: [4_242_424]) {
            let response = try await ControlClient.send(
                ControlCommand.reload, to: path, timeout: .seconds(10))
            #expect(!response.ok)
            #expect(response.message.hasPrefix("permission denied: uid \(getuid()) may not use \(path)"))
        }
    }

    @Test func answersMalformedRequestsWithAnError() async throws {
        let directory = try SocketDirectory()
        defer { directory.remove() }
        let path = directory.path + "/control.sock"
        try await withServer(path: path) {
            let reply = try rawExchange(path: path, send: "this is not json\n")
            #expect(reply.hasPrefix("{") && reply.hasSuffix("}\n"))
            #expect(reply.contains("\"ok\":false"))
            #expect(reply.contains("malformed request"))
        }
    }

    @Test func clientReportsAMissingSocketClearly() async throws {
        let path = "/nonexistent-ck-dir/control.sock"
        let failure = ControlClient.Failure.notRunning(daemon: "certkeeper", path: path)
        await #expect(throws: failure) {
            try await ControlClient.send(ControlCommand.reload, to: path, timeout: .seconds(1))
        }
        #expect(
            failure.description == "certkeeper is not running: no control socket at /nonexistent-ck-dir/control.sock")
    }

    @Test func defaultPathComesFromRuntimeDirectory() {
        #expect(ControlSocketPath.default(environment: [:]) == "/run/certkeeper/control.sock")
        #expect(ControlSocketPath.default(environment: ["RUNTIME_DIRECTORY": "/run/ck"]) == "/run/ck/control.sock")
        #expect(
            ControlSocketPath.default(environment: ["RUNTIME_DIRECTORY": "/run/a/:/run/b"]) == "/run/a/control.sock")
        #expect(
            ControlSocketPath.default(daemonName: "x", environment: ["RUNTIME_DIRECTORY": "rel"])
                == "/run/x/control.sock")
    }

    /// A blocking exchange over a plain socket (receive timeout 5 s), for bytes ControlClient would never send.
    private func rawExchange(path: String, send text: String) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(connected == 0)
        let bytes = Array(text.utf8)
        try #require(write(fd, bytes, bytes.count) == bytes.count)
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<100 {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            out += chunk[..<count]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Lines collected from a `@Sendable` callback.
final class LockedLines: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var lines: [String] { storage.withLock { $0 } }
}
