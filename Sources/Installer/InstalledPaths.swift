/// Where an installed certificate can be read (and what deploy hooks receive in `CERTKEEPER_*`).
public struct InstalledPaths: Sendable, Hashable {
    public var fullchain: String
    public var key: String
    /// Leaf-only certificate, when installed.
    public var cert: String?
    /// Intermediates only, when installed.
    public var chain: String?

    public init(fullchain: String, key: String, cert: String? = nil, chain: String? = nil) {
        self.fullchain = fullchain
        self.key = key
        self.cert = cert
        self.chain = chain
    }
}
