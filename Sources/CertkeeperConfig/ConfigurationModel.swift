import ACMECrypto

// The validated, immutable shape of certkeeper's configuration.
// Parsing lives in ConfigLoader; everything here is plain data.

/// Where a secret (EAB HMAC key, TSIG secret) is read from. The value itself never lives in config.
package enum SecretSource: Sendable, Hashable {
    /// A file path (`eab_hmac_key_file`, `tsig_secret_file`).
    case file(String)
    /// A systemd credential name, read from `$CREDENTIALS_DIRECTORY/NAME` (`*_credential`).
    case credential(String)
}

/// External Account Binding settings (RFC 8555 §7.3.4).
package struct EABSettings: Sendable, Hashable {
    package var keyID: String
    package var hmacKey: SecretSource
    package init(keyID: String, hmacKey: SecretSource) {
        self.keyID = keyID
        self.hmacKey = hmacKey
    }
}

/// A certificate authority: a preset, a `[ca.NAME]` table, or a bare directory URL.
package struct CASettings: Sendable, Hashable {
    /// The preset or table name, or the URL itself when `ca` was a URL.
    package var name: String
    package var directoryURL: String
    /// PEM bundle trusted for the ACME server's own TLS (in addition to the system roots).
    package var trustRootsFile: String?
    package var eab: EABSettings?
    /// True for presets known to require EAB and a contact (google, zerossl, sslcom-*), or when `eab_kid` is set.
    package var requiresEAB: Bool
    /// `proxy` in `[ca.NAME]`: every request to this CA goes through it.
    package var proxy: HTTPProxy?
    package init(
        name: String, directoryURL: String, trustRootsFile: String? = nil, eab: EABSettings? = nil,
        requiresEAB: Bool = false, proxy: HTTPProxy? = nil
    ) {
        self.name = name
        self.directoryURL = directoryURL
        self.trustRootsFile = trustRootsFile
        self.eab = eab
        self.requiresEAB = requiresEAB
        self.proxy = proxy
    }
}

/// An ACME account: a named `[account.NAME]`, or the default account of a CA.
package struct AccountSettings: Sendable, Hashable {
    /// `NAME` for `[account.NAME]`; `default` for a CA's default account.
    package var name: String
    package var ca: CASettings
    package var contact: String?
    /// EAB for this account; for default accounts this is the CA's EAB.
    package var eab: EABSettings?
    /// Account key type (default ecdsa-p256).
    package var keyType: KeyType
    package var isDefault: Bool
    package init(
        name: String, ca: CASettings, contact: String?, eab: EABSettings?, keyType: KeyType = .ecdsaP256,
        isDefault: Bool
    ) {
        self.name = name
        self.ca = ca
        self.contact = contact
        self.eab = eab
        self.keyType = keyType
        self.isDefault = isDefault
    }
}

/// When to renew without ARI.
package enum RenewBefore: Sendable, Hashable {
    /// Renew when this many seconds of validity remain (`renew_before = "30d"`).
    case seconds(Int64)
    /// Renew when this fraction of the lifetime remains (`renew_before = 0.33`).
    case fraction(Double)
}

/// TSIG algorithms accepted for RFC 2136 updates.
package enum TSIGAlgorithmName: String, Sendable, Hashable {
    case hmacSHA256 = "hmac-sha256"
    case hmacSHA384 = "hmac-sha384"
    case hmacSHA512 = "hmac-sha512"
    case hmacSHA1 = "hmac-sha1"
}

/// `provider = "rfc2136"`.
package struct RFC2136Settings: Sendable, Hashable {
    package var server: String  // "host:port", default port 53
    package var zone: String?  // nil: found via SOA lookup
    package var tsigKeyName: String?
    package var tsigAlgorithm: TSIGAlgorithmName
    package var tsigSecret: SecretSource?
    /// The zone to update when `_acme-challenge.NAME` is a CNAME into another zone; nil: found via SOA lookup.
    package var delegatedZone: String?
    package init(
        server: String, zone: String?, tsigKeyName: String?, tsigAlgorithm: TSIGAlgorithmName,
        tsigSecret: SecretSource?,
        delegatedZone: String? = nil
    ) {
        self.server = server
        self.zone = zone
        self.tsigKeyName = tsigKeyName
        self.tsigAlgorithm = tsigAlgorithm
        self.tsigSecret = tsigSecret
        self.delegatedZone = delegatedZone
    }
}

/// Settings every dns-01 provider shares: the propagation check and the resolver.
package struct PropagationSettings: Sendable, Hashable {
    /// Replaces the zone's NS set when non-empty ("host:port").
    package var servers: [String]
    /// Seconds; 0 skips the check. Default 120.
    package var timeoutSeconds: Int64
    /// The recursive resolver ("host:port") that follows `_acme-challenge` CNAMEs and finds name servers; nil: the
    /// first `nameserver` of /etc/resolv.conf.
    package var resolver: String?
    package init(servers: [String] = [], timeoutSeconds: Int64 = 120, resolver: String? = nil) {
        self.servers = servers
        self.timeoutSeconds = timeoutSeconds
        self.resolver = resolver
    }
}

/// How one name proves control.
package enum SolverSpec: Sendable, Hashable {
    case http01Webroot(path: String)
    case http01Listen(address: String)
    case dns01RFC2136(RFC2136Settings, PropagationSettings)
    case dns01Exec(command: [String], PropagationSettings)
    /// A DNS provider's HTTP API (PowerDNS, Route 53, Cloudflare).
    case dns01Provider(DNSProviderSettings, PropagationSettings)
    case tlsALPN01(listen: String)

    /// The ACME challenge type this solver answers.
    package var challengeType: String {
        switch self {
        case .http01Webroot, .http01Listen: return "http-01"
        case .dns01RFC2136, .dns01Exec, .dns01Provider: return "dns-01"
        case .tlsALPN01: return "tls-alpn-01"
        }
    }
}

/// `[challenge]` plus `[challenge.domains."NAME"]` overrides.
package struct ChallengeSpec: Sendable, Hashable {
    package var defaultSolver: SolverSpec
    package var perDomain: [String: SolverSpec]
    package init(defaultSolver: SolverSpec, perDomain: [String: SolverSpec] = [:]) {
        self.defaultSolver = defaultSolver
        self.perDomain = perDomain
    }
    /// The solver for one requested name (as written in `domains`, e.g. `*.example.com`).
    package func solver(for domain: String) -> SolverSpec {
        perDomain[domain] ?? defaultSolver
    }

    /// Every address the built-in http-01 responder listens on for this certificate.
    package var http01ListenAddresses: Set<String> {
        var addresses: Set<String> = []
        for solver in [defaultSolver] + Array(perDomain.values) {
            if case .http01Listen(let address) = solver { addresses.insert(address) }
        }
        return addresses
    }
}

/// `[install]`. Paths are nil for the default versioned layout under STATE_DIR/live/NAME/.
package struct InstallSpec: Sendable, Hashable {
    package var fullchain: String?
    package var key: String?
    package var cert: String?
    package var chain: String?
    package var owner: String?
    package var group: String?
    /// The private key's mode (default 0o600). Certificates are 0o644.
    package var keyMode: UInt16
    package init(
        fullchain: String? = nil, key: String? = nil, cert: String? = nil, chain: String? = nil, owner: String? = nil,
        group: String? = nil, keyMode: UInt16 = 0o600
    ) {
        self.fullchain = fullchain
        self.key = key
        self.cert = cert
        self.chain = chain
        self.owner = owner
        self.group = group
        self.keyMode = keyMode
    }
    /// True when no explicit paths were given.
    package var usesDefaultLayout: Bool { fullchain == nil && key == nil }
}

/// `[hooks]`.
package struct HooksSpec: Sendable, Hashable {
    /// argv lists run after install.
    package var run: [[String]]
    /// Units reloaded once per batch of installed certificates.
    package var reloadUnits: [String]
    /// argv lists run when a renewal fails.
    package var onFailure: [[String]]
    /// Per-hook timeout in seconds (default 60).
    package var timeoutSeconds: Int64
    package init(
        run: [[String]] = [], reloadUnits: [String] = [], onFailure: [[String]] = [], timeoutSeconds: Int64 = 60
    ) {
        self.run = run
        self.reloadUnits = reloadUnits
        self.onFailure = onFailure
        self.timeoutSeconds = timeoutSeconds
    }
}

/// `[defaults]` of certkeeper.toml.
package struct DaemonDefaults: Sendable, Hashable {
    package var ca: String?
    package var contact: String?
    package var keyType: KeyType
    package var maxConcurrentOrders: Int
    package var renewBefore: RenewBefore?
    package var hookTimeoutSeconds: Int64
    /// How long one certificate's attempt (order, validation, install, hooks) may take before it is cancelled
    /// and counted as a failure (`job_timeout`, default 30 minutes).
    package var jobTimeoutSeconds: Int64
    /// `metrics_listen`: where the Prometheus endpoint listens (IP address and port); nil: no endpoint.
    package var metricsListen: ListenEndpoint?
    /// `metrics_textfile`: the node_exporter textfile the metrics are written to; nil: none.
    package var metricsTextfile: String?
    /// `proxy`: the outbound proxy for every CA without one of its own; nil: HTTPS_PROXY from the environment.
    package var proxy: HTTPProxy?
    package init(
        ca: String? = nil, contact: String? = nil, keyType: KeyType = .ecdsaP256, maxConcurrentOrders: Int = 8,
        renewBefore: RenewBefore? = nil, hookTimeoutSeconds: Int64 = 60, jobTimeoutSeconds: Int64 = 1800
    ) {
        self.ca = ca
        self.contact = contact
        self.keyType = keyType
        self.maxConcurrentOrders = maxConcurrentOrders
        self.renewBefore = renewBefore
        self.hookTimeoutSeconds = hookTimeoutSeconds
        self.jobTimeoutSeconds = jobTimeoutSeconds
    }
}

/// An IP address (without brackets) and a TCP port to listen on.
package struct ListenEndpoint: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// One problem in one config file, printed as `FILE:LINE:COLUMN: message`.
package struct ConfigDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    package var file: String
    package var line: Int
    package var column: Int
    package var message: String
    package init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }
    package var description: String { "\(file):\(line):\(column): \(message)" }
}

/// The whole configuration directory after loading.
package struct Configuration: Sendable, Hashable {
    package var configDirectory: String
    package var defaults: DaemonDefaults
    /// `[store]`: where accounts, certificate state and locks live.
    package var store = StoreSettings.files
    /// Named CAs (`[ca.NAME]` and presets that were referenced), by name.
    package var cas: [String: CASettings]
    /// Named accounts (`[account.NAME]`), by name.
    package var accounts: [String: AccountSettings]
    /// Valid certificate specs, by name. Specs with errors are absent (see `ConfigLoadResult.specDiagnostics`).
    package var certificates: [String: CertificateSpec]
    package init(
        configDirectory: String, defaults: DaemonDefaults, cas: [String: CASettings],
        accounts: [String: AccountSettings], certificates: [String: CertificateSpec]
    ) {
        self.configDirectory = configDirectory
        self.defaults = defaults
        self.cas = cas
        self.accounts = accounts
        self.certificates = certificates
    }
    /// Every distinct account in use: named accounts plus the default account of each CA used by a spec.
    package var accountsInUse: [AccountSettings] {
        var seen = Set<String>()
        var out: [AccountSettings] = []
        for spec in certificates.values.sorted(by: { $0.name < $1.name }) {
            let key = spec.account.isDefault ? "default@\(spec.account.ca.directoryURL)" : "named:\(spec.account.name)"
            if seen.insert(key).inserted { out.append(spec.account) }
        }
        return out
    }
}
