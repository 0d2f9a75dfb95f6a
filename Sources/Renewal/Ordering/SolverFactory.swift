import ACMEClient
import CertStore
import CertkeeperConfig
import ChallengeSolvers
import DNSProviders
import DNSWire
import Foundation

/// Builds the solver for a spec's challenge settings, sharing the built-in responders across certificates.
package struct SolverFactory: Sendable {
    package let httpPool: HTTP01ResponderPool
    package let tlsPool: TLSALPN01ResponderPool
    package let secrets: SecretReader
    /// A fleet's token relay (PostgreSQL store): built-in http-01 tokens are answered by every node.
    package let relay: HTTP01TokenRelay?
    /// The HTTP transport for DNS provider APIs, made on first use (most set-ups never need one).
    package let apiTransport: @Sendable () throws -> any HTTPTransport
    /// The process environment: Route 53 falls back to `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
    package let environment: [String: String]
    /// Serialises changes to one TXT RRset across every provider solver (a wildcard and its base name share one).
    private let records = NamedAsyncMutex()

    package init(
        httpPool: HTTP01ResponderPool, tlsPool: TLSALPN01ResponderPool, secrets: SecretReader,
        relay: HTTP01TokenRelay? = nil,
        apiTransport: @escaping @Sendable () throws -> any HTTPTransport,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.httpPool = httpPool
        self.tlsPool = tlsPool
        self.secrets = secrets
        self.relay = relay
        self.apiTransport = apiTransport
        self.environment = environment
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
                propagationTimeout: .seconds(propagation.timeoutSeconds), resolver: propagation.resolver)
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
                propagationTimeout: .seconds(propagation.timeoutSeconds), resolver: propagation.resolver,
                delegatedZone: settings.delegatedZone)
        case .dns01Provider(let settings, let propagation):
            return ProviderDNSSolver(
                api: try providerAPI(settings), propagationServers: propagation.servers,
                propagationTimeout: .seconds(propagation.timeoutSeconds), resolver: propagation.resolver,
                records: records)
        }
    }

    /// The API client for one provider's settings, with its secrets read now.
    func providerAPI(_ settings: DNSProviderSettings) throws -> any DNSProviderAPI {
        switch settings {
        case .powerDNS(let powerDNS):
            return PowerDNSAPI(
                apiURL: powerDNS.apiURL, serverID: powerDNS.serverID,
                apiKey: try secret(powerDNS.apiKey, what: "PowerDNS API key"),
                zone: try powerDNS.zone.map { try DNSName($0) }, transport: try apiTransport())
        case .route53(let route53):
            let credentials: AWSSignatureV4.Credentials
            if let keyID = route53.accessKeyID, let secretKey = route53.secretAccessKey {
                credentials = AWSSignatureV4.Credentials(
                    accessKeyID: try secret(keyID, what: "AWS access key id"),
                    secretAccessKey: try secret(secretKey, what: "AWS secret access key"))
            } else if let keyID = environment["AWS_ACCESS_KEY_ID"], !keyID.isEmpty,
                let secretKey = environment["AWS_SECRET_ACCESS_KEY"], !secretKey.isEmpty
            {
                credentials = AWSSignatureV4.Credentials(
                    accessKeyID: keyID, secretAccessKey: secretKey,
                    sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
            } else {
                throw DNS01SolverError(
                    solver: "route53", domain: "(every name of this spec)",
                    reason:
                        "no AWS credentials: set access_key_id_file and secret_access_key_file (or *_credential) in the spec, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the unit's environment"
                )
            }
            return Route53API(
                credentials: credentials, region: route53.region, hostedZoneID: route53.hostedZoneID,
                apiURL: route53.apiURL, transport: try apiTransport())
        case .cloudflare(let cloudflare):
            return CloudflareAPI(
                apiToken: try secret(cloudflare.apiToken, what: "Cloudflare API token"), zoneID: cloudflare.zoneID,
                apiURL: cloudflare.apiURL, transport: try apiTransport())
        }
    }

    private func secret(_ source: SecretSource, what: String) throws -> String {
        String(decoding: try secrets.read(source, what: what), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
