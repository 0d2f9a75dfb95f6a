/// Where and how to install one certificate: the Installer's copy of CertkeeperConfig's `InstallSpec`
/// (the caller converts, so Installer does not depend on the config module).
public struct InstallTarget: Sendable, Hashable {
    /// Full chain (leaf first) path; nil together with ``key`` selects the default layout under the state directory.
    public var fullchain: String?
    /// Private key path.
    public var key: String?
    /// Leaf-only certificate path (optional).
    public var cert: String?
    /// Intermediates-only path (optional).
    public var chain: String?
    /// Owner of the installed files: a user name or numeric uid; nil keeps the daemon's.
    public var owner: String?
    /// Group of the installed files: a group name or numeric gid; nil keeps the daemon's.
    public var group: String?
    /// The private key's mode; any "other" bit is refused. Certificates are always 0644.
    public var keyMode: UInt16

    public init(
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

    /// True when no explicit paths were given: files go to `STATE_DIR/live/<name>/`.
    public var usesDefaultLayout: Bool { fullchain == nil && key == nil }
}
