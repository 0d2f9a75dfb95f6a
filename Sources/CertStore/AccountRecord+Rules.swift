import Foundation

/// Rules shared by every ``AccountStore`` implementation, so the file store and its in-memory twin agree.
extension AccountRecord {
    /// Picks the record that binds an EAB key: active first, then archived ones that sent it, newest first.
    package static func preferredBound(_ candidates: [AccountRecord]) -> AccountRecord? {
        candidates.min { lhs, rhs in
            func rank(_ record: AccountRecord) -> Int {
                if record.status != .archived { return 0 }
                return record.eabSent ? 1 : 2
            }
            if rank(lhs) != rank(rhs) { return rank(lhs) < rank(rhs) }
            return lhs.updated > rhs.updated
        }
    }

    /// Throws unless `new` may replace `stored` through `update`.
    package static func checkUpdate(from stored: AccountRecord, to new: AccountRecord, archived: Bool) throws {
        guard stored.caDirectoryURL == new.caDirectoryURL, stored.name == new.name else {
            throw CertStoreError.invalidUpdate(id: new.id, reason: "the CA directory URL and name cannot change")
        }
        if archived && new.status != .archived {
            throw CertStoreError.invalidUpdate(id: new.id, reason: "an archived account stays archived")
        }
        if !archived && new.status == .archived {
            throw CertStoreError.invalidUpdate(id: new.id, reason: "use archive(id:) to archive an account")
        }
    }
}
