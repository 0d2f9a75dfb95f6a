import NIOCore
import NIOPosix
import UnixSockets

#if canImport(Glibc)
    import Glibc
#endif

/// Sends one request to a running daemon's control socket and waits for the answer (e.g. for
/// `ExecReload=/usr/bin/certkeeper reload`, which makes `systemctl reload` synchronous and fail when the reload fails).
package enum ControlClient {
    /// Why a request could not be completed.
    package enum Failure: Error, CustomStringConvertible, Equatable {
        /// No socket file: the daemon is not running (or uses another path).
        case notRunning(daemon: String, path: String)
        /// A socket file exists but nobody accepts connections on it (stale after a crash).
        case notAccepting(daemon: String, path: String)
        /// The socket file or its directory may not be used by this user.
        case permissionDenied(path: String)
        /// The daemon did not answer in time.
        case timedOut(daemon: String, path: String, timeout: Duration)
        /// The daemon closed the connection or answered with something that is not a response line.
        case badResponse(path: String, detail: String)
        /// Another system error.
        case systemError(path: String, detail: String)

        /// A one-line explanation that names the path and what to do.
        package var description: String {
            switch self {
            case .notRunning(let daemon, let path):
                "\(daemon) is not running: no control socket at \(path)"
            case .notAccepting(let daemon, let path):
                "\(daemon) is not running: control socket \(path) refuses connections (stale socket from a crash?)"
            case .permissionDenied(let path):
                "permission denied on control socket \(path): run as root or as the daemon's user"
            case .timedOut(let daemon, let path, let timeout):
                "no answer from \(daemon) on \(path) within \(timeout); check `journalctl -u \(daemon)`"
            case .badResponse(let path, let detail):
                "unexpected answer on control socket \(path): \(detail)"
            case .systemError(let path, let detail):
                "control socket \(path): \(detail)"
            }
        }
    }

    /// Sends `request` and returns the daemon's response.
    ///
    /// - Parameters:
    ///   - request: the request to send.
    ///   - path: the control socket; default ``ControlSocketPath/default(daemonName:environment:)``.
    ///   - timeout: how long to wait for the whole exchange; default 90 seconds (systemd's default reload timeout).
    ///   - daemonName: used in error messages.
    /// - Throws: ``Failure``.
    package static func send(
        _ request: ControlCommand,
        to path: String = ControlSocketPath.default(),
        timeout: Duration = .seconds(90),
        daemonName: String = "certkeeper",
        onProgress: (@Sendable (String) -> Void)? = nil
    ) async throws -> ControlResponse {
        var info = stat()
        if stat(path, &info) != 0 {
            throw failure(errno: errno, daemon: daemonName, path: path)
        }
        let connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch let error as IOError {
            throw failure(errno: error.errnoCode, daemon: daemonName, path: path)
        } catch {
            throw Failure.systemError(path: path, detail: "connect failed: \(error)")
        }
        let line: [UInt8]?
        do {
            line = try await connection.executeThenClose { inbound, outbound in
                // A daemon that refuses this peer answers at once and closes without reading the request, so the
                // write may fail on a closed channel: its answer is already there to read.
                do {
                    try await outbound.write(ControlLineIO.encodeLine(request))
                } catch {
                    if let answer = try? await ControlLineIO.readLine(
                        from: inbound, limit: 16 * 1024 * 1024, timeout: .seconds(1))
                    {
                        return answer
                    }
                    throw error
                }
                // Progress lines (renew --wait) are handed over, or skipped when nobody asked for them.
                return try await ControlLineIO.readAnswer(
                    from: inbound, limit: 16 * 1024 * 1024, timeout: timeout, onProgress: onProgress ?? { _ in })
            }
        } catch ControlLineIO.ReadError.timedOut {
            throw Failure.timedOut(daemon: daemonName, path: path, timeout: timeout)
        } catch {
            throw Failure.badResponse(path: path, detail: "\(error)")
        }
        guard let line else {
            throw Failure.badResponse(path: path, detail: "the daemon closed the connection without answering")
        }
        do {
            return try ControlLineIO.decode(ControlResponse.self, from: line)
        } catch {
            throw Failure.badResponse(path: path, detail: "not a JSON response line (\(line.count) bytes)")
        }
    }

    private static func failure(errno code: Int32, daemon: String, path: String) -> Failure {
        switch code {
        case ENOENT, ENOTDIR: .notRunning(daemon: daemon, path: path)
        case ECONNREFUSED: .notAccepting(daemon: daemon, path: path)
        case EACCES, EPERM: .permissionDenied(path: path)
        default: .systemError(path: path, detail: "\(errnoDescription(code)) (errno \(code))")
        }
    }
}
