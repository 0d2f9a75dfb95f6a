import ArgumentParser
import CertkeeperConfig
import Foundation
import Logging
import Renewal
import SystemdSupport
import UnixSignals

/// `certkeeper run`: the daemon, in the foreground.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the renewal daemon in the foreground (systemd: Type=notify).")

    @OptionGroup var directories: DirectoryOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        _ = LoggingSetup.bootstrap(identifier: "certkeeper", level: level)
        let logger = Logger(label: "certkeeper")
        let dirs = directories.resolved

        // Signals are trapped before READY=1: SIGHUP's default action would kill the process.
        let reloadSignals = await UnixSignalsSequence(trapping: .sighup)
        let stopSignals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let stopDeadline = StopDeadline(grace: Self.stopGracePeriod) {
            logger.warning("shutdown took longer than \(Self.stopGracePeriod); exiting anyway")
        }

        let result = ConfigLoader().load(configDirectory: dirs.config)
        for diagnostic in result.allDiagnostics {
            logger.error("\(diagnostic)", metadata: CertkeeperEvent.reloadRejectedSpec.metadata)
        }
        guard let configuration = result.configuration else {
            logger.critical(
                "certkeeper.toml in \(dirs.config) has errors; fix them (see `certkeeper check`) and start again")
            throw ExitCode(1)
        }
        let daemon = try Daemon(
            directories: dirs, configuration: configuration, rejectedSpecs: result.specDiagnostics.keys.sorted(),
            logger: logger)
        await daemon.start()
        let notifier = daemon.notifier
        let control = ControlServer(
            configuration: .init(path: ControlSocketPath.default(environment: ProcessInfo.processInfo.environment)),
            logger: logger
        ) { request in await daemon.handle(request) }

        // READY=1 only once the control socket listens, so `certkeeper reload` works as soon as systemctl returns.
        let (listening, listened) = AsyncStream.makeStream(of: Void.self)

        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await control.run(onListening: { listened.finish() })
                } catch is CancellationError {
                } catch {
                    logger.error("control socket stopped: \(error)")
                }
                listened.finish()
            }
            for await _ in listening {}
            logger.notice(
                "certkeeper \(CertkeeperVersion.string) started: \(configuration.certificates.count) certificate(s), config \(dirs.config), state \(dirs.state)"
            )
            _ = notifier.ready(status: await daemon.status().summaryLine(now: Date()))
            group.addTask { await daemon.scheduler.run() }
            group.addTask { await daemon.runStatusUpdates() }
            group.addTask {
                for await _ in reloadSignals {
                    _ = await daemon.reload()
                }
            }
            if let interval = notifier.watchdogInterval {
                // WATCHDOG=1 only while the scheduler loop answers and no attempt is stuck past its deadline; when
                // the pings stop, systemd restarts the daemon (WatchdogSec=).
                let stuckAfter = TimeInterval(configuration.defaults.jobTimeoutSeconds) + Self.stuckMargin
                let scheduler = daemon.scheduler
                group.addTask {
                    var reported = false
                    while !Task.isCancelled {
                        if await scheduler.isAlive(now: Date(), stuckAfter: stuckAfter) {
                            _ = notifier.watchdog()
                            reported = false
                        } else if !reported {
                            logger.critical(
                                "the scheduler is not making progress; withholding WATCHDOG=1 so systemd restarts certkeeper"
                            )
                            reported = true
                        }
                        try? await Task.sleep(for: interval)
                    }
                }
            }
            for await signal in stopSignals {
                logger.notice("received \(signal), stopping")
                _ = notifier.stopping(status: "Stopping")
                break
            }
            // StopDeadline (armed by the signal itself) bounds what follows, whatever does not honour cancellation.
            group.cancelAll()
        }
        await daemon.shutdown()
        logger.notice("certkeeper stopped")
        withExtendedLifetime(stopDeadline) {}
    }

    /// How long an attempt may run past `job_timeout` before the watchdog calls the daemon stuck.
    static let stuckMargin: TimeInterval = 120

    /// How long shutdown may take before the process exits regardless (below the unit's TimeoutStopSec=10).
    static let stopGracePeriod: Duration = .seconds(5)
}
