import ACMECrypto
import Foundation
import SafeFiles

/// What certkeeper remembers about one ACME account (the key is stored beside it, see ``AccountStore``).
///
/// On disk this is `account.json`: pretty-printed, sorted keys, ISO-8601 dates. The record never holds key
/// material or EAB HMAC keys; only the EAB key id.
package struct AccountRecord: Codable, Sendable, Hashable {
    /// Lifecycle of the stored account.
    package enum Status: String, Codable, Sendable, Hashable, CaseIterable {
        /// Key stored, newAccount not yet answered (no account URL yet).
        case pending
        /// The CA returned an account URL.
        case valid
        /// Deactivated at the CA (RFC 8555 §7.3.6); it cannot be used again.
        case deactivated
        /// Moved out of the active set; kept for history and EAB bookkeeping.
        case archived
    }

    /// The directory name: `<ca-slug>--<name>` while active, `<ca-slug>--<name>-<UTC timestamp>` once archived.
    package var id: String
    /// The CA's directory URL, exactly as configured.
    package var caDirectoryURL: String
    /// The account name from config; "default" for a CA's default account.
    package var name: String
    /// The account URL (the JWS `kid`) from newAccount's Location; nil while pending.
    package var accountURL: String?
    /// Contact URLs ("mailto:...").
    package var contact: [String]
    /// The EAB key id used or to be used with newAccount (never the HMAC key).
    package var eabKeyID: String?
    /// True once a newAccount carrying the EAB was sent: the EAB may be consumed even if no answer arrived.
    package var eabSent: Bool
    /// The account key's algorithm.
    package var keyType: KeyType
    package var status: Status
    package var created: Date
    package var updated: Date
    /// Free text for the operator (why it was archived, imported from where, ...).
    package var notes: String?

    package init(
        id: String, caDirectoryURL: String, name: String, accountURL: String? = nil, contact: [String] = [],
        eabKeyID: String? = nil, eabSent: Bool = false, keyType: KeyType, status: Status, created: Date,
        updated: Date, notes: String? = nil
    ) {
        self.id = id
        self.caDirectoryURL = caDirectoryURL
        self.name = name
        self.accountURL = accountURL
        self.contact = contact
        self.eabKeyID = eabKeyID
        self.eabSent = eabSent
        self.keyType = keyType
        self.status = status
        self.created = created
        self.updated = updated
        self.notes = notes
    }

    /// A new pending record with the id derived from the CA and name (see ``StateName/accountID(caDirectoryURL:name:)``).
    package static func pending(
        caDirectoryURL: String, name: String, contact: [String], eabKeyID: String?, keyType: KeyType, now: Date
    ) throws -> AccountRecord {
        AccountRecord(
            id: try StateName.accountID(caDirectoryURL: caDirectoryURL, name: name), caDirectoryURL: caDirectoryURL,
            name: name, contact: contact, eabKeyID: eabKeyID, keyType: keyType, status: .pending, created: now,
            updated: now)
    }
}
