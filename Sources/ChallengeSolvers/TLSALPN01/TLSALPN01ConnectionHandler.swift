import NIOCore
import NIOTLS

/// Closes a tls-alpn-01 connection as soon as the handshake is over; no application data is exchanged
/// (RFC 8737 §3). Failed connections are closed too; ``ConnectionLimitHandler`` closes the slow ones.
final class TLSALPN01ConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case TLSUserEvent.handshakeCompleted:
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
