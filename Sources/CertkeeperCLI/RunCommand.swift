import ArgumentParser
import CertkeeperConfig
import CertkeeperLogging
import ControlSocket
import DaemonControl
import DaemonThreads
import Foundation
import Logging
import Renewal
import SafeFiles
import SystemdSupport

/// `certkeeper run`: the daemon, in the foreground.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the renewal daemon in the foreground (systemd: Type=notify).")

    @OptionGroup var directories: DirectoryOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    @Flag(
        help:
            "Do what is due now, once, and exit: 0 when no certificate is failing, 1 otherwise (cron, systemd timers, containers, CI)."
    )
    var once = false

    @Flag(help: "With --once: renew every certificate, due or not, ignoring back-off.")
    var force = false

    func validate() throws {
        if force && !once {
            throw ValidationError(
                "--force goes with --once; to renew one certificate in a running daemon use `certkeeper renew NAME --force`"
            )
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        _ = LoggingSetup.bootstrap(identifier: "certkeeper", level: level)
        let logger = Logger(label: "certkeeper")
        let dirs = directories.resolved
        // Under sudo beside the daemon: its own links in the state directory are followed as it follows them.
        TrustedOwner.trustOwner(ofStateDirectory: dirs.state)

        // SIGHUP is taken before READY=1: its default action would end the process.
        let signals = ProcessSignals.process ?? ProcessSignals(stop: ProcessSignals.stop, reload: ProcessSignals.reload)
        let reloadSignals = signals.reloads()

        // The daemon's reloads read through the same source: its cache of parsed specs starts warm.
        let source = DirectoryConfigurationSource(directory: dirs.config)
        let result = source.load()
        for diagnostic in result.allDiagnostics {
            logger.error("\(diagnostic)", metadata: CertkeeperEvent.reloadRejectedSpec.metadata)
        }
        guard let configuration = result.configuration else {
            logger.critical(
                "certkeeper.toml in \(dirs.config) has errors; fix them (see `certkeeper check`) and start again")
            throw ExitCode(1)
        }
        let daemon = try Daemon(
            directories: dirs, source: source, configuration: configuration,
            rejectedSpecs: result.specDiagnostics.keys.sorted(),
            logger: logger)
        let pool: Task<Void, Never>?
        do {
            pool = try await daemon.startStore()
        } catch {
            logger.critical("cannot open the store \(daemon.store.location): \(error)")
            throw ExitCode(1)
        }
        defer { pool?.cancel() }
        if once {
            let status = await daemon.runOnce(force: force)
            if status != 0 { throw ExitCode(status) }
            return
        }
        // From here the first SIGTERM or SIGINT starts the graceful shutdown and the stop deadline, which bounds it
        // whatever ignores cancellation. Before (waiting for the store) and with --once, they end the process at once.
        let (stopSignals, stopContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        signals.handleStop(
            .init(grace: Self.stopGracePeriod) {
                stopContinuation.yield()
            } onExpiry: {
                logger.warning("shutdown took longer than \(Self.stopGracePeriod); exiting anyway")
            })
        await daemon.run(
            reloadSignals: reloadSignals, stopSignals: stopSignals,
            certificateCount: configuration.certificates.count)
        logger.notice("certkeeper stopped")
    }

    /// How long shutdown may take before the process exits regardless (below the unit's TimeoutStopSec=10).
    static let stopGracePeriod: Duration = .seconds(5)
}
