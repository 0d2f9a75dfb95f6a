import Renewal
import ServiceLifecycle

/// Runs the ``RenewalScheduler`` from the moment the daemon is ready until graceful shutdown.
package struct SchedulerService: Service {
    package var scheduler: RenewalScheduler
    package var readiness: OneShotSignal

    package init(scheduler: RenewalScheduler, readiness: OneShotSignal) {
        self.scheduler = scheduler
        self.readiness = readiness
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown { [scheduler, readiness] in
            await readiness.wait()
            guard !Task.isCancelled else { return }
            // Cancellation ends the loop and the attempts in flight (an interrupted order resumes at the next start).
            await scheduler.run()
        }
    }
}
