/// Bounds on the connections of a built-in responder's listener, so a flood of slow or idle clients can neither
/// exhaust the daemon's file descriptors nor keep the CA's validation request out.
package struct ResponderLimits: Sendable, Hashable {
    /// Connections open at once per listener. At the cap, the oldest connection is closed to admit the new one.
    package var maxConnections: Int
    /// Total lifetime of a connection, from accept to close, whatever the client sends (or does not send).
    package var connectionDeadline: Duration

    /// - Parameters:
    ///   - maxConnections: Open connections per listener (at least 1); default 256.
    ///   - connectionDeadline: How long a connection may stay open in all; default 10 s, ample for a CA that
    ///     sends its request (http-01) or hello (tls-alpn-01) as soon as it has connected.
    package init(maxConnections: Int = 256, connectionDeadline: Duration = .seconds(10)) {
        self.maxConnections = max(1, maxConnections)
        self.connectionDeadline = connectionDeadline
    }
}

/// Counters of one listener's connections, for tests and diagnostics.
package struct ResponderConnectionStatistics: Sendable, Hashable {
    /// Connections admitted and not yet closed or evicted.
    package var open: Int
    /// The largest `open` seen since the listener was bound; never above ``ResponderLimits/maxConnections``.
    package var highWater: Int
    /// Connections accepted since the listener was bound.
    package var accepted: Int
    /// Connections closed early to make room for a newer one.
    package var evicted: Int
}
