import ArgumentParser
import CertkeeperConfig
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

    @Flag(
        help: "Wait for the attempt, printing its progress; exit 0 once installed (or nothing was due), 1 on failure.")
    var wait = false

    @Option(help: "With --wait: give up waiting after this long (e.g. 45m; the attempt goes on in the daemon).")
    var timeout: String = "45m"

    @Option(help: "Control socket (default: $RUNTIME_DIRECTORY/control.sock or /run/certkeeper/control.sock).")
    var socket: String?

    func validate() throws {
        if DurationSyntax.seconds(from: timeout).map({ $0 > 0 }) != true {
            throw ValidationError("--timeout '\(timeout)' is not a duration such as 90s, 45m or 2h")
        }
    }

    func run() async throws {
        guard wait else {
            try await sendControl(.renew(name: name, force: force), socket: socket)
            return
        }
        let seconds = DurationSyntax.seconds(from: timeout) ?? 2700
        let name = self.name
        try await sendControl(
            .renewWaiting(name: name, force: force), socket: socket, timeout: .seconds(seconds)
        ) { line in print("\(name): \(line)") }
    }
}

/// The control socket a command talks to: `--socket`, else the daemon's default under `$RUNTIME_DIRECTORY`.
func controlSocketPath(_ socket: String?) -> String {
    socket ?? ControlSocketPath.default(environment: ProcessInfo.processInfo.environment)
}

/// Sends one request to the daemon, prints its answer, and exits 1 when it reports failure.
func sendControl(
    _ request: ControlCommand, socket: String?, timeout: Duration = .seconds(90),
    onProgress: (@Sendable (String) -> Void)? = nil
) async throws {
    let path = controlSocketPath(socket)
    do {
        let response = try await ControlClient.send(request, to: path, timeout: timeout, onProgress: onProgress)
        if response.ok {
            print(response.message)
        } else {
            FileHandle.standardError.write(Data("certkeeper: \(response.message)\n".utf8))
            throw ExitCode(1)
        }
    } catch let failure as ControlClient.Failure {
        if case .timedOut = failure, onProgress != nil {
            // The daemon answered the request (progress lines came); only the wait ended.
            FileHandle.standardError.write(
                Data(
                    "certkeeper: stopped waiting after \(timeout); the attempt goes on in the daemon (see `certkeeper status` and `journalctl -u certkeeper`)\n"
                        .utf8))
            throw ExitCode(1)
        }
        FileHandle.standardError.write(Data("certkeeper: \(failure)\n".utf8))
        throw ExitCode(2)
    }
}
