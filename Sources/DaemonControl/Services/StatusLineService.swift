import Renewal
import ServiceLifecycle

/// Keeps the service manager's one-line status (`STATUS=`) current, at most once per `minimumInterval`.
package struct StatusLineService: Service {
    package var controller: DaemonController
    package var notifier: any ServiceNotifier
    package var clock: any DaemonClock
    package var minimumInterval: Double

    package init(
        controller: DaemonController, notifier: any ServiceNotifier, clock: any DaemonClock,
        minimumInterval: Double = 1
    ) {
        self.controller = controller
        self.notifier = notifier
        self.clock = clock
        self.minimumInterval = minimumInterval
    }

    package func run() async {
        await cancelWhenGracefulShutdown { [controller, notifier, clock, minimumInterval] in
            for await _ in controller.statusChanges {
                let line = await controller.statusLine()
                _ = notifier.status(line)
                // Cancelled (shutdown): the loop ends with the stream.
                try? await clock.sleep(until: clock.now().addingTimeInterval(minimumInterval))
            }
        }
    }
}
