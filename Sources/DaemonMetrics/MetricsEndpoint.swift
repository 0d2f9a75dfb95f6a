import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// `metrics_listen`: serves ``CertkeeperMetrics/exposition()`` on `GET /metrics` over HTTP/1.1 until the daemon
/// stops. Every other path is 404, every other method 405; one request per connection, nothing echoed. A connection
/// that sends nothing for ``idleTimeout`` is closed, and at most ``maxConnections`` are open at once (more are closed
/// as they come): local users cannot exhaust the daemon's file descriptors through it.
package struct MetricsEndpoint: Service {
    package var metrics: CertkeeperMetrics
    package var host: String
    package var port: Int
    package var logger: Logger

    package init(metrics: CertkeeperMetrics, host: String, port: Int, logger: Logger) {
        self.metrics = metrics
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// Binds now, so that a port in use is an error at start (``run()`` then serves until shutdown).
    package static let idleTimeout: TimeAmount = .seconds(10)
    package static let maxConnections = 32

    package func bind() async throws -> any Channel {
        let metrics = self.metrics
        let open = OpenConnections()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 64)
            .childChannelInitializer { channel in
                guard open.enter() else { return channel.close() }
                channel.closeFuture.whenComplete { _ in open.leave() }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
                    try sync.addHandler(CloseWhenIdle())
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(MetricsRequestHandler(metrics: metrics))
                }
            }
            .childChannelOption(.maxMessagesPerRead, value: 1)
        return try await bootstrap.bind(host: host, port: port).get()
    }

    package func run() async throws {
        let channel: any Channel
        do {
            channel = try await bind()
        } catch {
            logger.error(
                "metrics_listen = \"\(host):\(port)\" cannot be served: \(error); fix it in certkeeper.toml [defaults] and restart"
            )
            return
        }
        logger.info("metrics served on http://\(host):\(port)/metrics")
        await cancelWhenGracefulShutdown {
            // Until shutdown: the closure is cancelled then.
            try? await Task.sleep(for: .seconds(86_400 * 365 * 100))
        }
        try? await channel.close()
    }
}

/// Answers one request per connection: the exposition for `GET`/`HEAD /metrics`, else 404 or 405.
final class MetricsRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: CertkeeperMetrics
    private var answered = false

    init(metrics: CertkeeperMetrics) {
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data), !answered else { return }
        answered = true
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        var headers = HTTPHeaders()
        let status: HTTPResponseStatus
        var body: [UInt8] = []
        if path != "/metrics" {
            status = .notFound
        } else if head.method != .GET && head.method != .HEAD {
            status = .methodNotAllowed
            headers.add(name: "Allow", value: "GET, HEAD")
        } else {
            status = .ok
            body = metrics.exposition()
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
        }
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD && !body.isEmpty {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Counts the endpoint's open connections against ``MetricsEndpoint/maxConnections``.
final class OpenConnections: Sendable {
    private let count = Mutex(0)

    /// Takes a place; false when all are taken.
    func enter() -> Bool {
        count.withLock { open in
            guard open < MetricsEndpoint.maxConnections else { return false }
            open += 1
            return true
        }
    }

    func leave() { count.withLock { $0 -= 1 } }
}

/// Closes a connection on which nothing arrived for the idle timeout.
final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
