/// A FIFO async mutex per name; waiters suspend instead of blocking threads.
package actor NamedAsyncMutex {
    private var held: Set<String> = []
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    package init() {}

    /// True while some task holds `name` (for tests and diagnostics).
    package func isHeld(_ name: String) -> Bool { held.contains(name) }

    package func acquire(_ name: String) async {
        if held.insert(name).inserted { return }
        await withCheckedContinuation { waiters[name, default: []].append($0) }
    }

    /// Hands the lock to the next waiter (it stays held) or frees it.
    package func release(_ name: String) {
        if var queue = waiters[name], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[name] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            held.remove(name)
        }
    }
}
