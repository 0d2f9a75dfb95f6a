import Foundation

/// Everything that can go wrong in the state store and the lock manager (file operations throw
/// `FileSystemError`).
///
/// Every case names the path, id or name concerned; none carries key material.
package enum CertStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A system call failed on `path`.
    case io(operation: String, path: String, errno: Int32)
    /// Something is already stored where a new one was to be created.
    case alreadyExists(id: String, path: String)
    /// Nothing stored under `id`.
    case notFound(id: String, stateDirectory: String)
    /// A stored file could not be decoded.
    case corrupt(path: String, reason: String)
    /// Two CA directory URLs map to the same account id.
    case idCollision(id: String, storedCA: String, requestedCA: String)
    /// An update that the store refuses (for example archiving through `update`).
    case invalidUpdate(id: String, reason: String)
    /// Another process held the lock for longer than the bounded wait.
    case lockBusy(name: String, path: String, waited: Duration)

    package var description: String {
        switch self {
        case .io(let operation, let path, let code):
            return "\(operation) \(path): \(String(cString: strerror(code))) (errno \(code))"
        case .alreadyExists(let id, let path):
            return "\(id) already exists at \(path); archive it first or choose another name"
        case .notFound(let id, let stateDirectory):
            return "no stored record \"\(id)\" in state directory \(stateDirectory)"
        case .corrupt(let path, let reason):
            return "cannot read \(path): \(reason); fix or move the file aside"
        case .idCollision(let id, let storedCA, let requestedCA):
            return
                "account id \(id) is used by CA \(storedCA), not \(requestedCA); give this account a different name"
        case .invalidUpdate(let id, let reason):
            return "refused update of \(id): \(reason)"
        case .lockBusy(let name, let path, let waited):
            return
                "lock \(name) (\(path)) is held by another process after waiting \(waited); is a second certkeeper using this state directory?"
        }
    }
}

extension CertStoreError {
    /// True for ``lockBusy(name:path:waited:)``: another process holds the lock, nothing is wrong with the store.
    package var isLockBusy: Bool {
        if case .lockBusy = self { return true }
        return false
    }
}

/// An error of a store backend that knows whether it is an outage: the backend could not be reached (a database
/// down or unreachable) and the same call is expected to work again soon, as opposed to a refusal or bad data.
package protocol StoreBackendError: Error {
    var isOutage: Bool { get }
}

/// True when `error` is a store backend's outage (``StoreBackendError/isOutage``).
package func isStoreOutage(_ error: any Error) -> Bool {
    (error as? any StoreBackendError)?.isOutage ?? false
}

/// The lease covering some work was lost before the work ended (another node took it, or it could not be renewed in
/// time); the work was cancelled and must write nothing more.
package struct LeaseLost: Error, Sendable, Hashable, CustomStringConvertible {
    package let name: String
    package let reason: String

    package init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }

    package var description: String { "lost the lease \(name) (\(reason)); another node may take the work over" }
}
