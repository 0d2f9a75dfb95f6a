import ACMEClient
import ACMEModels
import Foundation
import NIOConcurrencyHelpers
import Testing

/// A CA whose directory answers only once the test opens the gate (a cancelled request ends at once).
final class GatedDirectoryTransport: HTTPTransport {
    private struct State {
        var directoryRequests = 0
        var open = false
        var waiting: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter = 0
    }
    private let state = NIOLockedValueBox(State())
    /// The number of directory requests so far, told at each one.
    private let arrivals: AsyncStream<Int>
    private let arrived: AsyncStream<Int>.Continuation

    init() {
        (arrivals, arrived) = AsyncStream.makeStream(of: Int.self)
    }

    var directoryRequests: Int { state.withLockedValue { $0.directoryRequests } }

    /// Waits until `count` directory requests have arrived (the suite's time limit ends a wait that never does).
    func waitForRequests(_ count: Int) async {
        guard directoryRequests < count else { return }
        for await arrivedSoFar in arrivals where arrivedSoFar >= count { return }
    }

    func openGate() {
        let waiting = state.withLockedValue { state in
            state.open = true
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        for continuation in waiting { continuation.resume() }
    }

    func send(_ request: HTTPRequestData) async throws -> HTTPResponseData {
        guard request.url.hasSuffix("/dir") else { throw URLError(.badURL) }
        let id = state.withLockedValue { state in
            state.directoryRequests += 1
            state.nextWaiter += 1
            return state.nextWaiter
        }
        arrived.yield(directoryRequests)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLockedValue { state -> (any Error)?? in
                    if state.open { return .some(nil) }
                    if Task.isCancelled { return .some(CancellationError()) }
                    state.waiting[id] = continuation
                    return .none
                }
                switch resumeNow {
                case .some(nil): continuation.resume()
                case .some(let error?): continuation.resume(throwing: error)
                case .none: break
                }
            }
        } onCancel: {
            let continuation = state.withLockedValue { $0.waiting.removeValue(forKey: id) }
            continuation?.resume(throwing: CancellationError())
        }
        return HTTPResponseData(status: 200, body: Array(ScriptedTransport.directoryJSON.utf8))
    }

    /// Yields until `condition` holds or `rounds` yields have passed (bounded; no sleeping).
    static func yield(until condition: () -> Bool, rounds: Int = 2000) async {
        for _ in 0..<rounds where !condition() { await Task.yield() }
    }
}

/// The directory is fetched by one request however many callers ask for it at once.
@Suite(.timeLimit(.minutes(1))) struct DirectoryFetchTests {
    static func client(_ transport: GatedDirectoryTransport) -> ACMEClient {
        ACMEClient(directoryURL: "\(ScriptedTransport.base)/dir", transport: transport, sleeper: { _ in })
    }

    /// A reload starts eight attempts at once; each asked for the directory and each sent its own request.
    @Test func callersAskingAtOnceShareOneRequest() async throws {
        let transport = GatedDirectoryTransport()
        let client = Self.client(transport)
        let directories = try await withThrowingTaskGroup(of: ACMEDirectory.self) { group in
            for _ in 0..<8 { group.addTask { try await client.directory() } }
            // Without sharing, every caller's request arrives meanwhile.
            await GatedDirectoryTransport.yield(until: { transport.directoryRequests >= 8 })
            transport.openGate()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(directories.count == 8)
        #expect(directories.allSatisfy { $0.renewalInfo == "https://ca.test/ari" })
        #expect(transport.directoryRequests == 1)
        _ = try await client.directory()
        #expect(transport.directoryRequests == 1, "cached")
    }

    /// The caller whose request it is gets cancelled (its deadline): it ends at once, and a caller waiting for the
    /// same request asks again instead of failing with the other's cancellation.
    @Test func aCancelledCallerDoesNotFailTheOthers() async throws {
        let transport = GatedDirectoryTransport()
        let client = Self.client(transport)
        let first = Task { try await client.directory() }
        await transport.waitForRequests(1)
        let second = Task { try await client.directory() }
        // Time for the second caller to reach the client and wait for the first's request (if it comes later, it
        // finds no request in flight and sends its own: the same outcome, without the retry).
        await GatedDirectoryTransport.yield(until: { false }, rounds: 200)
        first.cancel()
        await #expect(throws: (any Error).self) { try await first.value }
        await transport.waitForRequests(2)
        #expect(transport.directoryRequests == 2, "the waiting caller sent a request of its own")
        transport.openGate()
        let directory = try await second.value
        #expect(directory.renewalInfo == "https://ca.test/ari")
    }

    /// A directory forgotten while it is being fetched (a reload) is fetched again: the older request is cancelled,
    /// its caller asks again and gets (and caches) the newer answer.
    @Test func aForgottenDirectoryIsNotCachedFromTheOlderRequest() async throws {
        let transport = GatedDirectoryTransport()
        let client = Self.client(transport)
        let first = Task { try await client.directory() }
        await transport.waitForRequests(1)
        await client.forgetDirectory()
        transport.openGate()
        _ = try await first.value
        _ = try await client.directory()
        #expect(transport.directoryRequests == 2)
    }
}
