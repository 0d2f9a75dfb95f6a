import ACMECrypto
import Foundation

/// What a certificate cannot say about itself, persisted as the state of its lifecycle (`Renewal`'s
/// `CertificateLifecycle`): the order in flight, the failures and backoff since the last success, what ARI said,
/// the chosen renewal time and who issued the installed certificate. The certificate and key live in the installed
/// files; a pending (not yet installed) key is stored separately (``CertificateStateStore/savePendingKey(name:pem:)``).
///
/// Stored as `state.json` version 2 (nested groups); version 1 files (flat fields) are read and rewritten as 2.
package struct CertificateState: Sendable, Hashable {
    /// The certificate name from config.
    package var name: String
    /// The order in flight, persisted as soon as newOrder answers so a restart resumes it.
    package var order: PendingOrder?
    /// Failures since the last success; nil after a success.
    package var backoff: Backoff?
    /// What the CA's renewalInfo (RFC 9773) said about the installed certificate.
    package var ari: ARIAdvice?
    /// The renewal time chosen for the installed certificate, kept so a restart does not re-roll it.
    package var schedule: RenewalSchedule?
    /// Who issued the installed certificate (a spec moved to another CA or account forces a renewal).
    package var issuer: IssuerRecord?
    /// When the daemon next looks at this certificate (shown by `status`, reused after a restart);
    /// `.distantFuture` while it waits for a reload.
    package var nextCheck: Date?
    /// Serial (hex) of an installed certificate revoked with `certkeeper revoke`: it is replaced at the next look,
    /// whatever its expiry.
    package var revokedSerial: String?
    /// A digest of the spec ``nextCheck`` was computed for; a different spec means "check now".
    package var specFingerprint: String?

    /// Nothing here that the installed certificate, the spec and the CA would not give again (no order in flight,
    /// no failures, no revocation, and no issuer but the one an adoption attributes it to; ARI advice is asked
    /// again): an adopted certificate's schedule, which a store may write without waiting for the disk (losing it
    /// costs one more look; were the spec's CA changed in between, the certificate would be adopted for the new CA
    /// instead of replaced at once, and renewed by it on schedule).
    package var isRecomputable: Bool {
        order == nil && backoff == nil && revokedSerial == nil && issuer?.issuedAt == nil
    }

    package init(
        name: String, order: PendingOrder? = nil, backoff: Backoff? = nil, ari: ARIAdvice? = nil,
        schedule: RenewalSchedule? = nil, issuer: IssuerRecord? = nil, nextCheck: Date? = nil,
        specFingerprint: String? = nil, revokedSerial: String? = nil
    ) {
        self.revokedSerial = revokedSerial
        self.name = name
        self.order = order
        self.backoff = backoff
        self.ari = ari
        self.schedule = schedule
        self.issuer = issuer
        self.nextCheck = nextCheck
        self.specFingerprint = specFingerprint
    }

    /// Consecutive failed attempts since the last success.
    package var failureCount: Int { backoff?.failures ?? 0 }
}

/// An order created at the CA and not yet installed.
package struct PendingOrder: Codable, Sendable, Hashable {
    /// The order URL.
    package var url: String
    /// The account that created it.
    package var accountURL: String
    /// The identifiers it was created for (a config change makes it stale).
    package var domains: [String]
    /// The key type of its pending key.
    package var keyType: KeyType?

    package init(url: String, accountURL: String, domains: [String], keyType: KeyType?) {
        self.url = url
        self.accountURL = accountURL
        self.domains = domains
        self.keyType = keyType
    }
}

/// Failed attempts since the last success, and when the next may start.
package struct Backoff: Codable, Sendable, Hashable {
    /// Consecutive failed attempts.
    package var failures: Int
    /// How many of those ended with a transient fault (the short ladder); the rest were refusals (the long ladder).
    package var transientFailures: Int
    /// The last error as shown to the operator (one line, bounded, never secrets).
    package var lastError: String
    /// The ACME problem type of the last error, if any (`urn:ietf:params:acme:error:...`).
    package var lastErrorType: String?
    package var lastFailure: Date
    /// No attempt before this time; nil while the certificate waits for a configuration change and a reload.
    package var retryAt: Date?

    package init(
        failures: Int, transientFailures: Int, lastError: String, lastErrorType: String?, lastFailure: Date,
        retryAt: Date?
    ) {
        self.failures = failures
        self.transientFailures = transientFailures
        self.lastError = lastError
        self.lastErrorType = lastErrorType
        self.lastFailure = lastFailure
        self.retryAt = retryAt
    }
}

/// The CA's renewal information for the installed certificate.
package struct ARIAdvice: Codable, Sendable, Hashable {
    /// The suggested window, when the CA gave a valid one.
    package var windowStart: Date?
    package var windowEnd: Date?
    /// Do not ask again before this time (the CA's `Retry-After`, clamped).
    package var askAgainAt: Date

    package init(windowStart: Date?, windowEnd: Date?, askAgainAt: Date) {
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.askAgainAt = askAgainAt
    }
}

/// The renewal time chosen (randomly, inside the renewal or ARI window) for one installed certificate.
package struct RenewalSchedule: Codable, Sendable, Hashable {
    /// Serial (hex) of the certificate it was chosen for; another serial re-rolls the time.
    package var serial: String
    package var renewAt: Date

    package init(serial: String, renewAt: Date) {
        self.serial = serial
        self.renewAt = renewAt
    }
}

/// Who issued the installed certificate, and when (nil when it was adopted rather than issued by certkeeper).
package struct IssuerRecord: Codable, Sendable, Hashable {
    package var directoryURL: String
    package var accountName: String
    package var issuedAt: Date?

    package init(directoryURL: String, accountName: String, issuedAt: Date?) {
        self.directoryURL = directoryURL
        self.accountName = accountName
        self.issuedAt = issuedAt
    }
}

extension CertificateState: Codable {
    /// The format written today.
    package static let formatVersion = 2

    private enum Keys: String, CodingKey {
        case version, name, order, backoff, ari, schedule, issuer, nextCheck, specFingerprint, revokedSerial
    }

    /// The flat fields of version 1 files.
    private enum LegacyKeys: String, CodingKey {
        case orderURL, orderAccountURL, orderDomains, orderKeyType, failureCount, transientFailureCount, lastError
        case lastErrorType, lastFailure, nextAttempt, lastIssued, ariRetryAfter, ariWindowStart, ariWindowEnd
        case scheduledRenewal, scheduledSerial, issuerDirectoryURL, accountName
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        name = try container.decode(String.self, forKey: .name)
        nextCheck = try container.decodeIfPresent(Date.self, forKey: .nextCheck)
        specFingerprint = try container.decodeIfPresent(String.self, forKey: .specFingerprint)
        let version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 1
        guard version >= 1 else {
            throw DecodingError.dataCorruptedError(
                forKey: .version, in: container, debugDescription: "state format \(version) does not exist")
        }
        guard version == 1 else {
            guard version == Self.formatVersion else {
                throw DecodingError.dataCorruptedError(
                    forKey: .version, in: container,
                    debugDescription:
                        "state format \(version) is newer than this certkeeper understands (\(Self.formatVersion)); upgrade certkeeper"
                )
            }
            order = try container.decodeIfPresent(PendingOrder.self, forKey: .order)
            backoff = try container.decodeIfPresent(Backoff.self, forKey: .backoff)
            ari = try container.decodeIfPresent(ARIAdvice.self, forKey: .ari)
            schedule = try container.decodeIfPresent(RenewalSchedule.self, forKey: .schedule)
            issuer = try container.decodeIfPresent(IssuerRecord.self, forKey: .issuer)
            revokedSerial = try container.decodeIfPresent(String.self, forKey: .revokedSerial)
            return
        }
        let legacy = try decoder.container(keyedBy: LegacyKeys.self)
        func value<T: Decodable>(_ key: LegacyKeys) throws -> T? { try legacy.decodeIfPresent(T.self, forKey: key) }
        if let url: String = try value(.orderURL) {
            order = PendingOrder(
                url: url, accountURL: try value(.orderAccountURL) ?? "", domains: try value(.orderDomains) ?? [],
                keyType: try value(.orderKeyType))
        }
        let failures: Int = try value(.failureCount) ?? 0
        if failures > 0 {
            let retryAt: Date? = try value(.nextAttempt)
            backoff = Backoff(
                failures: failures, transientFailures: try value(.transientFailureCount) ?? 0,
                lastError: try value(.lastError) ?? "", lastErrorType: try value(.lastErrorType),
                lastFailure: try value(.lastFailure) ?? retryAt ?? .distantPast, retryAt: retryAt)
        }
        if let askAgainAt: Date = try value(.ariRetryAfter) {
            ari = ARIAdvice(
                windowStart: try value(.ariWindowStart), windowEnd: try value(.ariWindowEnd), askAgainAt: askAgainAt)
        }
        if let renewAt: Date = try value(.scheduledRenewal), let serial: String = try value(.scheduledSerial) {
            schedule = RenewalSchedule(serial: serial, renewAt: renewAt)
        }
        if let directoryURL: String = try value(.issuerDirectoryURL) {
            issuer = IssuerRecord(
                directoryURL: directoryURL, accountName: try value(.accountName) ?? "default",
                issuedAt: try value(.lastIssued))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(Self.formatVersion, forKey: .version)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(order, forKey: .order)
        try container.encodeIfPresent(backoff, forKey: .backoff)
        try container.encodeIfPresent(ari, forKey: .ari)
        try container.encodeIfPresent(schedule, forKey: .schedule)
        try container.encodeIfPresent(issuer, forKey: .issuer)
        try container.encodeIfPresent(nextCheck, forKey: .nextCheck)
        try container.encodeIfPresent(specFingerprint, forKey: .specFingerprint)
        try container.encodeIfPresent(revokedSerial, forKey: .revokedSerial)
    }
}
