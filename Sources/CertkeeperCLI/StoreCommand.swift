import ArgumentParser
import CertStore
import CertkeeperConfig
import CertkeeperLogging
import Foundation
import Installer
import Logging
import PostgresStore
import Renewal
import SafeFiles
import SystemdSupport

/// `certkeeper store ...`: the PostgreSQL store's schema, and moving a host's state into it.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Manage the store selected by [store] (PostgreSQL for a fleet).",
        subcommands: [Migrate.self, Reseal.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Bring the PostgreSQL schema up to date; with --from files --to postgresql, also copy this host's accounts, state and installed certificates into it."
        )
        @OptionGroup var directories: DirectoryOptions
        @Option(help: "Where to copy from: files (this host's state directory).") var from: String?
        @Option(help: "Where to copy to: postgresql (the [store] of certkeeper.toml).") var to: String?
        @Flag(help: "Show what would be copied; change nothing.") var dryRun = false

        func validate() throws {
            switch (from, to) {
            case (nil, nil), ("files", "postgresql"): return
            default:
                throw ValidationError(
                    "the one migration is --from files --to postgresql (or neither, to update the schema only)")
            }
        }

        func run() async throws {
            _ = LoggingSetup.bootstrap(identifier: "certkeeper", level: .warning)
            let logger = Logger(label: "certkeeper")
            let dirs = directories.resolved
            let result = ConfigLoader().load(configDirectory: dirs.config)
            guard let configuration = result.configuration else {
                FileHandle.standardError.write(Data((formatDiagnostics(result.allDiagnostics) + "\n").utf8))
                throw ExitCode(1)
            }
            guard case .postgresql = configuration.store else {
                throw CertificateToolError(
                    "\(dirs.config)/certkeeper.toml has no [store] with backend = \"postgresql\"; configure it first (docs/fleet.md)"
                )
            }
            let target = try StoreBackend.open(
                configuration.store, stateDirectory: dirs.state, secrets: SecretReader(), logger: logger)
            guard let database = target.database else { return }
            let pool = Task { await database.run() }
            defer { pool.cancel() }
            var empty = false
            if dryRun {
                // Nothing is created by a dry run: a schema that does not exist yet holds nothing to compare with.
                empty = try await SchemaMigrator(database: database).currentVersion() == 0
                if empty { print("schema \(target.location) does not exist yet; it would be created") }
            } else {
                let applied = try await SchemaMigrator(database: database).migrate()
                print(
                    applied.isEmpty
                        ? "schema \(target.location) is up to date (version \(SchemaMigrator.latestVersion))"
                        : "schema \(target.location): applied version(s) \(applied.map(String.init).joined(separator: ", "))"
                )
            }
            guard from != nil else { return }
            let migration = FileStoreMigration(
                source: try StoreBackend.open(
                    .files, stateDirectory: dirs.state, secrets: SecretReader(), logger: logger),
                target: target, configuration: configuration, stateDirectory: dirs.state, dryRun: dryRun,
                targetIsEmpty: empty)
            let report = try await migration.run()
            for line in report.lines { print(line) }
            if report.conflicts > 0 { throw ExitCode(1) }
        }
    }
}

extension StoreCommand {
    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Re-seal every stored private key with encryption_key_file, after a rotation (the old key listed in previous_encryption_key_files)."
        )
        @OptionGroup var directories: DirectoryOptions

        func run() async throws {
            _ = LoggingSetup.bootstrap(identifier: "certkeeper", level: .warning)
            let dirs = directories.resolved
            let (count, keyID, location) = try await withConfiguredStore(dirs) { store in
                guard let database = store.database, let sealer = store.sealer else {
                    throw CertificateToolError(
                        "\(dirs.config)/certkeeper.toml has no [store] with backend = \"postgresql\"; the file store keeps keys as 0600 files and seals nothing"
                    )
                }
                let count = try await StoreResealer(database: database, sealer: sealer).reseal()
                return (count, sealer.current.id, store.location)
            }
            print(
                "re-sealed \(count) key(s) with key \(keyID) in \(location); the previous keys can now be removed from previous_encryption_key_files"
            )
        }
    }
}

/// Copies one host's file store into the PostgreSQL store: accounts (active and archived, with their keys, the keys
/// rollover replaced and any staged rollover key), certificate state (with pending order keys) and the installed certificates as the fleet's
/// current ones. Nothing is registered or ordered; what is already there with the same content is left alone, what
/// is there with other content is reported as a conflict and not overwritten.
struct FileStoreMigration {
    let source: StoreBackend
    let target: StoreBackend
    let configuration: Configuration
    let stateDirectory: String
    let dryRun: Bool
    /// The target schema does not exist yet (a dry run): nothing there to compare with.
    var targetIsEmpty = false

    struct Report {
        var lines: [String] = []
        var conflicts = 0
    }

    func run() async throws -> Report {
        var report = Report()
        let verb = dryRun ? "would copy" : "copied"
        for record in try await source.accounts.allRecords(includeArchived: true) {
            let key = try await source.accounts.keyPEM(id: record.id)
            // Keys rollover replaced stay with the account (the file store keeps them as key.pem.old-*).
            let oldKeys = try await (source.accounts as? FileAccountStore)?.oldKeys(id: record.id) ?? []
            let staged = try await source.accounts.stagedRolloverKey(id: record.id)
            if !targetIsEmpty, let existing = try await target.accounts.record(id: record.id) {
                let sameKey = (try? await target.accounts.keyPEM(id: record.id)) == key
                guard sameKey && existing.accountURL == record.accountURL else {
                    report.conflicts += 1
                    report.lines.append(
                        "account \(record.id): CONFLICT: the store holds another account under this id; not overwritten"
                    )
                    continue
                }
                // An earlier run (or an older certkeeper) may have stopped before the replaced and staged keys.
                let stored = try await (target.accounts as? PostgresAccountStore)?.oldKeys(id: record.id) ?? []
                let missing = oldKeys.filter { !stored.contains($0.pem) }
                let storedStaged = try await target.accounts.stagedRolloverKey(id: record.id)
                let stageMissing = staged != nil && storedStaged == nil
                if !dryRun {
                    try await (target.accounts as? PostgresAccountStore)?.importOldKeys(id: record.id, missing)
                    if stageMissing, let staged {
                        try await target.accounts.stageRolloverKey(id: record.id, pem: staged)
                    }
                }
                var line = "account \(record.id): already in the store"
                if !missing.isEmpty { line += "; \(verb) \(missing.count) key(s) replaced by rollover it lacked" }
                if stageMissing { line += "; \(verb) the staged rollover key it lacked" }
                report.lines.append(line)
                continue
            }
            if !dryRun {
                try await target.accounts.importRecord(record, keyPEM: key)
                if let staged { try await target.accounts.stageRolloverKey(id: record.id, pem: staged) }
                try await (target.accounts as? PostgresAccountStore)?.importOldKeys(id: record.id, oldKeys)
            }
            let old = oldKeys.isEmpty ? "" : ", with \(oldKeys.count) key(s) replaced by rollover"
            report.lines.append("account \(record.id): \(verb) (\(record.status.rawValue)\(old))")
        }
        for name in try await source.states.allNames() {
            if !targetIsEmpty, let stored = try await target.states.load(name: name) {
                let hostState = try await source.states.load(name: name)
                let hostKey = try await source.states.pendingKey(name: name)
                let storedKey = try await target.states.pendingKey(name: name)
                if hostState == stored && hostKey == storedKey {
                    report.lines.append("state \(name): already in the store")
                } else {
                    report.conflicts += 1
                    report.lines.append(
                        "state \(name): CONFLICT: the store holds another state for this certificate; not overwritten")
                }
                continue
            }
            if !dryRun {
                if let state = try await source.states.load(name: name) { try await target.states.save(state) }
                if let pending = try await source.states.pendingKey(name: name) {
                    try await target.states.savePendingKey(name: name, pem: pending)
                }
            }
            report.lines.append("state \(name): \(verb)")
        }
        guard let shared = target.shared else { return report }
        for spec in configuration.certificates.values.sorted(by: { $0.name < $1.name }) {
            guard
                let installed = CertificateInstaller.readInstalled(
                    name: spec.name, target: spec.install.target, stateDirectory: stateDirectory),
                let info = await InstalledCertificateReader.load(spec: spec, stateDirectory: stateDirectory)?.info
            else {
                report.lines.append("certificate \(spec.name): nothing installed on this host")
                continue
            }
            if !targetIsEmpty, let current = try await shared.latest(name: spec.name) {
                if current.serial == info.serialHex {
                    report.lines.append("certificate \(spec.name): already in the store")
                } else {
                    report.conflicts += 1
                    report.lines.append(
                        "certificate \(spec.name): CONFLICT: the store holds serial \(current.serial), this host \(info.serialHex); not overwritten"
                    )
                }
                continue
            }
            if !dryRun {
                try await shared.publish(
                    SharedCertificate(
                        name: spec.name, serial: info.serialHex, fullchainPEM: installed.fullchainPEM,
                        keyPEM: installed.keyPEM, notAfter: info.notAfter,
                        publishedBy: "migrated from \(ProcessInfo.processInfo.hostName)"))
            }
            report.lines.append(
                "certificate \(spec.name): \(verb) (serial \(info.serialHex), valid until \(info.notAfter))")
        }
        report.lines.append(
            dryRun
                ? "dry run: nothing was changed"
                : "done: nothing was registered or ordered (keys replaced by earlier rollovers stay in the state directory); start the daemons with [store] backend = \"postgresql\""
        )
        return report
    }
}
