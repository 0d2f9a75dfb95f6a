import Logging
import ServiceLifecycle

/// Tells the service manager and the journal that shutdown began (STOPPING=1), as soon as it begins.
package struct ShutdownAnnouncer: Service {
    package var notifier: any ServiceNotifier
    package var logger: Logger

    package init(notifier: any ServiceNotifier, logger: Logger) {
        self.notifier = notifier
        self.logger = logger
    }

    package func run() async throws {
        do {
            try await gracefulShutdown()
        } catch is CancellationError {
            return
        }
        logger.notice("stop requested, stopping")
        _ = notifier.stopping(status: "Stopping")
    }
}
