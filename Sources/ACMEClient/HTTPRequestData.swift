/// A plain HTTP request as ``HTTPTransport`` sends it.
package struct HTTPRequestData: Sendable {
    package var method: String
    /// The absolute URL, exactly as it must go on the wire.
    package var url: String
    package var headers: [(String, String)]
    package var body: [UInt8]
    /// Send on a new connection, never a pooled one: set when retrying after a dropped, refused or timed-out
    /// connection, so a retry does not meet the same dead connection (or another stale one) again.
    package var freshConnection: Bool
    /// The ACME resource, for metrics.
    package var endpoint: ACMEEndpoint?

    package init(
        method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = [],
        freshConnection: Bool = false,
        endpoint: ACMEEndpoint? = nil
    ) {
        self.endpoint = endpoint
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.freshConnection = freshConnection
    }

    /// The first value of header `name` (case-insensitive).
    package func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveEquals(name) }?.1
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        self.utf8.count == other.utf8.count && self.lowercased() == other.lowercased()
    }
}
