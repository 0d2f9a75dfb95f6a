import NIOCore
import Synchronization

/// Enforces ``ResponderLimits`` on a listener: sits on the server channel, so it sees every accepted connection
/// before the connection is registered or reads anything.
///
/// Each connection is closed at its deadline. At the cap, the oldest connection is closed to admit the new one
/// rather than refusing the newcomer: a flood of idle connections then only displaces the flood's own oldest
/// members, while a CA's request, which arrives whole moments after its connect, is answered long before
/// ``ResponderLimits/maxConnections`` newer connections could push it out.
final class ConnectionLimitHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let limits: ResponderLimits
    private struct State {
        var open: [ObjectIdentifier: (serial: UInt64, channel: any Channel)] = [:]
        var nextSerial: UInt64 = 0
        var highWater = 0
        var accepted = 0
        var evicted = 0
    }
    private let state = Mutex(State())

    init(limits: ResponderLimits) {
        self.limits = limits
    }

    var statistics: ResponderConnectionStatistics {
        state.withLock { state in
            ResponderConnectionStatistics(
                open: state.open.count, highWater: state.highWater, accepted: state.accepted, evicted: state.evicted)
        }
    }

    /// The counters of the limiter on `listener`, or nil when it has none.
    static func statistics(of listener: any Channel) async -> ResponderConnectionStatistics? {
        try? await listener.pipeline.handler(type: ConnectionLimitHandler.self).get().statistics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let channel = self.unwrapInboundIn(data)
        let id = ObjectIdentifier(channel)
        let maxConnections = limits.maxConnections
        let displaced: (any Channel)? = state.withLock { state in
            var oldest: (key: ObjectIdentifier, value: (serial: UInt64, channel: any Channel))?
            if state.open.count >= maxConnections {
                oldest = state.open.min { $0.value.serial < $1.value.serial }
                if let oldest {
                    state.open[oldest.key] = nil
                    state.evicted += 1
                }
            }
            state.open[id] = (state.nextSerial, channel)
            state.nextSerial += 1
            state.accepted += 1
            state.highWater = max(state.highWater, state.open.count)
            return oldest?.value.channel
        }
        displaced?.close(promise: nil)
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(self.limits.connectionDeadline)) {
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in
            deadline.cancel()
            self.state.withLock { state in
                if state.open[id]?.channel === channel { state.open[id] = nil }
            }
        }
        context.fireChannelRead(data)
    }
}
