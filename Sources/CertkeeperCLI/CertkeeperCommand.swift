import ArgumentParser
import DaemonThreads
import Foundation
import Renewal
import Synchronization

/// The `certkeeper` command line; `Sources/certkeeper/main.swift` runs it.
package struct CertkeeperCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "certkeeper",
        abstract: "An ACME certificate renewal daemon: accounts registered once, certificates kept valid.",
        version: CertkeeperVersion.string,
        subcommands: [
            RunCommand.self, CheckCommand.self, StatusCommand.self, ReloadCommand.self, RenewCommand.self,
            RevokeCommand.self, DeleteCommand.self, AccountCommand.self, StoreCommand.self, MigrateCommand.self,
        ]
    )

    package init() {}

    /// Parses the process's arguments and runs the command they name (the executables' whole `main`).
    package static func runFromCommandLine() async {
        await Self.main(nil)
    }

    /// The process: signals and Swift concurrency's global executor set up before any other thread exists
    /// (``ProcessSignals``, ``GlobalExecutor``), the command run on the event loops, the main thread parked until
    /// the command exits the process. `main` calls this; it never returns.
    package static func runAsProcess() -> Never {
        HeapMemory.configure()
        ProcessSignals.startForProcess()
        GlobalExecutor.install()
        // Detached: top-level code is on the main actor, whose executor (libdispatch's main queue) nothing drains.
        Task.detached {
            await runFromCommandLine()
            Foundation.exit(0)
        }
        while true { pause() }
    }

    /// Where the daemon may be made to crash on purpose: nowhere in the product; the `certkeeper-crashing` test
    /// binary arms it from `CERTKEEPER_FAULT`.
    package static let crashPoints = Mutex<any CrashPoints>(NoCrashPoints())
}

/// `--config-dir` and `--state-dir`, shared by the commands that read them.
struct DirectoryOptions: ParsableArguments {
    @Option(help: "Configuration directory (default: $CONFIGURATION_DIRECTORY or /etc/certkeeper).")
    var configDir: String?

    @Option(help: "State directory (default: $STATE_DIRECTORY or /var/lib/certkeeper).")
    var stateDir: String?

    var resolved: Directories {
        Directories.resolve(
            configFlag: configDir, stateFlag: stateDir, environment: ProcessInfo.processInfo.environment)
    }
}
