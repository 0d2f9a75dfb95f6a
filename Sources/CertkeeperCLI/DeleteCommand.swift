import ArgumentParser
import CertStore
import CertkeeperConfig
import ControlSocket
import Foundation
import Installer
import Renewal
import SafeFiles

/// `certkeeper delete NAME [--revoke]`: removes what certkeeper keeps for a certificate whose spec is gone (its
/// state, the default layout's `live/NAME` and `archive/NAME/`), optionally revoking it first. Files at paths an
/// `[install]` table named belong to the operator and stay. On a fleet node the state and the fleet's certificate
/// in the database go too, once no live node has the spec; each node's own files go when it runs `delete`.
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Remove a certificate's state and live files after its spec is gone (optionally revoking it).")

    @OptionGroup var directories: DirectoryOptions

    @Argument(help: "The certificate name (the stem of the removed spec file).")
    var name: String

    @Flag(help: "Revoke the certificate in the default layout (live/NAME) first.")
    var revoke = false

    @Flag(
        help:
            "On a fleet node: delete even though nodes not heard from lately still have a spec of NAME (they are gone for good)."
    )
    var force = false

    @Option(help: "Control socket (default: $RUNTIME_DIRECTORY/control.sock or /run/certkeeper/control.sock).")
    var socket: String?

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    func run() async throws {
        guard StateName.isValid(name) else {
            throw ValidationError("'\(name)' is not a certificate name (letters, digits, '.', '_', '-')")
        }
        let dirs = directories.resolved
        // Under sudo beside the daemon: its own links in the state directory are followed as it follows them.
        TrustedOwner.trustOwner(ofStateDirectory: dirs.state)
        // The file itself, not the parsed configuration: a broken certkeeper.toml must not make the spec look gone.
        let specPath = "\(dirs.config)/certs.d/\(name).toml"
        if access(specPath, F_OK) == 0 || errno != ENOENT {
            throw CertificateToolError(
                "\(specPath) still exists: remove it, run `systemctl reload certkeeper`, then delete")
        }
        // A daemon that has not reloaded since the spec went still renews it, and would write it all again. Only a
        // daemon that is certainly not there (no socket, nobody accepting) lets the delete go on unasked.
        let path = controlSocketPath(socket)
        do {
            let response = try await ControlClient.send(.status, to: path, timeout: .seconds(10))
            guard response.ok, let payload = response.payload,
                let report = try? Self.decoder.decode(StatusReport.self, from: Data(payload.utf8))
            else {
                throw CertificateToolError(
                    "the daemon at \(path) did not say which certificates it manages (\(response.message)); nothing deleted"
                )
            }
            if report.certificates.contains(where: { $0.name == name }) {
                throw CertificateToolError(
                    "the running daemon still manages \(name): run `systemctl reload certkeeper` (or `certkeeper reload`) first"
                )
            }
        } catch let failure as ControlClient.Failure {
            switch failure {
            case .notRunning, .notAccepting: break
            default:
                throw CertificateToolError(
                    "could not ask the daemon whether it still manages \(name) (\(failure)); nothing deleted")
            }
        }
        let removed = try await withConfiguredStore(dirs) { store in
            try await remove(store: store, directories: dirs)
        }
        guard !removed.isEmpty else {
            throw CertificateToolError("nothing is stored for '\(name)' in \(dirs.state) or its store")
        }
        for path in removed { print("removed \(path)") }
        print(
            "\(name): deleted; files at paths its [install] table named, if any, were left in place")
    }

    /// Revokes (with `--revoke`) and removes the state, the fleet's certificate (on a fleet node, once no node has
    /// the spec) and the default layout, under the certificate's lock (lease); returns what was removed.
    private func remove(store: StoreBackend, directories dirs: Directories) async throws -> [String] {
        try await store.locks.withLock(LeaseFence.certificateLockName(name)) {
            if let specs = store.specs {
                try refuseWhileNodesHaveTheSpec(try await specs.nodesHaving(name: name), store: store)
            }
            let state = try await store.states.load(name: name)
            if revoke { try await revokeInstalled(state: state, store: store, directories: dirs) }
            let hasPendingKey = try await store.states.pendingKey(name: name) != nil
            try await store.states.remove(name: name)
            var removed = state != nil || hasPendingKey ? [store.stateLocation(of: name)] : []
            if let shared = store.shared, try await shared.remove(name: name) {
                removed.append("the fleet's certificate \(name) in \(store.location)")
            }
            return removed + (try CertificateInstaller().removeDefaultLayout(name: name, stateDirectory: dirs.state))
        }
    }

    /// The database's state and certificate are every node's: gone only when no node renews it. A node not heard
    /// from lately (stopped, cut off) would adopt what it has installed when it returns, so it counts too, unless
    /// `--force` says it is gone for good.
    private func refuseWhileNodesHaveTheSpec(_ holders: [FleetSpecHolder], store: StoreBackend) throws {
        let live = holders.filter(\.live).map(\.node)
        guard live.isEmpty else {
            throw CertificateToolError(
                "node(s) \(live.joined(separator: ", ")) of the fleet at \(store.location) still have a spec of \(name): remove it there and reload them first; nothing deleted"
            )
        }
        let away = holders.filter { !$0.live }.map(\.node)
        guard away.isEmpty || force else {
            throw CertificateToolError(
                "node(s) \(away.joined(separator: ", ")) of the fleet at \(store.location), not heard from lately, still have a spec of \(name): remove it there when they are back, or pass --force if they are gone for good; nothing deleted"
            )
        }
    }

    /// Revokes what this node has installed in the default layout. On a fleet node whose store no longer knows the
    /// certificate (another node's delete removed it, revoking it there if asked), nothing is revoked here.
    private func revokeInstalled(state: CertificateState?, store: StoreBackend, directories dirs: Directories)
        async throws
    {
        if let shared = store.shared {
            let published = try await shared.latest(name: name)
            guard state != nil || published != nil else {
                print(
                    "\(name): the fleet's store no longer has it (another node's delete removed it, and revoked it if asked there); not revoked here"
                )
                return
            }
            let local = await InstalledCertificateReader.load(
                name: name, target: InstallTarget(), stateDirectory: dirs.state)
            if let published, let local, published.serial != local.info.serialHex {
                throw CertificateToolError(
                    "this node's \(dirs.state)/live/\(name) (serial \(local.info.serialHex)) is not the fleet's current certificate (serial \(published.serial)): run delete --revoke on a node that has it installed; nothing revoked, nothing deleted"
                )
            }
        }
        let outcome = try await CertificateTools(directories: dirs, store: store).revokeRemoved(
            name: name, state: state)
        print(
            "\(name): certificate \(outcome.serial) "
                + (outcome.alreadyRevoked ? "was already revoked" : "revoked")
                + ", signed with \(outcome.signedWith)")
    }
}
