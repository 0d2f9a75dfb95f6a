import ArgumentParser
import CertStore
import CertkeeperConfig
import ControlSocket
import Foundation
import Logging
import Renewal
import SafeFiles

/// `certkeeper revoke NAME [--reason R]`: revokes the installed certificate with the account key (RFC 8555 §7.6),
/// records it so the certificate is replaced at the next look, and asks the running daemon to replace it now. On a
/// fleet node the account and the record are the database's, so whichever node looks next replaces it.
struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a certificate's installed certificate at its CA, then renew it.")

    @OptionGroup var directories: DirectoryOptions

    @Argument(help: "The certificate name (its spec file's stem).")
    var name: String

    @Option(
        help: ArgumentHelp(
            "Revocation reason: \(CertificateRevoker.Reason.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "reason"))
    var reason: String = CertificateRevoker.Reason.unspecified.rawValue

    @Option(help: "Control socket (default: $RUNTIME_DIRECTORY/control.sock or /run/certkeeper/control.sock).")
    var socket: String?

    func run() async throws {
        guard let reason = CertificateRevoker.Reason(rawValue: reason) else {
            throw ValidationError(
                "unknown reason '\(self.reason)'; use one of \(CertificateRevoker.Reason.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        let dirs = directories.resolved
        // Under sudo beside the daemon: its own links in the state directory are followed as it follows them.
        TrustedOwner.trustOwner(ofStateDirectory: dirs.state)
        let result = ConfigLoader().load(configDirectory: dirs.config)
        guard let configuration = result.configuration else {
            FileHandle.standardError.write(Data((formatDiagnostics(result.allDiagnostics) + "\n").utf8))
            throw ExitCode(1)
        }
        guard let spec = configuration.certificates[name] else {
            throw CertificateToolError(
                "no certificate '\(name)' in \(dirs.config)/certs.d (known: \(configuration.certificates.keys.sorted().joined(separator: ", ")))"
            )
        }
        // On a fleet node: the account and the state in the database, under the certificate's lease; the node's
        // daemon orders the replacement and every node installs it.
        let outcome: CertificateRevoker.Outcome
        do {
            outcome = try await withConfiguredStore(dirs) { store in
                try await CertificateTools(directories: dirs, store: store).revoke(
                    name: name, spec: spec, reason: reason)
            }
        } catch let lost as LeaseLost {
            // The CA may have revoked it already; the record was refused because another node holds the lease.
            throw CertificateToolError(
                "\(name): \(lost) before the revocation was recorded: run `certkeeper revoke \(name)` again (a CA that already revoked it says so, and the record is written then)"
            )
        }
        print(
            "\(name): certificate \(outcome.serial) "
                + (outcome.alreadyRevoked ? "was already revoked" : "revoked (\(reason.rawValue))")
                + " at \(spec.ca.directoryURL), signed with \(outcome.signedWith)")
        // The daemon replaces it now; without one, the state makes the next start (or run --once) order at once.
        let path = controlSocketPath(socket)
        do {
            let response = try await ControlClient.send(.renew(name: name, force: true), to: path)
            guard response.ok else {
                FileHandle.standardError.write(Data("certkeeper: \(response.message)\n".utf8))
                throw ExitCode(1)
            }
            print("\(name): \(response.message)")
        } catch let failure as ControlClient.Failure {
            print(
                "\(name): no daemon answered on \(path) (\(failure)); it is ordered again when the daemon starts, or now with `certkeeper run --once`"
            )
        }
    }
}
