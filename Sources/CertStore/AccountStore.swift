import ACMECrypto
import Foundation

/// Persistent ACME accounts: records plus their PEM private keys.
///
/// Contract for every implementation (file, memory, later PostgreSQL):
/// - Absence is `nil`, never an error, for the lookup methods.
/// - The active set holds at most one record per (CA directory URL, account name); its id is
///   `<ca-slug>--<name>` (``StateName/accountID(caDirectoryURL:name:)``). Archived records leave the active set and
///   are never deleted.
/// - Writes are durable when the method returns. Keys are PEM strings; callers parse them.
/// - Implementations serialise their own writes; callers still take a ``LockManager`` lock per account for
///   multi-step flows (create, newAccount, update).
package protocol AccountStore: Sendable {
    /// The active (non-archived) record for this CA and account name, whatever its status.
    func activeRecord(caDirectoryURL: String, name: String) async throws -> AccountRecord?
    /// Every active record, plus archived ones when `includeArchived`; sorted by id.
    func allRecords(includeArchived: Bool) async throws -> [AccountRecord]
    /// The record with this id, active or archived.
    func record(id: String) async throws -> AccountRecord?
    /// A record (active or archived, any name) that used this EAB key id at this CA; active ones first, then
    /// archived ones that sent it, most recently updated first.
    func recordBound(toEABKeyID: String, caDirectoryURL: String) async throws -> AccountRecord?
    /// Stores a new pending record and its key, durably, before any newAccount is sent.
    /// Fails with ``CertStoreError/alreadyExists(id:path:)`` when an active record for (CA, name) exists.
    func createPending(_ record: AccountRecord, keyPEM: String) async throws
    /// Replaces a stored record (active or archived) with the same id; `updated` is kept as given.
    func update(_ record: AccountRecord) async throws
    /// The PEM private key of the record with this id.
    func keyPEM(id: String) async throws -> String
    /// Key rollover: atomically installs `newKeyPEM`, keeps the old key as `key.pem.old-<timestamp>`, and records
    /// `newKeyType`. Call after the CA accepted keyChange.
    func replaceKey(id: String, newKeyPEM: String, newKeyType: KeyType) async throws
    /// Rollover crash safety: durably stores the new key (`key.pem.next`) before keyChange is sent, so a crash after
    /// the CA accepted it cannot lose the only working key. ``replaceKey(id:newKeyPEM:newKeyType:)`` clears it.
    func stageRolloverKey(id: String, pem: String) async throws
    /// The staged rollover key of an active account, if a rollover was interrupted.
    func stagedRolloverKey(id: String) async throws -> String?
    /// Forgets a staged rollover key (the CA never accepted it).
    func discardStagedRolloverKey(id: String) async throws
    /// Moves the active record out of the active set (status archived); nothing is deleted.
    func archive(id: String) async throws
    /// Stores a record and key made elsewhere (migration, `certkeeper account import`); fails if the id exists.
    func importRecord(_ record: AccountRecord, keyPEM: String) async throws
}
