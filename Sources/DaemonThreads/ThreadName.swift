import CDaemonThreads
import Foundation

/// Names the calling thread as `ps -L`, `top -H` and debuggers show it (Linux keeps 15 bytes). Foundation's
/// `Thread.name` does not reach the kernel's name for a thread started from another thread, which then shows its
/// creator's name (an event loop's).
enum ThreadName {
    /// Starts a thread named `name` with `stackKB` KiB of stack (untouched stack pages cost no memory) running `body`.
    static func start(_ name: String, stackKB: Int, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            set(name)
            body()
        }
        thread.stackSize = stackKB * 1024
        thread.start()
    }

    static func set(_ name: String) {
        _ = certkeeper_set_thread_name(String(decoding: name.utf8.prefix(15), as: UTF8.self))
    }
}
