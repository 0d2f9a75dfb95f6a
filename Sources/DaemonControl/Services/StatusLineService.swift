import Renewal
import ServiceLifecycle

/// Keeps the service manager's one-line status (`STATUS=`) current, at most once per `minimumInterval`, and hands
/// the same report to `onReport` (metrics).
package struct StatusLineService: Service {
    package var controller: DaemonController
    package var notifier: any ServiceNotifier
    package var clock: any DaemonClock
    package var minimumInterval: Double
    package var onReport: (@Sendable (StatusReport) -> Void)?

    package init(
        controller: DaemonController, notifier: any ServiceNotifier, clock: any DaemonClock,
        minimumInterval: Double = 1, onReport: (@Sendable (StatusReport) -> Void)? = nil
    ) {
        self.onReport = onReport
        self.controller = controller
        self.notifier = notifier
        self.clock = clock
        self.minimumInterval = minimumInterval
    }

    package func run() async {
        await cancelWhenGracefulShutdown { [controller, notifier, clock, minimumInterval, onReport] in
            for await _ in controller.statusChanges {
                let report = await controller.liveStatus()
                _ = notifier.status(report.summaryLine(now: clock.now()))
                onReport?(report)
                // Cancelled (shutdown): the loop ends with the stream.
                try? await clock.sleep(until: clock.now().addingTimeInterval(minimumInterval))
            }
        }
    }
}
