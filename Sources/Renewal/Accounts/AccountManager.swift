import ACMEClient
import ACMECrypto
import ACMEModels
import CertStore
import CertkeeperConfig
import CertkeeperLogging
import Foundation
import Logging
import SafeFiles

/// A registered account, ready to sign orders.
package struct AccountHandle: Sendable {
    package var record: AccountRecord
    package var url: String
    package var key: SigningKey
}

/// Why an account cannot be used.
package enum AccountError: Error, Sendable, CustomStringConvertible {
    /// The EAB key id is already bound to another account in the local store.
    case eabKeyAlreadyBound(keyID: String, ca: String, existingAccount: String, contact: [String], path: String)
    /// The CA refused the EAB key (probably spent). Not retried until a config change or reload.
    case eabRefused(account: String, ca: String, keyID: String, detail: String, backupPath: String)
    case contactRequired(account: String, ca: String)
    case eabRequired(account: String, ca: String)
    case secretUnreadable(what: String, reason: String)
    /// A refusal remembered from earlier; the specs wait for a config change or reload.
    case waitingForConfigChange(account: String, ca: String, reason: String)

    /// `text` ending in exactly one full stop.
    static func sentence(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.hasSuffix(".") ? trimmed : trimmed + "."
    }

    package var description: String {
        switch self {
        case .eabKeyAlreadyBound(let keyID, let ca, let existing, let contact, let path):
            return
                "EAB key id '\(keyID)' for \(ca) is already bound to account '\(existing)' (contact \(contact.joined(separator: ", "))) "
                + "stored at \(path); EAB keys are single-use: use that account (account = \"\(existing)\" or the CA's default account), "
                + "or request a new EAB key from the CA"
        case .eabRefused(let account, let ca, let keyID, let detail, let backupPath):
            return
                "\(ca) refused EAB key id '\(keyID)' for account '\(account)': \(Self.sentence(detail)) The key is probably already spent "
                + "(single-use EAB keys cannot register a second account). Restore the account from backup into \(backupPath), "
                + "import it with `certkeeper account import`, or request a new EAB key from the CA and update the config; "
                + "certkeeper will not retry until the config changes or the daemon is reloaded"
        case .contactRequired(let account, let ca):
            return
                "account '\(account)' for \(ca) needs a contact address: this CA requires EAB and refuses accounts without one"
        case .eabRequired(let account, let ca):
            return
                "account '\(account)' for \(ca): the CA requires External Account Binding; set eab_kid and eab_hmac_key_file"
        case .secretUnreadable(let what, let reason):
            return "cannot read \(what): \(reason)"
        case .waitingForConfigChange(let account, let ca, let reason):
            return "account '\(account)' for \(ca) is waiting for a config change or reload: \(reason)"
        }
    }
}

/// Reconciles configured accounts with the store and the CA: registered once, reused forever, EAB spent once.
package actor AccountManager {
    private let store: any AccountStore
    private let clients: ACMEClientPool
    private let secrets: SecretReader
    private let logger: Logger
    private let crashPoints: any CrashPoints
    private let stateDirectory: String
    private var handles: [String: AccountHandle] = [:]
    /// Refusals remembered until the next reload (key: account key in config).
    private var refusals: [String: AccountError] = [:]
    private var inProgress: [String: Task<AccountHandle, any Error>] = [:]
    /// EAB key ids whose re-binding failed, by config key, until the next reload: the old account keeps working
    /// and the refused key is not sent again at every order.
    private var failedRebinds: [String: String] = [:]

    private let locks: any LockManager

    /// - Parameter locks: held per account while it is reconciled, so two daemons sharing one store never register
    ///   the same account twice.
    package init(
        store: any AccountStore, clients: ACMEClientPool, secrets: SecretReader, stateDirectory: String,
        crashPoints: any CrashPoints = NoCrashPoints(), locks: any LockManager = MemoryLockManager(), logger: Logger
    ) {
        self.locks = locks
        self.store = store
        self.clients = clients
        self.secrets = secrets
        self.stateDirectory = stateDirectory
        self.crashPoints = crashPoints
        self.logger = logger
    }

    /// Forgets remembered refusals and cached handles, so the next use re-reads config and store (called on reload).
    package func reloaded() {
        refusals = [:]
        handles = [:]
        failedRebinds = [:]
    }

    /// The identity of an account in config: the CA's default account or a named one.
    package static func configKey(_ settings: AccountSettings) -> String {
        "\(settings.ca.directoryURL)#\(settings.name)"
    }

    /// Returns a usable account for `settings`, registering, recovering, updating or rolling it over as needed.
    /// Concurrent callers for one account share one reconciliation.
    package func handle(for settings: AccountSettings) async throws -> AccountHandle {
        let key = Self.configKey(settings)
        if let refusal = refusals[key] { throw refusal }
        // A key replaced behind the daemon's back (`certkeeper account rollover`, a restore) is picked up here.
        if let cached = handles[key], Self.matches(cached.record, settings, failedRebind: failedRebinds[key]),
            (try? await store.keyPEM(id: cached.record.id)) == cached.key.pemRepresentation
        {
            return cached
        }
        if let running = inProgress[key] { return try await running.value }
        let lockName =
            "account-" + (try StateName.accountID(caDirectoryURL: settings.ca.directoryURL, name: settings.name))
        let task = Task { [locks] in try await locks.withLock(lockName) { try await self.reconcile(settings) } }
        inProgress[key] = task
        defer { inProgress[key] = nil }
        do {
            let handle = try await task.value
            handles[key] = handle
            return handle
        } catch let error as AccountError {
            if case .eabRefused = error { refusals[key] = error }
            throw error
        }
    }

    private static func matches(_ record: AccountRecord, _ settings: AccountSettings, failedRebind: String?) -> Bool {
        record.contact == contactList(settings.contact) && record.keyType == settings.keyType
            && (settings.eab == nil || record.eabKeyID == nil || record.eabKeyID == settings.eab?.keyID
                || failedRebind == settings.eab?.keyID)
    }

    static func contactList(_ contact: String?) -> [String] {
        guard let contact, !contact.isEmpty else { return [] }
        return [contact.hasPrefix("mailto:") ? contact : "mailto:\(contact)"]
    }

    private func reconcile(_ settings: AccountSettings) async throws -> AccountHandle {
        let ca = settings.ca.directoryURL
        let client = try await clients.client(for: settings.ca)
        let contact = Self.contactList(settings.contact)
        try await resumeInterruptedRebind(settings, client: client)
        if var record = try await store.activeRecord(caDirectoryURL: ca, name: settings.name) {
            var key = try SigningKey(pemRepresentation: try await store.keyPEM(id: record.id))
            if record.accountURL == nil || record.status == .pending {
                record = try await recoverPending(record, key: key, settings: settings, client: client)
            }
            guard let url = record.accountURL else {
                throw ACMEClientError.invalidResponse(url: ca, reason: "account '\(settings.name)' has no account URL")
            }
            if let staged = try await store.stagedRolloverKey(id: record.id) {
                (record, key) = try await recoverRollover(record, key: key, stagedPEM: staged, client: client)
            }
            // A different EAB key id: the operator asked for a new binding.
            if let wanted = settings.eab?.keyID, let bound = record.eabKeyID, wanted != bound,
                failedRebinds[Self.configKey(settings)] != wanted
            {
                do {
                    return try await rebind(settings, replacing: record, client: client)
                } catch {
                    failedRebinds[Self.configKey(settings)] = wanted
                    logger.error(
                        "registering account '\(settings.name)' at \(ca) with the new EAB key id '\(wanted)' failed; still using the account bound to '\(bound)': \(error)",
                        metadata: [LogKey.account: .string(settings.name), LogKey.ca: .string(ca)])
                }
            }
            if record.contact != contact {
                _ = try await client.updateAccount(url: url, key: key, contact: contact)
                logger.notice(
                    "account '\(settings.name)' at \(ca): contact updated to \(contact.joined(separator: ", "))",
                    metadata: [LogKey.account: .string(settings.name), LogKey.ca: .string(ca)])
                record.contact = contact
                record.updated = Date()
                try await store.update(record)
            }
            if record.keyType != settings.keyType {
                let newKey = try SigningKey.generate(settings.keyType)
                try await store.stageRolloverKey(id: record.id, pem: newKey.pemRepresentation)
                try await client.changeKey(accountURL: url, oldKey: key, newKey: newKey)
                try await store.replaceKey(
                    id: record.id, newKeyPEM: newKey.pemRepresentation, newKeyType: settings.keyType)
                logger.notice(
                    "account '\(settings.name)' at \(ca): key rolled over to \(settings.keyType.rawValue)",
                    metadata: [LogKey.account: .string(settings.name), LogKey.ca: .string(ca)])
                record.keyType = settings.keyType
                key = newKey
            }
            return AccountHandle(record: record, url: url, key: key)
        }
        return try await register(settings, name: settings.name, client: client)
    }

    /// A rollover was interrupted (a staged `key.pem.next` exists): find out which key the CA knows the account by.
    /// The stored key still works -> keyChange never happened, drop the staged key; otherwise the staged key must find
    /// the same account with onlyReturnExisting, and then becomes the key.
    private func recoverRollover(
        _ record: AccountRecord, key: SigningKey, stagedPEM: String, client: ACMEClient
    ) async throws -> (AccountRecord, SigningKey) {
        var record = record
        let fields: Logger.Metadata = [LogKey.account: .string(record.name), LogKey.ca: .string(record.caDirectoryURL)]
        do {
            let found = try await client.newAccount(key: key, contact: [], eab: nil, onlyReturnExisting: true)
            if found.url == record.accountURL {
                try await store.discardStagedRolloverKey(id: record.id)
                logger.notice(
                    "account '\(record.name)': an interrupted key rollover never reached the CA; keeping the current key",
                    metadata: fields)
                return (record, key)
            }
        } catch let problem as ACMEProblem where problem.type == .accountDoesNotExist || problem.type == .unauthorized {
            // The CA no longer knows the old key: keyChange went through.
        }
        let staged = try SigningKey(pemRepresentation: stagedPEM)
        let found = try await client.newAccount(key: staged, contact: [], eab: nil, onlyReturnExisting: true)
        guard found.url == record.accountURL else {
            throw ACMEClientError.invalidResponse(
                url: record.caDirectoryURL,
                reason:
                    "the staged rollover key of account '\(record.name)' belongs to \(found.url), not \(record.accountURL ?? "?"); "
                    + "inspect \(stateDirectory)/accounts/\(record.id)/key.pem.next")
        }
        try await store.replaceKey(id: record.id, newKeyPEM: stagedPEM, newKeyType: staged.keyType)
        record.keyType = staged.keyType
        logger.notice(
            "account '\(record.name)': completed an interrupted key rollover with the staged key", metadata: fields)
        return (record, staged)
    }

    /// A record whose newAccount may have reached the CA: look the stored key up, never make a new key.
    private func recoverPending(
        _ record: AccountRecord, key: SigningKey, settings: AccountSettings, client: ACMEClient
    ) async throws -> AccountRecord {
        var record = record
        do {
            let found = try await client.newAccount(
                key: key, contact: [], eab: nil, onlyReturnExisting: true)
            record.accountURL = found.url
            record.status = .valid
            record.updated = Date()
            try await store.update(record)
            logger.notice(
                "account '\(record.name)' at \(record.caDirectoryURL) recovered with its stored key: \(found.url)",
                metadata: [LogKey.account: .string(record.name), LogKey.ca: .string(record.caDirectoryURL)])
            return record
        } catch let problem as ACMEProblem where problem.type == .accountDoesNotExist {
            // Never registered: send newAccount with the same stored key (and the same EAB, which is bound to it).
            return try await sendNewAccount(record, key: key, settings: settings, client: client).record
        }
    }

    private func register(_ settings: AccountSettings, name: String, client: ACMEClient) async throws -> AccountHandle {
        let ca = settings.ca.directoryURL
        let contact = Self.contactList(settings.contact)
        if settings.ca.requiresEAB || settings.eab != nil {
            guard settings.eab != nil else { throw AccountError.eabRequired(account: settings.name, ca: ca) }
            guard !contact.isEmpty else { throw AccountError.contactRequired(account: settings.name, ca: ca) }
        }
        if let eab = settings.eab,
            let bound = try await store.recordBound(toEABKeyID: eab.keyID, caDirectoryURL: ca)
        {
            throw AccountError.eabKeyAlreadyBound(
                keyID: eab.keyID, ca: ca, existingAccount: bound.name, contact: bound.contact,
                path: "\(stateDirectory)/accounts/\(bound.id)")
        }
        // The key is generated and stored durably before anything is sent.
        let key = try SigningKey.generate(settings.keyType)
        let now = Date()
        let record = try AccountRecord.pending(
            caDirectoryURL: ca, name: name, contact: contact, eabKeyID: settings.eab?.keyID,
            keyType: settings.keyType, now: now)
        try await store.createPending(record, keyPEM: key.pemRepresentation)
        return try await sendNewAccount(record, key: key, settings: settings, client: client)
    }

    private func sendNewAccount(
        _ record: AccountRecord, key: SigningKey, settings: AccountSettings, client: ACMEClient
    ) async throws -> AccountHandle {
        var record = record
        let ca = record.caDirectoryURL
        var eab: (keyID: String, hmacKey: [UInt8])?
        if let settingsEAB = settings.eab {
            eab = (
                settingsEAB.keyID, try secrets.hmacKey(settingsEAB.hmacKey, what: "EAB HMAC key for '\(settings.name)'")
            )
            if !record.eabSent {
                // Bound from the moment it is sent, even if the CA rejects the request.
                record.eabSent = true
                record.eabKeyID = settingsEAB.keyID
                record.updated = Date()
                try await store.update(record)
            }
        }
        let result: AccountResult
        do {
            result = try await client.newAccount(key: key, contact: record.contact, eab: eab, onlyReturnExisting: false)
        } catch let problem as ACMEProblem where eab != nil && problem.type == .unauthorized {
            let error = AccountError.eabRefused(
                account: record.name, ca: ca, keyID: eab!.keyID, detail: problem.detail ?? "\(problem)",
                backupPath: "\(stateDirectory)/accounts/\(record.id)")
            logger.error(
                "\(error)",
                metadata: CertkeeperEvent.eabRefused.metadata.merging([
                    LogKey.account: .string(record.name), LogKey.ca: .string(ca),
                ]) { $1 })
            throw error
        }
        crashPoints.reached(.afterNewAccountReply)
        record.accountURL = result.url
        record.status = .valid
        record.updated = Date()
        try await store.update(record)
        logger.notice(
            "account '\(record.name)' registered at \(ca): \(result.url)",
            metadata: CertkeeperEvent.accountRegistered.metadata.merging([
                LogKey.account: .string(record.name), LogKey.ca: .string(ca),
            ]) { $1 })
        return AccountHandle(record: record, url: result.url, key: key)
    }

    /// The name a re-binding registers its new account under until it is promoted.
    static func successorName(_ name: String) -> String { "\(name).rebind" }

    /// Registers a new account with a new EAB key id; on success the old record is archived (never deleted).
    ///
    /// Steps, each durable before the next: register `NAME.rebind` (itself crash-safe), archive the old `NAME`,
    /// import the successor as `NAME`, archive `NAME.rebind`. A crash between any two is completed by
    /// ``resumeInterruptedRebind(_:client:)`` at the next reconcile, so `NAME` ends with exactly one active account
    /// and the new EAB key is sent at most once.
    private func rebind(_ settings: AccountSettings, replacing old: AccountRecord, client: ACMEClient) async throws
        -> AccountHandle
    {
        let successorName = Self.successorName(settings.name)
        let ca = settings.ca.directoryURL
        var successor: AccountHandle
        if let pending = try await store.activeRecord(caDirectoryURL: ca, name: successorName),
            pending.eabKeyID == settings.eab?.keyID
        {
            let key = try SigningKey(pemRepresentation: try await store.keyPEM(id: pending.id))
            let record = try await recoverPending(pending, key: key, settings: settings, client: client)
            successor = AccountHandle(record: record, url: record.accountURL ?? "", key: key)
        } else {
            successor = try await register(settings, name: successorName, client: client)
        }
        try await store.archive(id: old.id)
        successor.record = try await promote(successor.record, key: successor.key, as: settings.name)
        logger.notice(
            "account '\(settings.name)' at \(ca) re-bound with EAB key id '\(settings.eab?.keyID ?? "")'; the previous account was archived",
            metadata: [LogKey.account: .string(settings.name), LogKey.ca: .string(ca)])
        return successor
    }

    /// Imports the registered successor as `name`, then archives the successor's own record.
    private func promote(_ successor: AccountRecord, key: SigningKey, as name: String) async throws -> AccountRecord {
        var promoted = successor
        promoted.id = try StateName.accountID(caDirectoryURL: successor.caDirectoryURL, name: name)
        promoted.name = name
        try await store.importRecord(promoted, keyPEM: key.pemRepresentation)
        try await store.archive(id: successor.id)
        return promoted
    }

    /// Completes a re-binding that a crash interrupted after its successor `NAME.rebind` was stored:
    /// - `NAME` already holds the successor's account: only the successor's record is left to archive;
    /// - `NAME` was archived and the successor not yet promoted: recover the successor (same key, same EAB key,
    ///   nothing new spent) and promote it.
    ///
    /// While the old `NAME` is still active the re-binding had not got past registering; ``rebind(_:replacing:client:)``
    /// resumes that registration itself when the configuration still asks for the new key id.
    private func resumeInterruptedRebind(_ settings: AccountSettings, client: ACMEClient) async throws {
        let ca = settings.ca.directoryURL
        guard let successor = try await store.activeRecord(caDirectoryURL: ca, name: Self.successorName(settings.name))
        else { return }
        let fields: Logger.Metadata = [LogKey.account: .string(settings.name), LogKey.ca: .string(ca)]
        if let active = try await store.activeRecord(caDirectoryURL: ca, name: settings.name) {
            guard active.accountURL != nil, active.accountURL == successor.accountURL else { return }
            try await store.archive(id: successor.id)
            logger.notice("account '\(settings.name)': finished an interrupted re-binding", metadata: fields)
            return
        }
        let key = try SigningKey(pemRepresentation: try await store.keyPEM(id: successor.id))
        var record = successor
        if record.accountURL == nil || record.status == .pending {
            record = try await recoverPending(record, key: key, settings: settings, client: client)
        }
        _ = try await promote(record, key: key, as: settings.name)
        logger.notice(
            "account '\(settings.name)': completed an interrupted re-binding to EAB key id '\(record.eabKeyID ?? "")'",
            metadata: fields)
    }
}
