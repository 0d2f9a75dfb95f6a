import ACMEClient
import ACMECrypto
import ArgumentParser
import CertStore
import CertkeeperConfig
import Foundation
import HTTPTransportAHC
import Logging
import Renewal
import SafeFiles

/// `certkeeper account ...`: inspect, import, export, roll over and deactivate stored ACME accounts.
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Manage stored ACME accounts.",
        subcommands: [List.self, Show.self, Import.self, Export.self, Rollover.self, Deactivate.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List stored accounts (with --all, archived ones too).")
        @OptionGroup var directories: DirectoryOptions
        @Flag(help: "Include archived accounts.") var all = false

        func run() async throws {
            let (records, location) = try await withConfiguredStore(directories.resolved) { store in
                (try await store.accounts.allRecords(includeArchived: all).sorted { $0.id < $1.id }, store.location)
            }
            if records.isEmpty { print("no accounts stored in \(location)") }
            for record in records {
                print(
                    "\(record.id)\t\(record.status.rawValue)\t\(record.contact.joined(separator: ","))\t\(record.eabKeyID.map { "eab:\($0)" } ?? "-")\t\(record.accountURL ?? "(not registered)")"
                )
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one account's metadata (never its key).")
        @OptionGroup var directories: DirectoryOptions
        @Argument(help: "Account id (see `certkeeper account list`).") var id: String

        func run() async throws {
            let (record, location) = try await withConfiguredStore(directories.resolved) { store in
                (try await loadRecord(id, store: store), store.location)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(record), as: UTF8.self))
            print(
                location == directories.resolved.state
                    ? "key: \(location)/accounts/\(record.id)/key.pem (\(record.keyType.rawValue), not shown)"
                    : "key: sealed in \(location) (\(record.keyType.rawValue), not shown)")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Import an existing account (certbot or lego account directory, or a PEM key) after verifying it at the CA."
        )
        @OptionGroup var directories: DirectoryOptions
        @Option(help: "A certbot account directory (holds private_key.json, regr.json, meta.json).") var fromCertbot:
            String?
        @Option(help: "A lego account directory (holds account.json and the key, e.g. keys/EMAIL.key).") var fromLego:
            String?
        @Option(help: "A PEM private key file.") var key: String?
        @Option(help: "The CA: a preset or [ca.NAME] name from certkeeper.toml, or a directory URL.") var ca: String
        @Option(help: "Account name in certkeeper (default: the CA's default account).") var name: String = "default"
        @Option(help: "The EAB key id this account was bound with, so it is never spent again.") var eabKid: String?

        func run() async throws {
            let dirs = directories.resolved
            let caSettings = try resolveCA(ca, configDirectory: dirs.config)
            let source = try AccountImportSource.load(certbot: fromCertbot, lego: fromLego, pemKey: key)
            // Verified at the CA before anything is stored: the key must already have an account there.
            let found = try await withACMEClient(caSettings) { client in
                try await client.newAccount(key: source.key, contact: [], eab: nil, onlyReturnExisting: true)
            }
            if let expected = source.accountURL, expected != found.url {
                FileHandle.standardError.write(
                    Data(
                        "certkeeper: note: the CA knows this key as \(found.url), the import source said \(expected)\n"
                            .utf8))
            }
            let now = Date()
            var record = try AccountRecord.pending(
                caDirectoryURL: caSettings.directoryURL, name: name, contact: found.account.contact ?? source.contact,
                eabKeyID: eabKid, keyType: source.key.keyType, now: now)
            record.accountURL = found.url
            record.status = .valid
            record.eabSent = eabKid != nil
            record.notes = "imported from \(source.origin)"
            let imported = record
            try await withConfiguredStore(dirs) { store in
                try await store.accounts.importRecord(imported, keyPEM: source.key.pemRepresentation)
            }
            print("imported \(found.url) as account \(record.id)")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy an account (metadata and key) into a directory for backup or migration (files 0600).")
        @OptionGroup var directories: DirectoryOptions
        @Argument(help: "Account id.") var id: String
        @Option(help: "Directory to write account.json and key.pem into (created 0700).") var output: String

        func run() async throws {
            let (record, pem) = try await withConfiguredStore(directories.resolved) { store in
                let record = try await loadRecord(id, store: store)
                return (record, try await store.accounts.keyPEM(id: record.id))
            }
            try AtomicFile.ensureDirectory(output, mode: 0o700)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            try AtomicFile.write(Array(try encoder.encode(record)), to: "\(output)/account.json", mode: 0o600)
            try AtomicFile.write(Array(pem.utf8), to: "\(output)/key.pem", mode: 0o600)
            print(
                "exported \(record.id) to \(output) (restore: `certkeeper account import --key \(output)/key.pem --ca \(record.caDirectoryURL) --name \(record.name)`)"
            )
        }
    }

    struct Rollover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace an account's key (RFC 8555 §7.3.5 key change).")
        @OptionGroup var directories: DirectoryOptions
        @Argument(help: "Account id.") var id: String
        @Option(help: "New key type (default: the current one).") var keyType: String?

        func run() async throws {
            let requested = try keyType.map { try parseKeyType($0) }
            let id = self.id
            let directories = self.directories
            let record = try await withConfiguredStore(directories.resolved) { store in
                let (record, key, ca) = try await accountClient(id, store: store, directories: directories)
                let type = requested ?? record.keyType
                guard let url = record.accountURL else { throw ValidationError("account \(id) is not registered yet") }
                let newKey = try SigningKey.generate(type)
                // Staged durably first: a crash after the CA accepted keyChange must not lose the only working key.
                try await store.accounts.stageRolloverKey(id: record.id, pem: newKey.pemRepresentation)
                try await withACMEClient(ca) { client in
                    try await client.changeKey(accountURL: url, oldKey: key, newKey: newKey)
                }
                try await store.accounts.replaceKey(
                    id: record.id, newKeyPEM: newKey.pemRepresentation, newKeyType: type)
                var updated = record
                updated.keyType = type
                return updated
            }
            let type = record.keyType
            print(
                "account \(record.id) now uses a new \(type.rawValue) key; the old key is kept next to it as key.pem.old-*"
            )
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deactivate an account at the CA (irreversible) and mark it so in the store.")
        @OptionGroup var directories: DirectoryOptions
        @Argument(help: "Account id.") var id: String
        @Flag(help: "Confirm: deactivation cannot be undone.") var yes = false

        func run() async throws {
            guard yes else { throw ValidationError("deactivation cannot be undone; add --yes to confirm") }
            let id = self.id
            let directories = self.directories
            let record = try await withConfiguredStore(directories.resolved) { store in
                var (record, key, ca) = try await accountClient(id, store: store, directories: directories)
                guard let url = record.accountURL else { throw ValidationError("account \(id) is not registered yet") }
                _ = try await withACMEClient(ca) { client in try await client.deactivateAccount(url: url, key: key) }
                record.status = .deactivated
                record.updated = Date()
                try await store.accounts.update(record)
                return record
            }
            print("account \(record.id) deactivated at \(record.caDirectoryURL)")
        }
    }
}

private func loadRecord(_ id: String, store: StoreBackend) async throws -> AccountRecord {
    guard let record = try await store.accounts.record(id: id) else {
        throw ValidationError("no account '\(id)' in \(store.location) (see `certkeeper account list`)")
    }
    return record
}

private func accountClient(_ id: String, store: StoreBackend, directories: DirectoryOptions) async throws -> (
    AccountRecord, SigningKey, CASettings
) {
    let record = try await loadRecord(id, store: store)
    let key = try SigningKey(pemRepresentation: try await store.accounts.keyPEM(id: record.id))
    let ca =
        (try? resolveCA(record.caDirectoryURL, configDirectory: directories.resolved.config))
        ?? CASettings(name: record.caDirectoryURL, directoryURL: record.caDirectoryURL)
    return (record, key, ca)
}

/// Runs `body` with a client for `ca`, then shuts its HTTP transport down (an `HTTPClient` dropped without
/// `shutdown()` traps).
func withACMEClient<T>(_ ca: CASettings, _ body: (ACMEClient) async throws -> T) async throws -> T {
    let host = URLComponents(string: ca.directoryURL)?.host ?? ""
    let proxy = ProxyPolicy(environment: ProcessInfo.processInfo.environment).proxy(
        forHost: host, configured: ca.proxy)
    let transport = try AsyncHTTPClientTransport(
        trustRootsPEMFile: ca.trustRootsFile,
        proxy: proxy.map { ProxyServer(host: $0.host, port: $0.port, username: $0.username, password: $0.password) })
    let client = ACMEClient(
        directoryURL: ca.directoryURL, transport: transport, logger: Logger(label: "certkeeper"),
        userAgent: "certkeeper/\(CertkeeperVersion.string)")
    let result: T
    do {
        result = try await body(client)
    } catch {
        try? await transport.shutdown()
        throw error
    }
    try? await transport.shutdown()
    return result
}

/// A preset, a `[ca.NAME]` from certkeeper.toml, or a directory URL (matched against configured CAs for trust roots).
func resolveCA(_ text: String, configDirectory: String) throws -> CASettings {
    let configuration = ConfigLoader().load(configDirectory: configDirectory).configuration
    // With its effective proxy: its own, else [defaults] proxy.
    func effective(_ ca: CASettings) -> CASettings {
        var ca = ca
        if ca.proxy == nil { ca.proxy = configuration?.defaults.proxy }
        return ca
    }
    if let named = configuration?.cas[text] { return effective(named) }
    if let preset = CAPreset.named(text) { return effective(preset.settings) }
    if text.hasPrefix("https://") {
        if let known = configuration?.cas.values.first(where: { $0.directoryURL == text }) { return effective(known) }
        return effective(CASettings(name: text, directoryURL: text))
    }
    throw ValidationError(
        "unknown CA '\(text)': use a preset, a [ca.NAME] from certkeeper.toml, or an https:// directory URL")
}

func parseKeyType(_ text: String) throws -> KeyType {
    guard let type = KeyType(rawValue: text) else {
        throw ValidationError("unknown key type '\(text)'; use one of \(KeyType.allNames)")
    }
    return type
}
