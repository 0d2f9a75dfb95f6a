import ACMEClient
import ACMECrypto
import CertStore
import CertkeeperConfig
import ChallengeSolvers
import Foundation
import Installer
import Logging
import Renewal
import TestSupport

/// A real ``CertificateMaintainer`` over a ``FakeACMEServer``, in-memory stores, a temp state directory and a
/// ``ManualClock``. `restart()` builds a new maintainer (new client pool and account manager) over the same stores.
final class MaintainerHarness: @unchecked Sendable {
    let clock: ManualClock
    let server: FakeACMEServer
    let ca: TestCA
    let stateDirectory: String
    let stateStore = MemoryCertificateStateStore()
    let accountStore = MemoryAccountStore()
    let logs = LogCapture()
    let locks: any LockManager
    private(set) var maintainer: CertificateMaintainer

    init(
        start: Date = Date(timeIntervalSince1970: 1_800_000_000), lifetime: TimeInterval = 90 * 86_400,
        offersARI: Bool = false, profiles: [String: String]? = nil, seed: UInt64 = 42,
        locks: any LockManager = MemoryLockManager()
    ) throws {
        self.locks = locks
        let clock = ManualClock(now: start)
        self.clock = clock
        ca = try TestCA()
        server = FakeACMEServer(
            ca: ca, now: { clock.now() }, lifetime: lifetime, offersARI: offersARI, profiles: profiles)
        stateDirectory = NSTemporaryDirectory() + "certkeeper-maintainer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        maintainer = Self.makeMaintainer(
            server: server, clock: clock, stateDirectory: stateDirectory, stateStore: stateStore,
            accountStore: accountStore, locks: locks, logger: logs.logger, seed: seed)
    }

    deinit { try? FileManager.default.removeItem(atPath: stateDirectory) }

    /// Another node of a fleet: a maintainer with its own state directory (its own installed files) over the same
    /// state, accounts, CA and `shared` certificates, as a second daemon on the same PostgreSQL store.
    func fleetNode(
        _ name: String, shared: any SharedCertificateStore, specs: (any FleetSpecRegistry)? = nil
    ) throws -> (maintainer: CertificateMaintainer, stateDirectory: String) {
        let directory = stateDirectory + "-" + name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var node = Self.makeMaintainer(
            server: server, clock: clock, stateDirectory: directory, stateStore: stateStore,
            accountStore: accountStore, locks: locks, logger: logs.logger, seed: 11)
        node.shared = shared
        node.specRegistry = specs
        node.nodeName = name
        return (node, directory)
    }

    /// A new maintainer over the same state, accounts and installed files, as after a daemon restart.
    func restart(seed: UInt64 = 7) {
        maintainer = Self.makeMaintainer(
            server: server, clock: clock, stateDirectory: stateDirectory, stateStore: stateStore,
            accountStore: accountStore, locks: locks, logger: logs.logger, seed: seed)
    }

    private static func makeMaintainer(
        server: FakeACMEServer, clock: ManualClock, stateDirectory: String, stateStore: MemoryCertificateStateStore,
        accountStore: MemoryAccountStore, locks: any LockManager, logger: Logger, seed: UInt64
    ) -> CertificateMaintainer {
        let clients = ACMEClientPool(logger: logger, sleeper: { _ in }, makeTransport: { _ in server })
        let secrets = SecretReader(environment: [:])
        let accounts = AccountManager(
            store: accountStore, clients: clients, secrets: secrets, stateDirectory: stateDirectory, logger: logger)
        let solvers = SolverFactory(
            httpPool: HTTP01ResponderPool(), tlsPool: TLSALPN01ResponderPool(), secrets: secrets,
            apiTransport: { server }, environment: [:])
        return CertificateMaintainer(
            stateDirectory: stateDirectory, accounts: accounts, clients: clients,
            issuer: OrderIssuer(solvers: solvers, stateStore: stateStore, logger: logger),
            stateStore: stateStore, installer: CertificateInstaller(), hooks: HookRunner(),
            reloads: ReloadCoalescer { _ in }, clock: clock, random: SeededRandom(seed: seed), locks: locks,
            logger: logger)
    }

    /// A spec for the fake CA.
    func spec(
        _ name: String = "www", domains: [String] = ["www.example.test"], keyType: KeyType = .ecdsaP256,
        directoryURL: String = FakeACMEServer.directoryURL, profile: String? = nil, renewBefore: RenewBefore? = nil,
        install: InstallSpec = InstallSpec(), reuseKey: Bool = false,
        challenge: ChallengeSpec = ChallengeSpec(defaultSolver: .http01Listen(address: "127.0.0.1:1"))
    ) -> CertificateSpec {
        let ca = CASettings(name: "fake", directoryURL: directoryURL)
        let account = AccountSettings(name: "default", ca: ca, contact: "ops@example.test", eab: nil, isDefault: true)
        return CertificateSpec(
            name: name, file: "\(stateDirectory)/\(name).toml", domains: domains, account: account, keyType: keyType,
            challenge: challenge, install: install, renewBefore: renewBefore, reuseKey: reuseKey, profile: profile)
    }

    /// Installs a certificate from the test CA at the spec's paths, as another ACME client would have left it.
    @discardableResult
    func installExisting(
        for spec: CertificateSpec, domains: [String]? = nil, keyType: KeyType? = nil, notBefore: Date,
        lifetime: TimeInterval
    ) throws -> InstalledCertificate {
        let (key, fullchain) = try ca.issue(
            names: domains ?? spec.domains, keyType: keyType ?? spec.keyType, notBefore: notBefore, lifetime: lifetime)
        let blocks = fullchain.components(separatedBy: "-----END CERTIFICATE-----\n")
        _ = try CertificateInstaller().install(
            name: spec.name, keyPEM: key.pemRepresentation, fullchainPEM: fullchain,
            certPEM: blocks[0] + "-----END CERTIFICATE-----\n", chainPEM: blocks[1] + "-----END CERTIFICATE-----\n",
            spec: spec.install.target, stateDirectory: stateDirectory)
        guard let installed = installed(spec) else { throw HarnessError.notInstalled(spec.name) }
        return installed
    }

    /// What is installed for `spec` now.
    func installed(_ spec: CertificateSpec) -> InstalledCertificate? {
        InstalledCertificateReader.read(spec: spec, stateDirectory: stateDirectory)
    }

    func state(_ spec: CertificateSpec) async -> CertificateState? {
        try? await stateStore.load(name: spec.name)
    }

    /// A finalized order recorded in `spec`'s state, as a crash before download leaves it: the CA holds a valid
    /// 90-day certificate for `key` at `orderURL`.
    func recordFinalizedOrder(_ spec: CertificateSpec, url orderURL: String, key: SigningKey) async throws {
        let pem = try ca.issue(
            names: spec.domains, publicKey: key.certificatePrivateKey.publicKey, notBefore: clock.now(),
            lifetime: 90 * 86_400)
        server.addOrder(url: orderURL, status: "valid", domains: spec.domains, certificatePEM: pem)
        try await stateStore.save(
            CertificateState(
                name: spec.name,
                order: PendingOrder(
                    url: orderURL, accountURL: "\(FakeACMEServer.base)/acct/1", domains: spec.domains,
                    keyType: spec.keyType)))
    }
}

enum HarnessError: Error {
    case notInstalled(String)
}

/// Records log messages (level and text) so tests can assert on what the daemon says.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(level: Logger.Level, message: String)] = []

    var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    var messages: [String] { lock.withLock { entries.map(\.message) } }
    func contains(_ text: String) -> Bool { messages.contains { $0.contains(text) } }
    func clear() { lock.withLock { entries = [] } }

    fileprivate func append(_ level: Logger.Level, _ message: String) {
        lock.withLock { entries.append((level, message)) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            capture.append(event.level, "\(event.message)")
        }
    }
}
