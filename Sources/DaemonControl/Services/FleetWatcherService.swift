import Renewal
import ServiceLifecycle

/// Runs the ``FleetWatcher`` (PostgreSQL store only) until shutdown.
package struct FleetWatcherService: Service {
    package var watcher: FleetWatcher

    package init(watcher: FleetWatcher) {
        self.watcher = watcher
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown { [watcher] in await watcher.run() }
    }
}

/// Runs an async body until shutdown (small daemon duties that need no type of their own).
package struct TaskService: Service {
    package var body: @Sendable () async -> Void

    package init(_ body: @escaping @Sendable () async -> Void) {
        self.body = body
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown { [body] in await body() }
    }
}
