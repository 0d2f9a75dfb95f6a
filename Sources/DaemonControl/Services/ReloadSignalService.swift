import ServiceLifecycle
import UnixSignals

/// Reloads the configuration on SIGHUP. The signal is trapped by whoever builds the sequence (before READY=1:
/// SIGHUP's default action would end the process).
package struct ReloadSignalService: Service {
    package var signals: UnixSignalsSequence
    package var controller: DaemonController

    package init(signals: UnixSignalsSequence, controller: DaemonController) {
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
