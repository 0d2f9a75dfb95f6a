import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Threads of certkeeper's own that run submitted work in order of submission: one thread is a serial queue, more
/// are a pool. Idle threads wait on a condition variable and wake only for work (no timers, unlike libdispatch's
/// worker pool, whose monitor woke the idle daemon once a second). The threads end when this object is released,
/// after the work already submitted has run.
package final class WorkerThreads: Sendable {
    private let core: Core

    /// Starts `count` threads named `name` (shown by `ps -L`, `top -H` and debuggers).
    package init(name: String, count: Int) {
        core = Core()
        for index in 0..<max(1, count) {
            // Work here is file and socket I/O plus parsing: half a megabyte of stack is plenty.
            ThreadName.start(count > 1 ? "\(name)-\(index)" : name, stackKB: 512) { [core] in core.work() }
        }
    }

    deinit { core.stop() }

    /// Runs `body` on one of the threads, after the work submitted before it (with one thread: strictly after).
    package func submit(_ body: @escaping @Sendable () -> Void) {
        core.submit(body)
    }

    /// Work submitted and not yet started.
    package var pending: Int { core.pending }

    /// The queue the threads share; the threads hold it, not the `WorkerThreads`, so releasing that stops them.
    private final class Core: @unchecked Sendable {
        /// Guards `queue`, `head` and `stopping`.
        private let condition = NSCondition()
        private var queue: [@Sendable () -> Void] = []
        private var head = 0
        private var stopping = false

        func submit(_ body: @escaping @Sendable () -> Void) {
            condition.lock()
            queue.append(body)
            condition.signal()
            condition.unlock()
        }

        var pending: Int {
            condition.lock()
            defer { condition.unlock() }
            return queue.count - head
        }

        func stop() {
            condition.lock()
            stopping = true
            condition.broadcast()
            condition.unlock()
        }

        func work() {
            while let body = next() { body() }
        }

        private func next() -> (@Sendable () -> Void)? {
            condition.lock()
            defer { condition.unlock() }
            while head == queue.count {
                if stopping { return nil }
                condition.wait()
            }
            let body = queue[head]
            head += 1
            // Compact once the consumed prefix dominates, so a long-lived queue does not keep every closure it ran.
            if head == queue.count {
                queue.removeAll(keepingCapacity: queue.count <= 64)
                head = 0
            } else if head >= 64 && head * 2 >= queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return body
        }
    }
}
