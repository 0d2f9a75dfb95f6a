import Crypto
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SwiftASN1
import Testing
import X509

@testable import ChallengeSolvers

/// Records the outcome of a client handshake: negotiated ALPN and the server certificate.
private final class HandshakeRecorder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    let promise: EventLoopPromise<(String?, NIOSSLCertificate?)>

    init(promise: EventLoopPromise<(String?, NIOSSLCertificate?)>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            // Read the certificate now: the responder closes right after the handshake.
            let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
            self.promise.succeed((negotiated, tls?.peerCertificate))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }
}

@Suite("tls-alpn-01 certificate and responder")
struct TLSALPN01Tests {
    static let address = "127.0.0.1:0"

    /// Handshakes as the CA would: ALPN acme-tls/1, SNI = `serverName`, no verification.
    static func handshake(port: Int, serverName: String, alpn: [String] = ["acme-tls/1"]) async throws -> (
        negotiated: String?, certificate: Certificate
    ) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        configuration.applicationProtocols = alpn
        let context = try NIOSSLContext(configuration: configuration)
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: (String?, NIOSSLCertificate?).self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                    try sync.addHandler(HandshakeRecorder(promise: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        defer { channel.close(promise: nil) }
        let (negotiated, peer) = try await promise.futureResult.get()
        let der = try #require(peer).toDERBytes()
        return (negotiated, try Certificate(derEncoded: der))
    }

    @Test("the acmeIdentifier extension is critical, OID 1.3.6.1.5.5.7.1.31, value 04 20 SHA-256(keyAuthorization)")
    func extensionEncoding() throws {
        let keyAuthorization = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
        let ext = TLSALPN01Certificate.acmeIdentifierExtension(keyAuthorization: keyAuthorization)
        let digest = Array(SHA256.hash(data: Array(keyAuthorization.utf8)))
        #expect(ext.critical)
        #expect(Array(ext.value) == [0x04, 0x20] + digest)

        var serializer = DER.Serializer()
        try serializer.serialize(ext)
        let der = serializer.serializedBytes
        // Extension ::= SEQUENCE { extnID, critical BOOLEAN TRUE, extnValue OCTET STRING { OCTET STRING (32) } }
        let expected: [UInt8] =
            [0x30, 0x31]
            + [0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1F]
            + [0x01, 0x01, 0xFF]
            + [0x04, 0x22, 0x04, 0x20] + digest
        #expect(der == expected)
    }

    @Test("the validation certificate has exactly one dNSName and the critical extension")
    func certificateShape() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let built = try TLSALPN01Certificate(domain: "www.example.test", keyAuthorization: "tok.thumb", now: now)
        let parsed = try Certificate(derEncoded: try built.derBytes())
        try Self.checkValidationCertificate(parsed, domain: "www.example.test", keyAuthorization: "tok.thumb")
        #expect(parsed.notValidBefore <= now && now < parsed.notValidAfter)
        #expect(parsed.publicKey == Certificate.PublicKey(built.privateKey.publicKey))
    }

    private static func checkValidationCertificate(_ certificate: Certificate, domain: String, keyAuthorization: String)
        throws
    {
        let san = try #require(try certificate.extensions.subjectAlternativeNames)
        #expect(Array(san) == [.dnsName(domain)])
        let ext = try #require(certificate.extensions[oid: [1, 3, 6, 1, 5, 5, 7, 1, 31]])
        #expect(ext.critical)
        #expect(Array(ext.value) == [0x04, 0x20] + Array(SHA256.hash(data: Array(keyAuthorization.utf8))))
    }

    @Test("a real handshake negotiates acme-tls/1 and presents the certificate chosen by SNI")
    func realHandshake() async throws {
        let pool = TLSALPN01ResponderPool()
        let solver = TLSALPN01Solver(address: Self.address, pool: pool)
        let one = ChallengeTask(
            domain: "one.example.test", wildcard: false, type: "tls-alpn-01", token: "t1", keyAuthorization: "t1.thumb")
        let two = ChallengeTask(
            domain: "Two.Example.Test", wildcard: false, type: "tls-alpn-01", token: "t2", keyAuthorization: "t2.thumb")
        try await solver.present(one)
        try await solver.present(two)
        let port = try #require(try await pool.boundPort(on: Self.address))

        let first = try await Self.handshake(port: port, serverName: "one.example.test")
        #expect(first.negotiated == "acme-tls/1")
        try Self.checkValidationCertificate(first.certificate, domain: "one.example.test", keyAuthorization: "t1.thumb")

        let second = try await Self.handshake(port: port, serverName: "two.example.test")
        #expect(second.negotiated == "acme-tls/1")
        try Self.checkValidationCertificate(
            second.certificate, domain: "two.example.test", keyAuthorization: "t2.thumb")

        // An SNI name without a live challenge fails the handshake.
        await #expect(throws: (any Error).self) {
            _ = try await Self.handshake(port: port, serverName: "unknown.example.test")
        }

        try await solver.cleanUp(one)
        await #expect(throws: (any Error).self) {
            _ = try await Self.handshake(port: port, serverName: "one.example.test")
        }
        try await solver.cleanUp(two)
        #expect(try await pool.boundPort(on: Self.address) == nil)
        let refused = try #require(throws: RawTCPClient.ConnectFailed.self) { _ = try RawTCPClient.connect(port: port) }
        #expect(refused.errno == ECONNREFUSED)
    }

    @Test("a second, different challenge for the same name is refused; wildcards and IPs are refused")
    func conflictsAndUnsupported() async throws {
        let pool = TLSALPN01ResponderPool()
        try await pool.register(domain: "a.example.test", keyAuthorization: "k1", on: Self.address)
        let conflict = try await #require(throws: ResponderError.self) {
            try await pool.register(domain: "A.example.test.", keyAuthorization: "k2", on: Self.address)
        }
        #expect(conflict.kind == .conflictingChallenge)
        // A stale cleanUp with the other key authorization does not remove the live one.
        try await pool.unregister(domain: "a.example.test", keyAuthorization: "k2", on: Self.address)
        #expect(try await pool.boundPort(on: Self.address) != nil)
        try await pool.unregister(domain: "a.example.test", keyAuthorization: "k1", on: Self.address)
        #expect(try await pool.boundPort(on: Self.address) == nil)

        let wildcard = ChallengeTask(
            domain: "example.test", wildcard: true, type: "tls-alpn-01", token: "t", keyAuthorization: "t.x")
        await #expect(throws: ResponderError.self) {
            try await TLSALPN01Solver(address: Self.address, pool: pool).present(wildcard)
        }
        // IP addresses (RFC 8738 §6) are answered under their reverse-DNS name, which the CA sends in SNI.
        #expect(try TLSALPN01ResponderPool.normalizedName("192.0.2.1") == "1.2.0.192.in-addr.arpa")
        #expect(
            try TLSALPN01ResponderPool.normalizedName("2001:db8::1")
                == "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")
        for bad in ["*.example.test", "", "1.2.3", "*.192.0.2.1"] {
            await #expect(throws: ResponderError.self) {
                try await pool.register(domain: bad, keyAuthorization: "k", on: Self.address)
            }
        }
        #expect(try await pool.boundPort(on: Self.address) == nil)
    }
}
