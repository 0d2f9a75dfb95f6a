import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// Exits the process a fixed time after SIGTERM or SIGINT, from a Dispatch signal source and timer: threads of
/// their own, so the exit happens even when every thread of Swift's cooperative pool is blocked (a hung file
/// system, a stuck library call) and no task could run the graceful shutdown.
///
/// Graceful shutdown runs as usual meanwhile; this only bounds it, below the unit's `TimeoutStopSec=`, so a stop never
/// ends in SIGKILL and a `failed` unit. Orders and installs are crash-safe, so leaving one mid-way is harmless.
package final class StopDeadline: @unchecked Sendable {
    /// Immutable after init; the sources themselves are thread-safe.
    private let sources: [any DispatchSourceSignal]

    /// Starts watching; keep the returned object alive for the life of the process.
    ///
    /// - Parameters:
    ///   - grace: how long graceful shutdown may take after the first stop signal.
    ///   - signals: the stop signals (SIGTERM and SIGINT; tests use another).
    ///   - onExpiry: called on a Dispatch thread just before the exit (log a line; must not block).
    ///   - terminate: ends the process with the status (`exit`; tests record the call instead).
    package init(
        grace: Duration, status: Int32 = 0, signals: [Int32] = [SIGTERM, SIGINT],
        onExpiry: @escaping @Sendable () -> Void = {},
        terminate: @escaping @Sendable (Int32) -> Void = { exit($0) }
    ) {
        let queue = DispatchQueue(label: "certkeeper.stop-deadline")
        let nanoseconds = grace.components.seconds * 1_000_000_000 + grace.components.attoseconds / 1_000_000_000
        sources = signals.map { signal in
            // libdispatch delivers a signal to every source for it, so this coexists with the graceful handler.
            let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
            source.setEventHandler {
                queue.asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) {
                    onExpiry()
                    terminate(status)
                }
            }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
