import ArgumentParser
import CertStore
import CertkeeperConfig
import ControlSocket
import Foundation
import Renewal
import SafeFiles

/// `certkeeper status`: every certificate with names, CA, account, expiry, next action, last error.
/// Asks the running daemon when there is one; otherwise reads config and state from disk.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show every certificate: names, CA, account, expiry, next action, errors.")

    @OptionGroup var directories: DirectoryOptions

    @Flag(help: "Print JSON.")
    var json = false

    @Option(
        help:
            "Control socket of a running daemon (default: $RUNTIME_DIRECTORY/control.sock or /run/certkeeper/control.sock)."
    )
    var socket: String?

    @Flag(help: "Do not ask a running daemon; read config and state from disk.")
    var offline = false

    func run() async throws {
        let report = try await loadReport()
        let now = Date()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.table(now: now))
            print("")
            print((report.live ? "daemon running: " : "daemon not reached, from disk: ") + report.summaryLine(now: now))
        }
    }

    private func loadReport() async throws -> StatusReport {
        let environment = ProcessInfo.processInfo.environment
        if !offline {
            let path = socket ?? ControlSocketPath.default(environment: environment)
            if let response = try? await ControlClient.send(
                ControlCommand.status, to: path, timeout: .seconds(10)),
                response.ok, let payload = response.payload
            {
                let decoder = JSONDecoder()
                decoder.dateDecodingStrategy = .iso8601
                return try decoder.decode(StatusReport.self, from: Data(payload.utf8))
            }
        }
        let dirs = directories.resolved
        // Under sudo beside the daemon: its own links in the state directory are followed as it follows them.
        TrustedOwner.trustOwner(ofStateDirectory: dirs.state)
        let result = ConfigLoader().load(configDirectory: dirs.config)
        guard let configuration = result.configuration else {
            FileHandle.standardError.write(Data((formatDiagnostics(result.allDiagnostics) + "\n").utf8))
            throw ExitCode(1)
        }
        return try await withConfiguredStore(dirs) { store in
            await StatusReport.build(
                configuration: configuration, stateDirectory: dirs.state, stateStore: store.states,
                rejectedSpecs: result.specDiagnostics.keys.sorted(), now: Date())
        }
    }
}
