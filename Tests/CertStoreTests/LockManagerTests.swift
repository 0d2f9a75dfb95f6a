import Foundation
import Logging
import PostgresStore
import SafeFiles
import Testing

@testable import CertStore

/// Records the order of events from concurrent tasks.
actor EventLog {
    var events: [String] = []
    func add(_ event: String) { events.append(event) }
}

/// A gate a task waits on until the test opens it (no sleeping).
actor Gate {
    private var open = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func wait() async {
        if open { return }
        await withCheckedContinuation { waiters.append($0) }
    }
    func release() {
        open = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}

struct LockManagerTests {
    enum Kind: String, Sendable {
        case process, memory, postgresql
        static var allCases: [Kind] { [.process, .memory] + (PostgresTestDatabase.isConfigured ? [.postgresql] : []) }
    }

    func makeManager(_ kind: Kind, dir: TemporaryDirectory) async throws -> any LockManager {
        switch kind {
        case .process: return ProcessLockManager(stateDirectory: dir.path, maxWait: .zero)
        case .memory: return MemoryLockManager()
        case .postgresql:
            return LeaseLockManager(
                database: try await PostgresTestDatabase.make().database, owner: "node-a", maxWait: .zero,
                logger: Logger(label: "test.lease"))
        }
    }

    @Test(arguments: Kind.allCases)
    func twoTasksCannotHoldTheSameName(kind: Kind) async throws {
        let dir = try TemporaryDirectory()
        let manager = try await makeManager(kind, dir: dir)
        let log = EventLog()
        let gate = Gate()
        let entered = Gate()
        let first = Task {
            try await manager.withLock("cert-www") {
                await log.add("first-in")
                await entered.release()
                await gate.wait()
                await log.add("first-out")
            }
        }
        await entered.wait()
        let second = Task {
            try await manager.withLock("cert-www") { await log.add("second-in") }
        }
        // Another name is independent of the held one.
        try await manager.withLock("cert-other") { await log.add("other") }
        #expect(await log.events == ["first-in", "other"])
        await gate.release()
        try await first.value
        try await second.value
        #expect(await log.events == ["first-in", "other", "first-out", "second-in"])
    }

    @Test func anotherProcessHoldingTheLockIsReportedAsBusy() async throws {
        let dir = try TemporaryDirectory()
        // Two managers stand in for two daemons: OFD locks conflict between separate open file descriptions.
        let daemonA = ProcessLockManager(stateDirectory: dir.path, maxWait: .zero)
        let daemonB = ProcessLockManager(stateDirectory: dir.path, maxWait: .zero)
        _ = try await daemonA.withLock("account-x") {
            await #expect(
                throws: CertStoreError.lockBusy(
                    name: "account-x", path: dir.path + "/locks/names.lock", waited: .zero)
            ) {
                try await daemonB.withLock("account-x") {}
            }
        }
        // Released after the body: B can take it now.
        #expect(try await daemonB.withLock("account-x") { 42 } == 42)
        #expect(dir.mode("locks") == 0o700)
    }

    @Test func lockIsReleasedWhenTheBodyThrows() async throws {
        let dir = try TemporaryDirectory()
        let manager = ProcessLockManager(stateDirectory: dir.path, maxWait: .zero)
        await #expect(throws: InjectedFault.self) { try await manager.withLock("n") { throw InjectedFault() } }
        #expect(try await manager.withLock("n") { "ok" } == "ok")
        await #expect(throws: StateNameError.self) { try await manager.withLock("../n") { "no" } }
    }

    @Test func everyNameIsAByteOfOneFile() async throws {
        let dir = try TemporaryDirectory()
        let manager = ProcessLockManager(stateDirectory: dir.path, maxWait: .zero)
        for name in ["cert-a", "cert-b", "account-default"] { try await manager.withLock(name) {} }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/locks") == ["names.lock"])
        #expect(dir.mode("locks/names.lock") == 0o600)
        #expect(manager.lockFilePath == dir.path + "/locks/names.lock")
        // Every version must agree on each name's byte: a changed digest would let two of them work on one name.
        #expect(ByteRangeLockFile.offset(of: "cert-www") == ByteRangeLockFile.offset(of: "cert-www"))
        #expect(ByteRangeLockFile.offset(of: "cert-www") != ByteRangeLockFile.offset(of: "cert-wwx"))
        // The first 8 bytes of SHA-256("cert-www") shifted right by 2 (python3: hashlib.sha256(b"cert-www")).
        #expect(ByteRangeLockFile.offset(of: "cert-www") == 0x3AF7_C7CA_0EFC_99C7)
        #expect(ByteRangeLockFile.offset(of: "cert-www") >= 0)
    }

    @Test func aReplacedLockFileIsOpenedAgainByItsPath() async throws {
        let dir = try TemporaryDirectory()
        let daemonA = ProcessLockManager(stateDirectory: dir.path, maxWait: .zero)
        let daemonB = ProcessLockManager(stateDirectory: dir.path, maxWait: .zero)
        try await daemonA.withLock("cert-x") {}
        // Deleted while A holds it open and idle: B creates a new file; A must lock that one, not its old descriptor.
        #expect(unlink(dir.path + "/locks/names.lock") == 0)
        _ = try await daemonB.withLock("cert-x") {
            await #expect(throws: CertStoreError.self) { try await daemonA.withLock("cert-x") {} }
        }
        #expect(try await daemonA.withLock("cert-x") { 1 } == 1)
        // A's descriptor of the deleted file held nothing: closed, not kept open for the life of the process.
        let lockPath = (dir.path + "/locks/names.lock").replacingOccurrences(of: "//", with: "/")
        let open = (try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")).compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)
        }
        #expect(open.filter { $0 == lockPath + " (deleted)" }.isEmpty, "\(open)")
        #expect(open.contains(lockPath))
    }
}
