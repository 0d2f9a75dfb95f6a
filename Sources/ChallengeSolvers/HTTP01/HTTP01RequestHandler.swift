import NIOCore
import NIOHTTP1

/// What the http-01 responder serves for one token.
struct HTTP01Response: Sendable, Hashable {
    var keyAuthorization: String
    var domain: String
}

/// Answers one HTTP/1.1 request per connection from a ``ResponderTable`` of live tokens as soon as its head has
/// arrived, then closes.
///
/// Only `GET`/`HEAD /.well-known/acme-challenge/TOKEN` (origin form, or absolute form
/// `http://HOST[:PORT]/.well-known/acme-challenge/TOKEN`) for a live token gets 200 with the key authorization;
/// everything else gets an empty 404. Nothing from the request is ever echoed.
final class HTTP01RequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let pathPrefix = "/.well-known/acme-challenge/"

    private let table: ResponderTable<HTTP01Response>
    private var answered = false

    init(table: ResponderTable<HTTP01Response>) {
        self.table = table
    }

    /// The token named by a request target, or nil when the target is not a challenge path.
    static func token(inRequestTarget target: String) -> String? {
        var path = Substring(target)
        if let schemeEnd = path.range(of: "://"), path[..<schemeEnd.lowerBound].lowercased() == "http" {
            let afterScheme = path[schemeEnd.upperBound...]
            guard let slash = afterScheme.firstIndex(of: "/") else { return nil }
            let authority = afterScheme[..<slash]
            guard !authority.isEmpty, !authority.contains("@") else { return nil }
            path = afterScheme[slash...]
        }
        guard path.hasPrefix(Self.pathPrefix) else { return nil }
        let token = path.dropFirst(Self.pathPrefix.count)
        return token.isEmpty ? nil : String(token)
    }

    /// The status and body for a request: 200 + key authorization for a live token, else 404.
    static func answer(method: HTTPMethod, target: String, table: ResponderTable<HTTP01Response>) -> (
        status: HTTPResponseStatus, body: String
    ) {
        guard method == .GET || method == .HEAD,
            let raw = self.token(inRequestTarget: target),
            let token = try? ChallengeToken(raw, domain: ""),
            let response = table.lookup(token.value)
        else {
            return (.notFound, "")
        }
        return (.ok, response.keyAuthorization)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Answer as soon as the head is in: a body or a missing end of request must not hold the connection.
        guard case .head(let head) = self.unwrapInboundIn(data), !self.answered else { return }
        self.answered = true
        let (status, body) = Self.answer(method: head.method, target: head.uri, table: self.table)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        if status == .ok {
            headers.add(name: "Content-Type", value: "application/octet-stream")
        }
        headers.add(name: "Connection", value: "close")
        context.write(
            self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        if head.method != .HEAD && !body.isEmpty {
            let buffer = context.channel.allocator.buffer(string: body)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
