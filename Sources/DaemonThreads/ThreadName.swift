import CDaemonThreads

/// Names the calling thread as `ps -L`, `top -H` and debuggers show it (Linux keeps 15 bytes). Foundation's
/// `Thread.name` does not reach the kernel's name for a thread started from another thread, which then shows its
/// creator's name (an event loop's).
enum ThreadName {
    static func set(_ name: String) {
        _ = certkeeper_set_thread_name(String(decoding: name.utf8.prefix(15), as: UTF8.self))
    }
}
