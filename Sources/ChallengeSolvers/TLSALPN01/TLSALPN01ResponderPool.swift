import ACMECrypto
import Crypto
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// What the tls-alpn-01 responder presents for one SNI name.
struct TLSALPN01Response: Sendable, Equatable {
    var keyAuthorization: String
    var certificate: NIOSSLCertificate
    var privateKey: NIOSSLPrivateKey

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.keyAuthorization == rhs.keyAuthorization
    }
}

/// The daemon-wide built-in tls-alpn-01 responder: one TLS listener per address, open only while it has challenges.
///
/// The listener negotiates only ALPN `acme-tls/1` (TLS 1.2+), picks the validation certificate by SNI, and closes
/// each connection right after the handshake. A hello for an unknown name fails the handshake. Each listener holds
/// at most ``ResponderLimits/maxConnections`` connections and closes each at its deadline (the handshake included).
/// Note: NIOSSL does not let the server refuse clients that offer no ALPN at all; such clients also get the
/// validation certificate (which holds only a digest of the public key authorization) and no application data.
package actor TLSALPN01ResponderPool {
    /// The ALPN protocol ID of RFC 8737 §6.2.
    package static let alpnProtocol = "acme-tls/1"

    /// The pool the daemon uses.
    package static let shared = TLSALPN01ResponderPool()

    private let registry: ListenerRegistry<TLSALPN01Response>

    /// - Parameters:
    ///   - group: The event loop group for the listeners; defaults to the process-wide singleton.
    ///   - limits: Connection cap and per-connection deadline (handshake included) of each listener.
    package init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, limits: ResponderLimits = ResponderLimits()
    ) {
        self.registry = ListenerRegistry { address, table in
            try await Self.bind(address, table: table, group: group, limits: limits)
        }
    }

    /// Starts presenting a fresh validation certificate for `domain` on `address`, binding it if needed.
    ///
    /// - Throws: ``ResponderError`` for an IP or wildcard identifier, a different challenge for the same name
    ///   already in flight on that address, or a bind failure (naming the address; CAP_NET_BIND_SERVICE below 1024).
    package func register(domain: String, keyAuthorization: String, on address: String, now: Date = Date()) async throws
    {
        let address = try ListenAddress(address)
        let name = try Self.normalizedName(domain)
        // An IP address (RFC 8738 §6): the CA sends its reverse-DNS name in SNI, the certificate names the address.
        let built = try TLSALPN01Certificate(
            domain: IPAddressText.canonical(domain) ?? name, keyAuthorization: keyAuthorization, now: now)
        let response: TLSALPN01Response
        do {
            response = TLSALPN01Response(
                keyAuthorization: keyAuthorization,
                certificate: try NIOSSLCertificate(bytes: built.derBytes(), format: .der),
                privateKey: try NIOSSLPrivateKey(bytes: Array(built.privateKey.pemRepresentation.utf8), format: .pem)
            )
        } catch {
            throw ResponderError(
                kind: .certificateGeneration,
                description: "tls-alpn-01 for \(domain): cannot load the validation certificate into TLS: \(error)"
            )
        }
        guard try await self.registry.register(name, response, on: address) else {
            throw ResponderError(
                kind: .conflictingChallenge,
                description: "tls-alpn-01 responder on \(address): another challenge for \(name) is in flight; "
                    + "only one can be answered per name at a time, retry once the other order settles"
            )
        }
    }

    /// Stops presenting the certificate for `domain` registered with `keyAuthorization`;
    /// closes the listener when it was the last.
    package func unregister(domain: String, keyAuthorization: String, on address: String) async throws {
        let address = try ListenAddress(address)
        let name = try Self.normalizedName(domain)
        await self.registry.unregister(name, on: address) { $0.keyAuthorization == keyAuthorization }
    }

    /// The port actually bound on `address` (useful with port 0), or nil when nothing listens there.
    package func boundPort(on address: String) async throws -> Int? {
        await self.registry.boundPort(on: try ListenAddress(address))
    }

    /// The connection counters of the listener on `address`, or nil when nothing listens there.
    package func connectionStatistics(on address: String) async throws -> ResponderConnectionStatistics? {
        guard let listener = await self.registry.listener(on: try ListenAddress(address)) else { return nil }
        return await ConnectionLimitHandler.statistics(of: listener)
    }

    /// Closes every listener and forgets every challenge (daemon shutdown).
    package func shutdown() async {
        await self.registry.closeAll()
    }

    /// The name the CA sends in SNI: the DNS name lower-cased without a trailing dot, or for an IP address its
    /// reverse-DNS name (RFC 8738 §6, `1.0.0.127.in-addr.arpa`); rejects wildcards and anything else.
    static func normalizedName(_ domain: String) throws -> String {
        if let bytes = IPAddressText.bytes(domain) { return IPAddressText.reverseName(bytes) }
        var name = domain.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        let looksNumeric = !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !name.isEmpty, !name.contains(":"), !name.contains("*"), !looksNumeric else {
            throw ResponderError(
                kind: .unsupportedIdentifier,
                description: "tls-alpn-01 for \(domain.debugDescription): not a DNS name or IP address "
                    + "(wildcards need dns-01)"
            )
        }
        return name
    }

    private static func bind(
        _ address: ListenAddress,
        table: ResponderTable<TLSALPN01Response>,
        group: any EventLoopGroup,
        limits: ResponderLimits
    ) async throws -> any Channel {
        // No default certificate: every handshake gets the one chosen by SNI below, or fails.
        let unused = try NIOSSLPrivateKey(bytes: Array(P256.Signing.PrivateKey().pemRepresentation.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [],
            privateKey: .privateKey(unused)
        )
        configuration.privateKey = nil
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = [Self.alpnProtocol]
        configuration.sslContextCallback = { values, promise in
            var name = values.serverHostname?.lowercased() ?? ""
            if name.hasSuffix(".") { name.removeLast() }
            guard let response = table.lookup(name) else {
                promise.fail(ResponderError(kind: .unsupportedIdentifier, description: "no tls-alpn-01 challenge"))
                return
            }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = [.certificate(response.certificate)]
            override.privateKey = .privateKey(response.privateKey)
            promise.succeed(override)
        }
        let context = try NIOSSLContext(configuration: configuration)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionLimitHandler(limits: limits))
                }
            }
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLServerHandler(context: context))
                    try sync.addHandler(TLSALPN01ConnectionHandler())
                }
            }
        do {
            return try await bootstrap.bind(host: address.host, port: address.port).get()
        } catch let error as IOError {
            throw ResponderError.bindFailed(
                "tls-alpn-01", address: address, errno: error.errnoCode, underlying: "\(error)")
        } catch {
            throw ResponderError.bindFailed("tls-alpn-01", address: address, errno: nil, underlying: "\(error)")
        }
    }
}
