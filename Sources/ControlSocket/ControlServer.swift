import Logging
import NIOCore
import NIOPosix
import UnixSockets

#if canImport(Glibc)
    import Glibc
#endif

/// A local control socket: AF_UNIX stream, one JSON ``ControlCommand`` line in, one ``ControlResponse`` line out.
///
/// The socket file is created with mode 0600 under a temporary name and renamed into place, which also replaces a
/// stale socket left by a crashed instance (a live one makes ``run(onListening:)`` fail instead). Every connection's
/// peer is checked with `SO_PEERCRED`: only the uids in ``Configuration/allowedPeerUIDs`` (root and the daemon's own
/// uid by default) are served; others get a refusal and are logged. What a command does is the handler's business
/// (the daemon's `DaemonController`).
package struct ControlServer: Sendable {
    /// Handles one request; the response is sent back as is. Lines given to the progress function go out first, each
    /// as a ``ControlResponse/progress(_:)`` line.
    package typealias Handler =
        @Sendable (ControlCommand, _ progress: @escaping @Sendable (String) async -> Void) async
        -> ControlResponse

    /// Settings of the control socket.
    package struct Configuration: Sendable {
        /// The socket path. Default: ``ControlSocketPath/default(daemonName:environment:)``.
        package var path: String
        /// Peers allowed to talk. Default: uid 0 and the process's own uid.
        package var allowedPeerUIDs: Set<UInt32>
        /// How long a client may take to send its request line. Default: 10 seconds.
        package var requestTimeout: Duration
        /// Longest accepted request line in bytes. Default: 64 KiB.
        package var maxRequestBytes: Int

        /// Creates a configuration with documented defaults.
        package init(
            path: String = ControlSocketPath.default(),
            allowedPeerUIDs: Set<UInt32> = [0, getuid()],
            requestTimeout: Duration = .seconds(10),
            maxRequestBytes: Int = 64 * 1024
        ) {
            self.path = path
            self.allowedPeerUIDs = allowedPeerUIDs
            self.requestTimeout = requestTimeout
            self.maxRequestBytes = maxRequestBytes
        }
    }

    /// The settings in use.
    package let configuration: Configuration
    private let logger: Logger
    private let handler: Handler

    /// Creates a server; nothing is bound until ``run(onListening:)``.
    package init(configuration: Configuration = Configuration(), logger: Logger, handler: @escaping Handler) {
        self.configuration = configuration
        self.logger = logger
        self.handler = handler
    }

    /// Listens and serves requests until the task is cancelled, then removes the socket file.
    ///
    /// - Parameter onListening: called once the socket accepts connections (e.g. to send `READY=1`).
    /// - Throws: ``ControlServerError`` when the socket cannot be set up.
    package func run(onListening: (@Sendable () -> Void)? = nil) async throws {
        let path = configuration.path
        try Self.checkExistingPath(path)
        let temporaryPath = Self.temporaryPath(for: path)
        guard temporaryPath.utf8.count <= UnixSocketAddress.maxPathLength else {
            throw ControlServerError.pathTooLong(path: path, limit: UnixSocketAddress.maxPathLength - 16)
        }
        unlink(temporaryPath)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 16)
            .bind(unixDomainSocketPath: temporaryPath) { channel in
                Self.peerCredentials(of: channel).flatMapThrowing { credentials in
                    let connection = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    return (credentials, connection)
                }
            }
        var installed = stat()
        do {
            guard chmod(temporaryPath, 0o600) == 0 else {
                throw ControlServerError.systemCall("chmod", path: temporaryPath, errno: errno)
            }
            guard rename(temporaryPath, path) == 0 else {
                throw ControlServerError.systemCall("rename", path: path, errno: errno)
            }
            _ = stat(path, &installed)
        } catch {
            unlink(temporaryPath)
            try? await server.channel.close()
            throw error
        }
        logger.info("control socket listening", metadata: ["path": "\(path)"])
        defer { Self.removeIfOurs(path, inode: installed.st_ino, device: installed.st_dev) }

        do {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    onListening?()
                    for try await (credentials, connection) in inbound {
                        group.addTask { await serve(connection, peer: credentials) }
                    }
                }
            }
        } catch is CancellationError where Task.isCancelled {
            // Cancellation is the normal way to stop; return without an error.
        }
        logger.info("control socket closed", metadata: ["path": "\(path)"])
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, peer: PeerCredentials?) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                guard let peer, configuration.allowedPeerUIDs.contains(peer.uid) else {
                    logger.warning(
                        "control socket: refused connection from a peer that is not allowed",
                        metadata: [
                            "path": "\(configuration.path)", "peer_uid": "\(peer.map { String($0.uid) } ?? "unknown")",
                            "peer_pid": "\(peer.map { String($0.pid) } ?? "unknown")",
                        ]
                    )
                    let refusal = ControlResponse(
                        ok: false,
                        message: "permission denied: uid \(peer.map { String($0.uid) } ?? "unknown") may not use "
                            + "\(configuration.path); run as root or as the daemon's user"
                    )
                    try await outbound.write(ControlLineIO.encodeLine(refusal))
                    return
                }
                let response: ControlResponse
                do {
                    guard
                        let line = try await ControlLineIO.readLine(
                            from: inbound,
                            limit: configuration.maxRequestBytes,
                            timeout: configuration.requestTimeout
                        )
                    else { return }
                    let command = try ControlCommand(line: line)
                    response = await handler(command) { message in
                        // A client that went away does not stop the command; its progress lines are dropped.
                        try? await outbound.write(ControlLineIO.encodeLine(ControlResponse.progress(message)))
                    }
                } catch let error as ControlLineIO.ReadError {
                    response = ControlResponse(ok: false, message: Self.describe(error))
                } catch let error as ControlCommandError {
                    response = ControlResponse(ok: false, message: "\(error)")
                } catch is DecodingError {
                    response = ControlResponse(
                        ok: false,
                        message: "malformed request: expected one JSON line like {\"command\":\"status\"}"
                    )
                }
                try await outbound.write(ControlLineIO.encodeLine(response))
            }
        } catch {
            logger.debug("control connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    private static func describe(_ error: ControlLineIO.ReadError) -> String {
        switch error {
        case .tooLong(let limit): "request too long: more than \(limit) bytes without a newline"
        case .timedOut: "request timed out: send one JSON line terminated by a newline"
        }
    }

    /// `struct ucred` from <sys/socket.h> (not exported by the Glibc module without _GNU_SOURCE).
    struct PeerCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    private static func peerCredentials(of channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET),
            name: SocketOptionName(SO_PEERCRED)
        )
        return future.map { Optional($0) }.recover { _ in nil }
    }

    /// Refuses to replace anything but a stale socket.
    static func checkExistingPath(_ path: String) throws {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        var info = stat()
        if !directory.isEmpty, stat(directory, &info) != 0 {
            throw ControlServerError.directoryMissing(path: path)
        }
        guard lstat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT { return }
            throw ControlServerError.systemCall("lstat", path: path, errno: code)
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw ControlServerError.notASocket(path: path) }
        if isAcceptingConnections(path) { throw ControlServerError.alreadyInUse(path: path) }
    }

    /// Whether something listens on the socket at `path` (a connect(2) probe).
    static func isAcceptingConnections(_ path: String) -> Bool {
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        let result = UnixSocketAddress.withSockaddr(path: path) { connect(probe, $0, $1) }
        return result == 0
    }

    private static func temporaryPath(for path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let directory = parts.dropLast().joined(separator: "/")
        return directory + "/." + (parts.last.map(String.init) ?? "control") + ".\(getpid())"
    }

    private static func removeIfOurs(_ path: String, inode: ino_t, device: dev_t) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_ino == inode, info.st_dev == device else { return }
        unlink(path)
    }
}
