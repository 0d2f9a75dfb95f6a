import ControlSocket
import Logging
import ServiceLifecycle

/// Serves the control socket; READY=1 goes out once it listens, so `certkeeper reload` works as soon as
/// `systemctl start` returns. A socket that cannot be served is logged and the daemon runs on without it.
package struct ControlSocketService: Service {
    package var server: ControlServer
    package var logger: Logger
    /// Called once, when the socket listens (or failed to), before any command is answered.
    package var onListening: @Sendable () async -> Void

    package init(server: ControlServer, logger: Logger, onListening: @escaping @Sendable () async -> Void) {
        self.server = server
        self.logger = logger
        self.onListening = onListening
    }

    package func run() async throws {
        let (listening, listened) = AsyncStream.makeStream(of: Void.self)
        await cancelWhenGracefulShutdown { [server, logger, onListening] in
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await server.run(onListening: { listened.finish() })
                    } catch is CancellationError {
                    } catch {
                        logger.error("control socket stopped: \(error)")
                    }
                    listened.finish()
                }
                for await _ in listening {}
                await onListening()
                await group.waitForAll()
            }
        }
    }
}
