import CertkeeperConfig
import ChallengeSolvers
import DNSWire
import Foundation

/// Builds the solver for a spec's challenge settings, sharing the built-in responders across certificates.
package struct SolverFactory: Sendable {
    package let httpPool: HTTP01ResponderPool
    package let tlsPool: TLSALPN01ResponderPool
    package let secrets: SecretReader
    /// A fleet's token relay (PostgreSQL store): built-in http-01 tokens are answered by every node.
    package let relay: HTTP01TokenRelay?

    package init(
        httpPool: HTTP01ResponderPool, tlsPool: TLSALPN01ResponderPool, secrets: SecretReader,
        relay: HTTP01TokenRelay? = nil
    ) {
        self.httpPool = httpPool
        self.tlsPool = tlsPool
        self.secrets = secrets
        self.relay = relay
    }

    /// The solver for one name's challenge settings.
    package func solver(for spec: SolverSpec) async throws -> any ChallengeSolver {
        switch spec {
        case .http01Webroot(let path):
            return WebrootHTTP01Solver(webroot: path)
        case .http01Listen(let address):
            let local = BuiltinHTTP01Solver(address: address, pool: httpPool)
            guard let relay else { return local }
            return FleetHTTP01Solver(local: local, relay: relay)
        case .tlsALPN01(let address):
            return TLSALPN01Solver(address: address, pool: tlsPool)
        case .dns01Exec(let command, let propagation):
            return ExecDNSSolver(
                command: command, propagationServers: propagation.servers,
                propagationTimeout: .seconds(propagation.timeoutSeconds))
        case .dns01RFC2136(let settings, let propagation):
            var key: TSIGKey?
            if let name = settings.tsigKeyName, let source = settings.tsigSecret {
                let text = String(decoding: try secrets.read(source, what: "TSIG secret for \(name)"), as: UTF8.self)
                let origin: String
                switch source {
                case .file(let path): origin = path
                case .credential(let credential): origin = "credential '\(credential)'"
                }
                key = try TSIGKey.parse(
                    keyFile: text, name: name, algorithm: settings.tsigAlgorithm.rawValue,
                    source: "TSIG key \(name) from \(origin)")
            }
            return RFC2136Solver(
                server: settings.server, zone: settings.zone, key: key, propagationServers: propagation.servers,
                propagationTimeout: .seconds(propagation.timeoutSeconds))
        }
    }
}
