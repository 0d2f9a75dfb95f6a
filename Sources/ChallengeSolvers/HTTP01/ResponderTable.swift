import Synchronization

/// The live challenge responses of one listener, read by its channel handlers on event-loop threads.
///
/// Keys are tokens (http-01) or lower-cased SNI names (tls-alpn-01). Registering the same key with an equal value
/// again counts up, so two identical registrations need two removals.
final class ResponderTable<Value: Sendable & Equatable>: Sendable {
    private let table = Mutex<[String: (value: Value, count: Int)]>([:])

    init() {}

    /// Adds `value` under `key`; returns false (and changes nothing) when `key` holds a different value.
    func insert(_ key: String, _ value: Value) -> Bool {
        table.withLock { entries in
            if let existing = entries[key] {
                guard existing.value == value else { return false }
                entries[key] = (value, existing.count + 1)
            } else {
                entries[key] = (value, 1)
            }
            return true
        }
    }

    /// Removes one registration of `value` under `key`; a different value under `key` is left alone.
    func remove(_ key: String, where matches: (Value) -> Bool) {
        table.withLock { entries in
            guard let existing = entries[key], matches(existing.value) else { return }
            if existing.count > 1 {
                entries[key] = (existing.value, existing.count - 1)
            } else {
                entries[key] = nil
            }
        }
    }

    func lookup(_ key: String) -> Value? {
        table.withLock { $0[key]?.value }
    }

    var isEmpty: Bool {
        table.withLock { $0.isEmpty }
    }
}
