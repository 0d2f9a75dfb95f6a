import Foundation
import Logging
import Renewal
import ServiceLifecycle

/// Sends WATCHDOG=1 while the scheduler loop answers and no attempt is stuck past its deadline; when the pings
/// stop, systemd restarts the daemon (`WatchdogSec=`).
package struct WatchdogService: Service {
    package var scheduler: RenewalScheduler
    package var notifier: any ServiceNotifier
    package var clock: any DaemonClock
    /// How long an attempt may run before the daemon counts as stuck (the job timeout plus a margin).
    package var stuckAfter: TimeInterval
    package var logger: Logger

    package init(
        scheduler: RenewalScheduler, notifier: any ServiceNotifier, clock: any DaemonClock, stuckAfter: TimeInterval,
        logger: Logger
    ) {
        self.scheduler = scheduler
        self.notifier = notifier
        self.clock = clock
        self.stuckAfter = stuckAfter
        self.logger = logger
    }

    package func run() async {
        guard let interval = notifier.watchdogInterval else { return }
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        await cancelWhenGracefulShutdown { [scheduler, notifier, clock, stuckAfter, logger] in
            // The first ping waits for the scheduler loop (it starts with READY=1).
            await scheduler.waitUntilRunning()
            var reported = false
            while !Task.isCancelled {
                if await scheduler.isAlive(now: clock.now(), stuckAfter: stuckAfter) {
                    _ = notifier.watchdog()
                    reported = false
                } else if !reported {
                    logger.critical(
                        "the scheduler is not making progress; withholding WATCHDOG=1 so systemd restarts certkeeper")
                    reported = true
                }
                do {
                    try await clock.sleep(until: clock.now().addingTimeInterval(seconds))
                } catch {
                    return  // cancelled: shutdown
                }
            }
        }
    }
}
