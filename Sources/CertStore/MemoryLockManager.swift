import SafeFiles

/// ``LockManager`` within one process only (tests, and the PostgreSQL store's in-process half).
package struct MemoryLockManager: LockManager {
    private let mutex = NamedAsyncMutex()

    package init() {}

    package func withLock<T: Sendable>(_ name: String, _ body: @Sendable () async throws -> T) async throws -> T {
        try StateName.validate(name, kind: "lock name")
        await mutex.acquire(name)
        do {
            let result = try await body()
            await mutex.release(name)
            return result
        } catch {
            await mutex.release(name)
            throw error
        }
    }
}
