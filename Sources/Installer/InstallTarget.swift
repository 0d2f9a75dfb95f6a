/// Where and how to install one certificate: the Installer's copy of CertkeeperConfig's `InstallSpec`
/// (the caller converts, so Installer does not depend on the config module).
package struct InstallTarget: Sendable, Hashable {
    /// Full chain (leaf first) path; nil together with ``key`` selects the default layout under the state directory.
    package var fullchain: String?
    /// Private key path.
    package var key: String?
    /// Leaf-only certificate path (optional).
    package var cert: String?
    /// Intermediates-only path (optional).
    package var chain: String?
    /// Owner of the installed files: a user name or numeric uid; nil keeps the daemon's.
    package var owner: String?
    /// Group of the installed files: a group name or numeric gid; nil keeps the daemon's.
    package var group: String?
    /// The private key's mode; any "other" bit is refused. Certificates are always 0644.
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

    /// True when no explicit paths were given: files go to `STATE_DIR/live/<name>/`.
    package var usesDefaultLayout: Bool { fullchain == nil && key == nil }
}
