import ArgumentParser
import CertkeeperConfig
import Foundation

/// `certkeeper check`: validates the configuration like `nginx -t`.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate certkeeper.toml and certs.d/*.toml; exit non-zero on any error.")

    @Option(help: "Configuration directory (default: $CONFIGURATION_DIRECTORY or /etc/certkeeper).")
    var configDir: String?

    func run() throws {
        let directory = Directories.resolve(
            configFlag: configDir, stateFlag: nil, environment: ProcessInfo.processInfo.environment
        ).config
        let result = ConfigLoader().load(configDirectory: directory)
        let diagnostics = result.allDiagnostics
        if !diagnostics.isEmpty {
            FileHandle.standardError.write(Data((formatDiagnostics(diagnostics) + "\n").utf8))
            FileHandle.standardError.write(
                Data("certkeeper: \(diagnostics.count) error(s) in \(directory)\n".utf8))
            throw ExitCode(1)
        }
        let count = result.configuration?.certificates.count ?? 0
        print("certkeeper: configuration in \(directory) is valid (\(count) certificate spec\(count == 1 ? "" : "s"))")
    }
}
