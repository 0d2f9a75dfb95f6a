import Foundation

/// The live challenge responses of one listener, read by its channel handlers on event-loop threads.
///
/// Keys are tokens (http-01) or lower-cased SNI names (tls-alpn-01). Registering the same key with an equal value
/// again counts up, so two identical registrations need two removals.
final class ResponderTable<Value: Sendable & Equatable>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (value: Value, count: Int)] = [:]

    init() {}

    /// Adds `value` under `key`; returns false (and changes nothing) when `key` holds a different value.
    func insert(_ key: String, _ value: Value) -> Bool {
        self.lock.withLock {
            if let existing = self.entries[key] {
                guard existing.value == value else { return false }
                self.entries[key] = (value, existing.count + 1)
            } else {
                self.entries[key] = (value, 1)
            }
            return true
        }
    }

    /// Removes one registration of `value` under `key`; a different value under `key` is left alone.
    func remove(_ key: String, where matches: (Value) -> Bool) {
        self.lock.withLock {
            guard let existing = self.entries[key], matches(existing.value) else { return }
            if existing.count > 1 {
                self.entries[key] = (existing.value, existing.count - 1)
            } else {
                self.entries[key] = nil
            }
        }
    }

    func lookup(_ key: String) -> Value? {
        self.lock.withLock { self.entries[key]?.value }
    }

    var isEmpty: Bool {
        self.lock.withLock { self.entries.isEmpty }
    }
}
