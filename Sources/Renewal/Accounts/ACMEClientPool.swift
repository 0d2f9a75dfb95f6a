import ACMEClient
import CertkeeperConfig
import Logging

/// One ``ACMEClient`` per CA directory URL (so nonces and the cached directory are shared by every certificate).
package actor ACMEClientPool {
    /// Builds the HTTP transport for a CA (its extra trust roots); the daemon passes the AsyncHTTPClient one.
    package typealias TransportFactory = @Sendable (CASettings) throws -> any HTTPTransport

    private let makeTransport: TransportFactory
    private let logger: Logger
    private let sleeper: @Sendable (Duration) async throws -> Void
    private let observer: (@Sendable (CASettings) -> (any ACMERequestObserver)?)?
    private var clients: [String: ACMEClient] = [:]

    /// - Parameter observer: The request observer (metrics) for a CA's client, labelled with that CA.
    package init(
        logger: Logger,
        sleeper: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        observer: (@Sendable (CASettings) -> (any ACMERequestObserver)?)? = nil,
        makeTransport: @escaping TransportFactory
    ) {
        self.observer = observer
        self.logger = logger
        self.sleeper = sleeper
        self.makeTransport = makeTransport
    }

    /// Makes every client fetch its CA's directory again at its next request (called on reload).
    package func reloaded() async {
        for client in clients.values { await client.forgetDirectory() }
    }

    /// The client for `ca`, created on first use.
    package func client(for ca: CASettings) throws -> ACMEClient {
        let key = "\(ca.directoryURL)|\(ca.trustRootsFile ?? "")"
        if let client = clients[key] { return client }
        let client = ACMEClient(
            directoryURL: ca.directoryURL, transport: try makeTransport(ca), logger: logger,
            userAgent: "certkeeper/\(CertkeeperVersion.string)", sleeper: sleeper, observer: observer?(ca))
        clients[key] = client
        return client
    }
}

/// The version string sent in User-Agent and printed by `certkeeper --version`.
package enum CertkeeperVersion {
    package static let string = "0.1.0"
}
