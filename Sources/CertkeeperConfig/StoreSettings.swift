/// `[store]` in certkeeper.toml: where accounts, certificate state and locks live.
package enum StoreSettings: Sendable, Hashable {
    /// The state directory on this host (the default).
    case files
    /// A PostgreSQL database shared by a fleet of nodes.
    case postgresql(PostgresStoreSettings)
}

/// `backend = "postgresql"`: the connection, the secrets' sources and the fleet's lease time.
package struct PostgresStoreSettings: Sendable, Hashable {
    /// How the connection is protected (`tls`).
    package enum TLS: String, Sendable, Hashable, CaseIterable {
        /// TLS required, the server's certificate verified against `tls_ca_file` (or the system roots) and its name.
        case verifyFull = "verify-full"
        /// Plain TCP: loopback or a trusted private network only.
        case disable
    }

    package var host: String
    package var port: Int
    package var user: String
    package var database: String
    /// The schema certkeeper creates its tables in (`schema`, default "certkeeper").
    package var schema: String
    package var tls: TLS
    package var tlsCAFile: String?
    /// `password_file` or `password_credential`; nil for a role without a password (peer or certificate auth).
    package var password: SecretSource?
    /// `encryption_key_file` or `encryption_key_credential`: the key private keys are sealed with at rest.
    package var encryptionKey: SecretSource
    /// `previous_encryption_key_files`: older keys that still open values sealed before a rotation.
    package var previousEncryptionKeyFiles: [String]
    /// `node_name`: this node in leases and logs (default: the host name).
    package var nodeName: String?
    /// `lease_time`: how long a node's claim on a certificate lasts without renewal (default 60 s).
    package var leaseSeconds: Int64
    /// `http01_address`: where this node answers the http-01 tokens other nodes placed (default: the address in
    /// the placing node's spec).
    package var http01Address: String?

    package init(
        host: String, port: Int = 5432, user: String, database: String, schema: String = "certkeeper",
        tls: TLS = .verifyFull, tlsCAFile: String? = nil, password: SecretSource? = nil, encryptionKey: SecretSource,
        previousEncryptionKeyFiles: [String] = [], nodeName: String? = nil, leaseSeconds: Int64 = 60,
        http01Address: String? = nil
    ) {
        self.http01Address = http01Address
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.schema = schema
        self.tls = tls
        self.tlsCAFile = tlsCAFile
        self.password = password
        self.encryptionKey = encryptionKey
        self.previousEncryptionKeyFiles = previousEncryptionKeyFiles
        self.nodeName = nodeName
        self.leaseSeconds = leaseSeconds
    }

    /// `postgresql://USER@HOST:PORT/DATABASE` (never a password).
    package var displayURL: String {
        "postgresql://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
    }
}
