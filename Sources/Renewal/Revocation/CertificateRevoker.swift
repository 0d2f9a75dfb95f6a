import ACMEClient
import ACMECrypto
import ACMEModels
import CertStore
import CertkeeperConfig
import Foundation
import SafeFiles

/// `certkeeper revoke` and `certkeeper delete --revoke`: revokes an installed certificate at its CA (RFC 8555 §7.6)
/// and records it in the certificate's state, so that the next look at it orders a replacement whatever its expiry.
///
/// The request is signed with the key of the account that issued it (the state's issuer record, else the spec's
/// account). When that account is not in the store or the CA refuses it (`unauthorized`: another account holds the
/// authorizations), it is signed with the certificate's own key, which RFC 8555 also accepts. For `keyCompromise`
/// the certificate's key signs from the start: it proves the key is in other hands too, and Let's Encrypt accepts
/// that reason only so. A certificate the CA reports as already revoked counts as revoked.
package struct CertificateRevoker: Sendable {
    /// RFC 5280 reason codes that ACME CAs accept (Let's Encrypt: 0, 1, 4, 5).
    package enum Reason: String, Sendable, CaseIterable {
        case unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation

        package var code: Int {
            switch self {
            case .unspecified: 0
            case .keyCompromise: 1
            case .affiliationChanged: 3
            case .superseded: 4
            case .cessationOfOperation: 5
            }
        }
    }

    /// What happened.
    package struct Outcome: Sendable, Hashable {
        package var serial: String
        /// The CA said it was revoked before.
        package var alreadyRevoked: Bool
        /// "account ID" or "the certificate's own key".
        package var signedWith: String
    }

    package var accounts: any AccountStore
    package var stateStore: any CertificateStateStore
    package var clients: ACMEClientPool
    package var clock: any DaemonClock

    package init(
        accounts: any AccountStore, stateStore: any CertificateStateStore, clients: ACMEClientPool,
        clock: any DaemonClock
    ) {
        self.accounts = accounts
        self.stateStore = stateStore
        self.clients = clients
        self.clock = clock
    }

    /// Revokes `installed` (certificate `name`) at `ca`, preferring the account `accountName`'s key, then marks the
    /// state. Throws the CA's problem when it refuses with both keys.
    package func revoke(
        name: String, installed: InstalledCertificate, ca: CASettings, accountName: String, reason: Reason
    ) async throws -> Outcome {
        guard let der = installed.leafDER else {
            throw RevocationError.unreadableCertificate(name)
        }
        let client = try await clients.client(for: ca)
        let serial = installed.info.serialHex
        var outcome = Outcome(serial: serial, alreadyRevoked: false, signedWith: "the certificate's own key")
        var revoked = false
        let accountID = try StateName.accountID(caDirectoryURL: ca.directoryURL, name: accountName)
        if reason != .keyCompromise, let record = try await accounts.record(id: accountID), record.status == .valid,
            let accountURL = record.accountURL
        {
            let key = try SigningKey(pemRepresentation: try await accounts.keyPEM(id: accountID))
            do {
                try await client.revoke(certificateDER: der, reason: reason.code, accountURL: accountURL, key: key)
                revoked = true
            } catch let problem as ACMEProblem where problem.type == .alreadyRevoked {
                revoked = true
                outcome.alreadyRevoked = true
            } catch let problem as ACMEProblem where problem.type == .unauthorized {
                revoked = false  // Another account holds the authorizations: sign with the certificate's key below.
            }
            if revoked { outcome.signedWith = "account \(accountID)" }
        }
        if !revoked {
            let key = try SigningKey(pemRepresentation: installed.keyPEM)
            do {
                try await client.revoke(certificateDER: der, reason: reason.code, accountURL: nil, key: key)
            } catch let problem as ACMEProblem where problem.type == .alreadyRevoked {
                outcome.alreadyRevoked = true
            }
        }
        var state = try await stateStore.load(name: name) ?? CertificateState(name: name)
        state.revokedSerial = serial
        state.nextCheck = clock.now()
        try await stateStore.save(state)
        return outcome
    }
}

/// Why a revocation could not start.
package enum RevocationError: Error, CustomStringConvertible {
    case unreadableCertificate(String)

    package var description: String {
        switch self {
        case .unreadableCertificate(let name):
            "the installed certificate of \(name) cannot be read as DER; nothing was sent to the CA"
        }
    }
}
