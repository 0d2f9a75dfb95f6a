import CDaemonThreads
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The process's stop and reload signals, received by a thread of their own with `sigwaitinfo`.
///
/// `main` blocks the signals before any other thread exists (threads inherit the mask), so they stay pending until
/// this thread takes them: no handler runs on an arbitrary thread and nothing polls. A signal nobody has asked for
/// (every command but `run`, or `run` before it is ready for it) does what it would have done by default: the
/// signal's default action ends the process.
///
/// The first stop signal also starts the stop deadline: `grace` later the process exits with `status` even if
/// every other thread is stuck (a hung file system, a stuck library call), before systemd's `TimeoutStopSec=` would
/// SIGKILL it and mark the unit failed. Orders and installs are crash-safe, so leaving one mid-way is harmless.
package final class ProcessSignals: Sendable {
    /// The stop signals.
    package static let stop: [Int32] = [SIGTERM, SIGINT]
    /// The reload signal.
    package static let reload: Int32 = SIGHUP

    /// What the first stop signal does.
    package struct StopHandling: Sendable {
        package var grace: Duration
        package var status: Int32
        /// Called on the signal thread when the first stop signal arrives (start the graceful shutdown; must not
        /// block).
        package var onStop: @Sendable () -> Void
        /// Called on the signal thread just before the exit (log a line; must not block).
        package var onExpiry: @Sendable () -> Void
        /// Ends the process (`exit`; tests record the call instead).
        package var terminate: @Sendable (Int32) -> Void

        package init(
            grace: Duration, status: Int32 = 0, onStop: @escaping @Sendable () -> Void,
            onExpiry: @escaping @Sendable () -> Void = {},
            terminate: @escaping @Sendable (Int32) -> Void = { exit($0) }
        ) {
            self.grace = grace
            self.status = status
            self.onStop = onStop
            self.onExpiry = onExpiry
            self.terminate = terminate
        }
    }

    private struct Handlers {
        var reloads: AsyncStream<Void>.Continuation?
        var stop: StopHandling?
        var thread: pthread_t?
    }

    /// The process's watcher, started by ``startForProcess()``.
    package static var process: ProcessSignals? { processWatcher.withLock { $0 } }
    private static let processWatcher = Mutex<ProcessSignals?>(nil)

    private let stopSignals: [Int32]
    private let reloadSignal: Int32?
    private let handlers = Mutex(Handlers())

    /// Blocks the stop and reload signals in the calling thread and every thread started after it, and starts the
    /// process's watcher. Call first thing in `main`, before any other thread exists.
    /// A signal the process inherited as ignored (`nohup`, a shell's background job) stays ignored: it is neither
    /// blocked nor watched.
    @discardableResult
    package static func startForProcess() -> ProcessSignals {
        let stop = Self.stop.filter { certkeeper_signal_is_ignored($0) == 0 }
        let reload = certkeeper_signal_is_ignored(Self.reload) == 0 ? Self.reload : nil
        var set = Self.signalSet(stop + (reload.map { [$0] } ?? []))
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let watcher = ProcessSignals(stop: stop, reload: reload)
        processWatcher.withLock { $0 = watcher }
        return watcher
    }

    /// Starts a watcher thread for these signals; it blocks them in its own thread. Only the process's watcher
    /// (``startForProcess()``) receives signals sent to the process; tests send theirs with ``send(_:)``.
    package init(stop: [Int32], reload: Int32?) {
        stopSignals = stop
        reloadSignal = reload
        let started = Latch()
        ThreadName.start("certkeeper-signals", stackKB: 256) { [self] in
            var set = Self.signalSet(stop + (reload.map { [$0] } ?? []))
            pthread_sigmask(SIG_BLOCK, &set, nil)
            handlers.withLock { $0.thread = pthread_self() }
            started.open()
            watch()
        }
        started.wait()
    }

    /// Each reload signal from now on, as an element (a burst of signals while a reload runs becomes one more).
    /// One consumer: a later call ends the stream an earlier one returned.
    package func reloads() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let previous = handlers.withLock { handlers -> AsyncStream<Void>.Continuation? in
            defer { handlers.reloads = continuation }
            return handlers.reloads
        }
        previous?.finish()
        return stream
    }

    /// Sets what the first stop signal does.
    package func handleStop(_ handling: StopHandling) {
        handlers.withLock { $0.stop = handling }
    }

    /// Sends `signal` to the watcher's thread (tests; the process's signals come from `kill`).
    package func send(_ signal: Int32) {
        guard let thread = handlers.withLock({ $0.thread }) else { return }
        pthread_kill(thread, signal)
    }

    private func watch() {
        var set = Self.signalSet(stopSignals + (reloadSignal.map { [$0] } ?? []))
        var stopDeadline: ContinuousClock.Instant?
        var stopping: StopHandling?
        while true {
            let received: Int32
            if let deadline = stopDeadline, let handling = stopping {
                let remaining = ContinuousClock.now.duration(to: deadline)
                guard remaining > .zero else {
                    handling.onExpiry()
                    handling.terminate(handling.status)
                    return
                }
                let (seconds, attoseconds) = remaining.components
                var timeout = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
                received = sigtimedwait(&set, nil, &timeout)
            } else {
                received = sigwaitinfo(&set, nil)
            }
            guard received > 0 else { continue }  // EINTR, or the stop deadline's timeout (checked above)
            if received == reloadSignal {
                if let reloads = handlers.withLock({ $0.reloads }) {
                    reloads.yield()
                } else {
                    Self.defaultAction(received)
                }
            } else if stopping == nil {
                guard let handling = handlers.withLock({ $0.stop }) else {
                    Self.defaultAction(received)
                    continue
                }
                stopping = handling
                stopDeadline = ContinuousClock.now.advanced(by: handling.grace)
                handling.onStop()
            }
            // Later stop signals: the graceful shutdown and its deadline are already running.
        }
    }

    /// What the signal would have done had it not been blocked: for these signals, end the process.
    private static func defaultAction(_ signal: Int32) {
        Glibc.signal(signal, SIG_DFL)
        var set = signalSet([signal])
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(signal)
    }

    private static func signalSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }
}

/// Opened once; `wait` returns once it is open.
private final class Latch: @unchecked Sendable {
    /// Guards `isOpen`.
    private let condition = NSCondition()
    private var isOpen = false

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }

    func wait() {
        condition.lock()
        while !isOpen { condition.wait() }
        condition.unlock()
    }
}
