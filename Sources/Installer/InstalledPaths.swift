/// Where an installed certificate can be read (and what deploy hooks receive in `CERTKEEPER_*`).
package struct InstalledPaths: Sendable, Hashable {
    package var fullchain: String
    package var key: String
    /// Leaf-only certificate, when installed.
    package var cert: String?
    /// Intermediates only, when installed.
    package var chain: String?

    package init(fullchain: String, key: String, cert: String? = nil, chain: String? = nil) {
        self.fullchain = fullchain
        self.key = key
        self.cert = cert
        self.chain = chain
    }
}
