import ArgumentParser
import ControlSocket
import Foundation

/// `certkeeper reload`: asks the running daemon to re-read its configuration and waits for the outcome.
/// This is the unit's `ExecReload=`, so `systemctl reload certkeeper` fails when a spec was rejected.
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Reload the running daemon's configuration and wait for the result.")

    @Option(help: "Control socket (default: $RUNTIME_DIRECTORY/control.sock or /run/certkeeper/control.sock).")
    var socket: String?

    func run() async throws {
        try await sendControl(.reload, socket: socket)
    }
}

/// `certkeeper renew NAME [--force]`: asks the running daemon to act on a certificate now.
struct RenewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "renew", abstract: "Ask the running daemon to check (or with --force, renew) a certificate now.")

    @Argument(help: "The certificate name (its spec file's stem).")
    var name: String

    @Flag(help: "Renew even if the certificate is not due and ignore backoff.")
    var force = false

    @Option(help: "Control socket (default: $RUNTIME_DIRECTORY/control.sock or /run/certkeeper/control.sock).")
    var socket: String?

    func run() async throws {
        try await sendControl(.renew(name: name, force: force), socket: socket)
    }
}

/// Sends one request to the daemon, prints its answer, and exits 1 when it reports failure.
func sendControl(_ request: ControlCommand, socket: String?) async throws {
    let path = socket ?? ControlSocketPath.default(environment: ProcessInfo.processInfo.environment)
    do {
        let response = try await ControlClient.send(request, to: path)
        if response.ok {
            print(response.message)
        } else {
            FileHandle.standardError.write(Data("certkeeper: \(response.message)\n".utf8))
            throw ExitCode(1)
        }
    } catch let failure as ControlClient.Failure {
        FileHandle.standardError.write(Data("certkeeper: \(failure)\n".utf8))
        throw ExitCode(2)
    }
}
