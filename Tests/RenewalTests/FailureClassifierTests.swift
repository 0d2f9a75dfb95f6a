import ACMEClient
import ACMEModels
import CertStore
import CertkeeperConfig
import Foundation
import Installer
import Renewal
import SafeFiles
import Testing

/// One table per kind of failure: every ACME problem type, transport error, client error and renewal error maps
/// to exactly one disposition, through the one entry point the renewal engine uses.
@Suite struct FailureClassifierTests {
    static func problem(_ name: String, status: Int = 400) -> ACMEProblem {
        ACMEProblem(type: ProblemType(acme: name), detail: "d", status: status)
    }

    static let problemTable: [(String, Int, FailureDisposition)] = [
        ("badNonce", 400, .retryAttemptSoon),
        ("serverInternal", 500, .retryAttemptSoon),
        ("orderNotReady", 403, .retryAttemptSoon),
        ("alreadyReplaced", 409, .retryAttemptSoon),
        ("rateLimited", 429, .backOff),
        ("unauthorized", 403, .backOff),
        ("rejectedIdentifier", 400, .backOff),
        ("caa", 403, .backOff),
        ("dns", 400, .backOff),
        ("connection", 400, .backOff),
        ("incorrectResponse", 403, .backOff),
        ("tls", 400, .backOff),
        ("malformed", 400, .backOff),
        ("badCSR", 400, .backOff),
        ("accountDoesNotExist", 400, .backOff),
        ("compound", 403, .backOff),
        ("unsupportedIdentifier", 400, .backOff),
        ("badRevocationReason", 400, .backOff),
        ("alreadyRevoked", 400, .backOff),
        ("userActionRequired", 403, .waitForReload),
        ("agreementRequired", 403, .waitForReload),
        ("externalAccountRequired", 403, .waitForReload),
        ("invalidContact", 400, .waitForReload),
        ("unsupportedContact", 400, .waitForReload),
        ("badPublicKey", 400, .waitForReload),
        ("badSignatureAlgorithm", 400, .waitForReload),
        ("invalidProfile", 400, .waitForReload),
        // A type this client does not know: by its status.
        ("somethingNew", 503, .retryAttemptSoon),
        ("somethingNew", 400, .backOff),
    ]

    @Test(arguments: problemTable)
    func everyProblemTypeHasOneDisposition(_ name: String, _ status: Int, _ expected: FailureDisposition) {
        #expect(FailureClassifier.attempt(Self.problem(name, status: status)) == expected)
    }

    static let transportTable: [(HTTPTransportError.Kind, FailureDisposition)] = [
        (.connectionRefused, .retryAttemptSoon), (.connectionReset, .retryAttemptSoon),
        (.timeout, .retryAttemptSoon), (.dns, .retryAttemptSoon), (.tls, .backOff), (.other, .backOff),
    ]

    @Test(arguments: transportTable)
    func everyTransportErrorHasOneDisposition(_ kind: HTTPTransportError.Kind, _ expected: FailureDisposition) {
        let error = HTTPTransportError(kind: kind, url: "https://ca.test/x", message: "m")
        #expect(FailureClassifier.attempt(error) == expected)
        #expect(FailureClassifier.attempt(ACMEClientError.transport(error, attempts: 7)) == expected)
    }

    @Test func everyClientErrorHasOneDisposition() {
        let table: [(ACMEClientError, FailureDisposition)] = [
            (.unexpectedStatus(url: "u", status: 502, body: ""), .retryAttemptSoon),
            (.unexpectedStatus(url: "u", status: 404, body: ""), .backOff),
            (.invalidResponse(url: "u", reason: "r"), .backOff),
            (.timeout(url: "u", lastStatus: "processing", waited: .seconds(180)), .retryAttemptSoon),
            (.keyInUse(url: "u", existingAccount: nil), .backOff),
            (.notSupported(directoryURL: "u", feature: "ARI"), .waitForReload),
        ]
        for (error, expected) in table {
            #expect(FailureClassifier.attempt(error) == expected, "\(error)")
        }
    }

    @Test func everyRenewalErrorHasOneDisposition() {
        let table: [(any Error, FailureDisposition)] = [
            (IssueError.noSolver(domain: "a", offered: ["dns-01"], wanted: "http-01"), .waitForReload),
            (
                IssueError.profileNotOffered(ConfigDiagnostic(file: "f", line: 1, column: 1, message: "m")),
                .waitForReload
            ),
            (IssueError.orderStalled(url: "u", status: "processing"), .retryAttemptSoon),
            (IssueError.authorizationFailed(domain: "a", challenge: "http-01", problem: nil), .backOff),
            (IssueError.orderInvalid(url: "u", problem: nil), .backOff),
            (IssueError.verificationFailed(certificate: "c", reason: "r"), .backOff),
            (IssueError.orderIdentifiersMismatch(url: "u", ca: "c", unexpected: [], missing: []), .backOff),
            (IssueError.unrequestedAuthorization(url: "u", identifier: "i", ca: "c"), .backOff),
            (
                AccountError.eabRefused(account: "a", ca: "c", keyID: "k", detail: "d", backupPath: "p"),
                .waitForReload
            ),
            (AccountError.waitingForConfigChange(account: "a", ca: "c", reason: "r"), .waitForReload),
            (
                AccountError.eabKeyAlreadyBound(keyID: "k", ca: "c", existingAccount: "e", contact: [], path: "p"),
                .waitForReload
            ),
            (AccountError.contactRequired(account: "a", ca: "c"), .waitForReload),
            (AccountError.eabRequired(account: "a", ca: "c"), .waitForReload),
            (AccountError.secretUnreadable(what: "w", reason: "r"), .backOff),
            (JobTimeoutError(certificate: "c", timeout: 1800), .backOff),
            (CertStoreError.lockBusy(name: "n", path: "p", waited: .seconds(60)), .retryAttemptSoon),
            (CertStoreError.io(operation: "write", path: "p", errno: 28), .backOff),
            (CertStoreError.corrupt(path: "p", reason: "r"), .backOff),
            (StateNameError.invalidName("x", kind: "k"), .waitForReload),
            (InstallerError.unsafeKeyMode(certificate: "c", mode: 0o644), .waitForReload),
            (InstallerError.unmanagedLivePath(certificate: "c", path: "p"), .backOff),
            (CancellationError(), .retryAttemptSoon),
            (CocoaError(.fileWriteOutOfSpace), .backOff),
        ]
        for (error, expected) in table {
            #expect(FailureClassifier.attempt(error) == expected, "\(error)")
        }
    }

    // MARK: - Inside one request

    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func response(_ status: Int, retryAfter: String? = nil) -> HTTPResponseData {
        HTTPResponseData(status: status, headers: retryAfter.map { [("Retry-After", $0)] } ?? [])
    }

    @Test func badNonceIsRetriedAtOnceForThirtySeconds() {
        var budget = FailureClassifier.RequestBudget(started: Self.start)
        let nonce = Self.problem("badNonce")
        let at = { (seconds: TimeInterval) in Self.start.addingTimeInterval(seconds) }
        #expect(
            FailureClassifier.request(response: Self.response(400), problem: nonce, budget: budget, now: at(0))
                == .retryRequestNow)
        #expect(
            FailureClassifier.request(response: Self.response(400), problem: nonce, budget: budget, now: at(29.9))
                == .retryRequestNow)
        #expect(
            FailureClassifier.request(response: Self.response(400), problem: nonce, budget: budget, now: at(30))
                == .retryAttemptSoon)
        budget.badNonceRetries = FailureClassifier.maxBadNonceRetries
        #expect(
            FailureClassifier.request(response: Self.response(400), problem: nonce, budget: budget, now: at(1))
                == .retryAttemptSoon)
    }

    @Test func transientResponsesAreRetriedAfterAGrowingDelayThenEndTheAttempt() {
        var budget = FailureClassifier.RequestBudget(started: Self.start)
        let serverError = Self.problem("serverInternal", status: 500)
        var delays: [Duration] = []
        while case .retryRequestAfter(let delay) = FailureClassifier.request(
            response: Self.response(500), problem: serverError, budget: budget, now: Self.start)
        {
            delays.append(delay)
            budget.transientFaults += 1
            if budget.transientFaults > 20 { break }
        }
        #expect(delays == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8)])
        #expect(
            FailureClassifier.request(
                response: Self.response(500), problem: serverError, budget: budget, now: Self.start)
                == .retryAttemptSoon)
    }

    @Test func retryAfterDecidesBetweenWaitingAndEndingTheAttempt() {
        let budget = FailureClassifier.RequestBudget(started: Self.start)
        let limited = Self.problem("rateLimited", status: 429)
        let table: [(Int, String?, ACMEProblem?, FailureDisposition)] = [
            (429, "3", limited, .retryRequestAfter(.seconds(3))),
            (429, "3600", limited, .backOff),
            (429, nil, limited, .backOff),
            (503, "2", nil, .retryRequestAfter(.seconds(2))),
            (503, "3600", nil, .retryAttemptSoon),
            (502, nil, nil, .retryRequestAfter(.milliseconds(250))),
            (404, nil, nil, .backOff),
            (403, nil, Self.problem("unauthorized", status: 403), .backOff),
            (403, nil, Self.problem("userActionRequired", status: 403), .waitForReload),
        ]
        for (status, retryAfter, problem, expected) in table {
            let decided = FailureClassifier.request(
                response: Self.response(status, retryAfter: retryAfter), problem: problem, budget: budget,
                now: Self.start)
            #expect(decided == expected, "\(status) Retry-After \(retryAfter ?? "-")")
        }
    }

    @Test func transportErrorsAreRetriedOnANewConnectionThenEndTheAttempt() {
        var budget = FailureClassifier.RequestBudget(started: Self.start)
        let reset = HTTPTransportError(kind: .connectionReset, url: "u", message: "m")
        let refused = HTTPTransportError(kind: .connectionRefused, url: "u", message: "m")
        let tls = HTTPTransportError(kind: .tls, url: "u", message: "m")
        // A dropped keep-alive connection: at once, the first time.
        #expect(FailureClassifier.request(transportError: reset, budget: budget) == .retryRequestAfter(.zero))
        #expect(
            FailureClassifier.request(transportError: refused, budget: budget)
                == .retryRequestAfter(.milliseconds(250)))
        #expect(FailureClassifier.request(transportError: tls, budget: budget) == .backOff)
        budget.transientFaults = 1
        #expect(
            FailureClassifier.request(transportError: reset, budget: budget) == .retryRequestAfter(.milliseconds(500)))
        budget.transientFaults = FailureClassifier.maxTransientRetries
        #expect(FailureClassifier.request(transportError: reset, budget: budget) == .retryAttemptSoon)
    }
}
