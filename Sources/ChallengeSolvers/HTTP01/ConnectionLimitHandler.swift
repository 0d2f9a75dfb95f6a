import Foundation
import NIOCore

/// Enforces ``ResponderLimits`` on a listener: sits on the server channel, so it sees every accepted connection
/// before the connection is registered or reads anything.
///
/// Each connection is closed at its deadline. At the cap, the oldest connection is closed to admit the new one
/// rather than refusing the newcomer: a flood of idle connections then only displaces the flood's own oldest
/// members, while a CA's request, which arrives whole moments after its connect, is answered long before
/// ``ResponderLimits/maxConnections`` newer connections could push it out.
final class ConnectionLimitHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let limits: ResponderLimits
    private let lock = NSLock()
    private var open: [ObjectIdentifier: (serial: UInt64, channel: any Channel)] = [:]
    private var nextSerial: UInt64 = 0
    private var highWater = 0
    private var accepted = 0
    private var evicted = 0

    init(limits: ResponderLimits) {
        self.limits = limits
    }

    var statistics: ResponderConnectionStatistics {
        self.lock.withLock {
            ResponderConnectionStatistics(
                open: self.open.count, highWater: self.highWater, accepted: self.accepted, evicted: self.evicted)
        }
    }

    /// The counters of the limiter on `listener`, or nil when it has none.
    static func statistics(of listener: any Channel) async -> ResponderConnectionStatistics? {
        try? await listener.pipeline.handler(type: ConnectionLimitHandler.self).get().statistics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let channel = self.unwrapInboundIn(data)
        let id = ObjectIdentifier(channel)
        let displaced: (any Channel)? = self.lock.withLock {
            var oldest: (key: ObjectIdentifier, value: (serial: UInt64, channel: any Channel))?
            if self.open.count >= self.limits.maxConnections {
                oldest = self.open.min { $0.value.serial < $1.value.serial }
                if let oldest {
                    self.open[oldest.key] = nil
                    self.evicted += 1
                }
            }
            self.open[id] = (self.nextSerial, channel)
            self.nextSerial += 1
            self.accepted += 1
            self.highWater = max(self.highWater, self.open.count)
            return oldest?.value.channel
        }
        displaced?.close(promise: nil)
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(self.limits.connectionDeadline)) {
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in
            deadline.cancel()
            self.lock.withLock {
                if self.open[id]?.channel === channel { self.open[id] = nil }
            }
        }
        context.fireChannelRead(data)
    }
}
