import CDaemonThreads

/// glibc malloc's settings and trimming for a long-running daemon.
///
/// glibc gives threads their own arenas (up to eight per core) and keeps freed memory in them. The daemon has about
/// fifteen threads (event loops, I/O threads, file executors, timers, signals) that all allocate now and then; each
/// arena's free pages stayed resident after a burst of work. Two arenas measured about 1 MB less anonymous memory
/// idle and 1.6 to 2.6 MB less with 10,000 specs than the default (one arena: the same memory but a reload of 9,000
/// certificates spent twice the CPU waiting for the arena's lock).
package enum HeapMemory {
    /// Limits malloc to two arenas; call first thing in `main`, before other threads start.
    package static func configure() {
        _ = certkeeper_malloc_limit_arenas(2)
    }

    /// Returns free heap pages to the kernel: after a burst of work (a batch of attempts, a reload's adoptions) the
    /// memory it used is free but stays resident until then. Takes about a millisecond per 10 MB of heap.
    package static func releaseFreePages() {
        _ = certkeeper_malloc_trim()
    }
}
