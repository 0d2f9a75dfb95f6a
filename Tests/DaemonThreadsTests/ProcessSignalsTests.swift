import DaemonThreads
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Signals sent to the watcher's thread only (`send`), so the test process's own dispositions are untouched. Stop is
/// SIGUSR1 and reload SIGUSR2: of pending signals sigwaitinfo takes the lowest-numbered first.
@Suite struct ProcessSignalsTests {
    @Test func reloadSignalsBecomeElementsAndOnlyTheFirstStopSignalStops() async throws {
        let log = EventLog()
        let (stopped, stop) = AsyncStream<Void>.makeStream()
        let signals = ProcessSignals(stop: [SIGUSR1], reload: SIGUSR2)
        let reloads = signals.reloads()
        signals.handleStop(
            .init(grace: .seconds(3600), status: 0) {
                log.append("stop")
                stop.yield()
            } terminate: { _ in
                log.append("exit")
            })
        var iterator = reloads.makeAsyncIterator()
        signals.send(SIGUSR2)
        #expect(await iterator.next() != nil)
        signals.send(SIGUSR2)
        #expect(await iterator.next() != nil)

        var stops = stopped.makeAsyncIterator()
        signals.send(SIGUSR1)
        _ = await stops.next()
        signals.send(SIGUSR1)
        // A reload after the second stop signal proves the thread took that one first (the lower number).
        signals.send(SIGUSR2)
        #expect(await iterator.next() != nil)
        #expect(log.values == ["stop"], "a second stop signal neither stops again nor cuts the grace short")
    }
}
