import ACMEClient
import CertStore
import Installer
import SafeFiles

// What the renewal engine's own errors call for after a failed attempt. `FailureClassifier.attempt(_:)` (ACMEClient)
// is the one entry point; it decides ACME problems and transport errors itself and asks these conformances for the
// rest. FailureClassifierTests checks every case through that entry point.

extension IssueError: ClassifiedFailure {
    package var failureDisposition: FailureDisposition {
        switch self {
        // The spec asks for something this CA or this challenge set-up cannot give: change the spec.
        case .noSolver, .profileNotOffered: return .waitForReload
        // Still validating or issuing when polling gave up: the next attempt continues the same order.
        case .orderStalled: return .retryAttemptSoon
        // The CA refused (an invalid authorization or order) or misbehaved (other names, a bad certificate).
        case .authorizationFailed, .orderInvalid, .verificationFailed, .orderIdentifiersMismatch,
            .unrequestedAuthorization:
            return .backOff
        }
    }
}

extension AccountError: ClassifiedFailure {
    package var failureDisposition: FailureDisposition {
        switch self {
        // A spent or refused EAB key, or settings only the operator can fix: nothing to gain before a reload.
        case .eabRefused, .waitingForConfigChange, .eabKeyAlreadyBound, .contactRequired, .eabRequired:
            return .waitForReload
        // A secret file may be fixed in place (permissions, a credential not yet there).
        case .secretUnreadable: return .backOff
        }
    }
}

extension JobTimeoutError: ClassifiedFailure {
    /// A CA, DNS server or hook that hung for the whole job deadline is no blip: the long ladder, logged as an error
    /// with `on_failure` hooks (the next attempt still continues the same order).
    package var failureDisposition: FailureDisposition { .backOff }
}

extension CertStoreError: ClassifiedFailure {
    package var failureDisposition: FailureDisposition {
        switch self {
        // Another process holds the lock: its turn ends soon.
        case .lockBusy: return .retryAttemptSoon
        // A names or URL the configuration gave.
        case .idCollision: return .waitForReload
        // The state directory (read-only, full, permissions) or its content needs the operator.
        case .io, .alreadyExists, .notFound, .corrupt, .invalidUpdate: return .backOff
        }
    }
}

extension StateNameError: ClassifiedFailure {
    /// A certificate, account or CA name the configuration gave.
    package var failureDisposition: FailureDisposition { .waitForReload }
}

extension InstallerError: ClassifiedFailure {
    package var failureDisposition: FailureDisposition {
        switch self {
        // The spec's install settings: change the spec.
        case .unsafeKeyMode, .incompleteTarget, .relativePath, .invalidUnitName: return .waitForReload
        // Something on disk is in the way; the operator may fix it without a reload.
        case .unmanagedLivePath: return .backOff
        }
    }
}
