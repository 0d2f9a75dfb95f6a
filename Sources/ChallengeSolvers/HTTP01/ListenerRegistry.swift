import NIOCore

/// One listener per address, open exactly while its table has entries (shared by both responder pools).
///
/// `reconcile` moves the listener towards "open iff the table is non-empty". Concurrent callers wait on the
/// same bind or close, so an address is never bound twice and nothing listens while idle.
actor ListenerRegistry<Value: Sendable & Equatable> {
    typealias Bind = @Sendable (ListenAddress, ResponderTable<Value>) async throws -> any Channel

    private enum State {
        case idle
        case starting(id: Int, Task<any Channel, any Error>)
        case running(any Channel)
        case stopping(id: Int, Task<Void, Never>)
    }

    private let bind: Bind
    private var tables: [ListenAddress: ResponderTable<Value>] = [:]
    private var states: [ListenAddress: State] = [:]
    private var nextID = 0

    init(bind: @escaping Bind) {
        self.bind = bind
    }

    /// The table for `address`, created on first use.
    func table(for address: ListenAddress) -> ResponderTable<Value> {
        if let table = self.tables[address] { return table }
        let table = ResponderTable<Value>()
        self.tables[address] = table
        return table
    }

    /// The local port of the open listener on `address`, or nil when nothing listens there.
    func boundPort(on address: ListenAddress) -> Int? {
        guard case .running(let channel) = self.states[address] else { return nil }
        return channel.localAddress?.port
    }

    /// The open listener on `address`, or nil when nothing listens there.
    func listener(on address: ListenAddress) -> (any Channel)? {
        guard case .running(let channel) = self.states[address] else { return nil }
        return channel
    }

    /// Adds `value` under `key` and makes sure the listener is open; undoes the insertion when binding fails.
    func register(_ key: String, _ value: Value, on address: ListenAddress) async throws -> Bool {
        let table = self.table(for: address)
        guard table.insert(key, value) else { return false }
        do {
            try await self.reconcile(address)
        } catch {
            table.remove(key) { $0 == value }
            try? await self.reconcile(address)
            throw error
        }
        return true
    }

    /// Removes one registration and closes the listener when it was the last.
    func unregister(_ key: String, on address: ListenAddress, where matches: (Value) -> Bool) async {
        self.table(for: address).remove(key, where: matches)
        try? await self.reconcile(address)
    }

    /// Closes every listener (shutdown, tests), whatever is registered.
    func closeAll() async {
        for (address, state) in self.states {
            if case .running(let channel) = state {
                try? await channel.close()
            }
            self.states[address] = .idle
        }
        self.tables = [:]
    }

    private func reconcile(_ address: ListenAddress) async throws {
        // Every pass either returns or waits for one bind/close to finish; a handful always suffices.
        for _ in 0..<64 {
            let wanted = !self.table(for: address).isEmpty
            switch self.states[address] ?? .idle {
            case .idle:
                guard wanted else { return }
                let id = self.makeID()
                let bind = self.bind
                let table = self.table(for: address)
                let task = Task { try await bind(address, table) }
                self.states[address] = .starting(id: id, task)
                try await self.finishStart(address, id: id, task)
            case .starting(let id, let task):
                try await self.finishStart(address, id: id, task)
            case .running(let channel):
                guard !wanted else { return }
                let id = self.makeID()
                let task = Task<Void, Never> { _ = try? await channel.close() }
                self.states[address] = .stopping(id: id, task)
                await self.finishStop(address, id: id, task)
            case .stopping(let id, let task):
                await self.finishStop(address, id: id, task)
            }
        }
    }

    private func finishStart(_ address: ListenAddress, id: Int, _ task: Task<any Channel, any Error>) async throws {
        do {
            let channel = try await task.value
            if case .starting(let current, _) = self.states[address], current == id {
                self.states[address] = .running(channel)
            }
        } catch {
            if case .starting(let current, _) = self.states[address], current == id {
                self.states[address] = .idle
            }
            throw error
        }
    }

    private func finishStop(_ address: ListenAddress, id: Int, _ task: Task<Void, Never>) async {
        await task.value
        if case .stopping(let current, _) = self.states[address], current == id {
            self.states[address] = .idle
        }
    }

    private func makeID() -> Int {
        self.nextID += 1
        return self.nextID
    }
}
