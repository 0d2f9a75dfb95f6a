/// Which ACME resource a request is for: the bounded label requests are counted and timed by (never a URL, which
/// carries account, order and authorization ids).
package enum ACMEEndpoint: String, Sendable, CaseIterable {
    case directory
    case newNonce
    case newAccount
    case account
    case keyChange
    case newOrder
    case order
    case authorization
    case challenge
    case finalize
    case certificate
    case renewalInfo
    case revokeCert
}

/// Told about every HTTP exchange the client makes (each retry too): the resource, the status (nil when the
/// transport failed before a response) and how long it took. Metrics implement it; the client does not care.
package protocol ACMERequestObserver: Sendable {
    func observe(endpoint: ACMEEndpoint, status: Int?, duration: Duration)
}
