import ServiceLifecycle

/// Reloads the configuration on SIGHUP: each element of `signals` (from ProcessSignals, which takes SIGHUP before
/// READY=1: its default action would end the process).
package struct ReloadSignalService: Service {
    package var signals: AsyncStream<Void>
    package var controller: DaemonController

    package init(signals: AsyncStream<Void>, controller: DaemonController) {
        self.signals = signals
        self.controller = controller
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown { [signals, controller] in
            for await _ in signals {
                await controller.reload()
            }
        }
    }
}
