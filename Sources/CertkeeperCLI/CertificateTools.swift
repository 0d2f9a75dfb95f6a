import CertStore
import CertkeeperConfig
import Foundation
import Installer
import Logging
import Renewal

/// What `revoke` and `delete --revoke` need: the revoker on the configured stores (the state directory, or a fleet's
/// database: accounts, state and the certificate's lease there), with a CA client whose HTTP transports are shut down
/// when it is done (an `HTTPClient` released without `shutdown()` traps).
struct CertificateTools {
    var directories: Directories
    var store: StoreBackend

    /// Revokes the installed certificate of `spec` under its lock, with the issuing account's key.
    func revoke(
        name: String, spec: CertificateSpec, reason: CertificateRevoker.Reason
    ) async throws -> CertificateRevoker.Outcome {
        guard let installed = await InstalledCertificateReader.load(spec: spec, stateDirectory: directories.state)
        else {
            throw CertificateToolError(
                "\(name) has no readable installed certificate (\(spec.install.fullchain ?? "\(directories.state)/live/\(name)")); nothing to revoke"
            )
        }
        let state = try await store.states.load(name: name)
        // The account that issued it, when the state knows it and it is still this CA; else the spec's account.
        let accountName =
            state?.issuer.flatMap { $0.directoryURL == spec.ca.directoryURL ? $0.accountName : nil }
            ?? spec.account.name
        return try await withRevoker { revoker in
            try await store.locks.withLock(LeaseFence.certificateLockName(name)) {
                try await revoker.revoke(
                    name: name, installed: installed, ca: spec.ca, accountName: accountName, reason: reason)
            }
        }
    }

    /// Revokes the certificate of a removed spec from the default layout, at the CA its state names.
    func revokeRemoved(name: String, state: CertificateState?) async throws -> CertificateRevoker.Outcome {
        guard let issuer = state?.issuer else {
            throw CertificateToolError(
                "the state of \(name) does not say which CA issued it (it was adopted, or never issued): nothing revoked, nothing deleted"
            )
        }
        guard
            let installed = await InstalledCertificateReader.load(
                name: name, target: InstallTarget(), stateDirectory: directories.state)
        else {
            throw CertificateToolError(
                "no readable certificate in \(directories.state)/live/\(name) (certificates at [install] paths must be revoked with `certkeeper revoke` before their spec is removed): nothing revoked, nothing deleted"
            )
        }
        let ca =
            (try? resolveCA(issuer.directoryURL, configDirectory: directories.config))
            ?? CASettings(name: issuer.directoryURL, directoryURL: issuer.directoryURL)
        return try await withRevoker { revoker in
            try await revoker.revoke(
                name: name, installed: installed, ca: ca, accountName: issuer.accountName, reason: .cessationOfOperation
            )
        }
    }

    private func withRevoker<T: Sendable>(_ body: (CertificateRevoker) async throws -> T) async throws -> T {
        let transports = TransportRegistry()
        let proxies = ProxyPolicy(environment: ProcessInfo.processInfo.environment)
        let clients = ACMEClientPool(logger: Logger(label: "certkeeper")) { ca in
            try transports.make(for: ca, policy: proxies)
        }
        let revoker = CertificateRevoker(
            accounts: store.accounts, stateStore: store.states, clients: clients,
            clock: SystemClock())
        do {
            let value = try await body(revoker)
            await transports.shutdownAll()
            return value
        } catch {
            await transports.shutdownAll()
            throw error
        }
    }
}

/// A revoke or delete that cannot go ahead, with what to do.
struct CertificateToolError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
