import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A tiny HTTP server for Pebble's http-01 validation in tests: serves
/// `/.well-known/acme-challenge/<token>` -> key authorization from a table, 404 otherwise.
package final class PebbleHTTP01Responder: Sendable {
    private let tokens: NIOLockedValueBox<[String: String]>
    private let channel: any Channel

    /// Binds `host:port` (always a loopback address in tests).
    package static func start(host: String = "127.0.0.1", port: Int) async throws -> PebbleHTTP01Responder {
        let tokens = NIOLockedValueBox<[String: String]>([:])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(tokens: tokens))
                }
            }
            .bind(host: host, port: port)
            .get()
        return PebbleHTTP01Responder(channel: channel, tokens: tokens)
    }

    private init(channel: any Channel, tokens: NIOLockedValueBox<[String: String]>) {
        self.channel = channel
        self.tokens = tokens
    }

    /// Serves `keyAuthorization` for `token`.
    package func set(token: String, keyAuthorization: String) {
        tokens.withLockedValue { $0[token] = keyAuthorization }
    }

    /// Stops serving `token`.
    package func remove(token: String) {
        tokens.withLockedValue { _ = $0.removeValue(forKey: token) }
    }

    /// Closes the listening socket.
    package func stop() async throws {
        try await channel.close()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let tokens: NIOLockedValueBox<[String: String]>
        var uri = ""

        init(tokens: NIOLockedValueBox<[String: String]>) { self.tokens = tokens }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): uri = head.uri
            case .body: break
            case .end:
                let prefix = "/.well-known/acme-challenge/"
                let body =
                    uri.hasPrefix(prefix) ? tokens.withLockedValue { $0[String(uri.dropFirst(prefix.count))] } : nil
                let text = body ?? "not found"
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "text/plain")
                headers.add(name: "Content-Length", value: String(text.utf8.count))
                headers.add(name: "Connection", value: "close")
                let head = HTTPResponseHead(version: .http1_1, status: body == nil ? .notFound : .ok, headers: headers)
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
            }
        }
    }
}
