import ArgumentParser
import Foundation
import Renewal

@main
struct CertkeeperCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certkeeper",
        abstract: "An ACME certificate renewal daemon: accounts registered once, certificates kept valid.",
        version: CertkeeperVersion.string,
        subcommands: [
            RunCommand.self, CheckCommand.self, StatusCommand.self, ReloadCommand.self, RenewCommand.self,
            AccountCommand.self,
        ]
    )
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
