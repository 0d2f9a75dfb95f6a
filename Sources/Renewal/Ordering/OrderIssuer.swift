import ACMEClient
import ACMECrypto
import ACMEModels
import CertStore
import CertkeeperConfig
import CertkeeperLogging
import ChallengeSolvers
import Foundation
import Logging

/// A certificate fresh from the CA, verified and ready to install.
package struct IssuedCertificate: Sendable {
    package var keyPEM: String
    package var fullchainPEM: String
    package var certPEM: String
    package var chainPEM: String
    package var info: CertificateInfo
    /// RFC 9773 CertID, when the leaf has an Authority Key Identifier.
    package var ariCertID: String?
    /// The issuer Common Name of the chain's topmost certificate (the root it leads to).
    package var chainRoot: String?
    /// Where the order's time went (the maintainer adds `install`).
    package var timings = OrderTimings()
}

/// Why an order failed, with where it happened.
package enum IssueError: Error, Sendable, CustomStringConvertible {
    case noSolver(domain: String, offered: [String], wanted: String)
    case authorizationFailed(domain: String, challenge: String, problem: ACMEProblem?)
    case orderInvalid(url: String, problem: ACMEProblem?)
    case verificationFailed(certificate: String, reason: String)
    case orderStalled(url: String, status: String)
    /// The spec names a profile that the CA's directory does not advertise under `meta.profiles`.
    /// The spec's profile is not advertised by its CA (``ProfileValidator/check(spec:directory:)``).
    case profileNotOffered(ConfigDiagnostic)
    /// The CA's order lists other identifiers than the ones requested.
    case orderIdentifiersMismatch(url: String, ca: String, unexpected: [String], missing: [String])
    /// The CA asks to authorize a name the certificate did not request.
    case unrequestedAuthorization(url: String, identifier: String, ca: String)

    package var description: String {
        switch self {
        case .noSolver(let domain, let offered, let wanted):
            return
                "the CA offers \(offered.joined(separator: ", ")) for \(domain), but the spec uses \(wanted); "
                + "set [challenge] or [challenge.domains.\"\(domain)\"] to a type the CA offers"
        case .authorizationFailed(let domain, let challenge, let problem):
            return "\(challenge) validation of \(domain) failed: \(problem.map { "\($0)" } ?? "no detail from the CA")"
        case .orderInvalid(let url, let problem):
            return "order \(url) became invalid: \(problem.map { "\($0)" } ?? "no detail from the CA")"
        case .verificationFailed(let certificate, let reason):
            return "the certificate downloaded for '\(certificate)' was not installed: \(reason)"
        case .orderStalled(let url, let status):
            return "order \(url) is still \(status) after polling; it will be resumed on the next attempt"
        case .profileNotOffered(let diagnostic):
            return "\(diagnostic)"
        case .orderIdentifiersMismatch(let url, let ca, let unexpected, let missing):
            var differences: [String] = []
            if !unexpected.isEmpty { differences.append("not requested: \(unexpected.joined(separator: ", "))") }
            if !missing.isEmpty { differences.append("missing: \(missing.joined(separator: ", "))") }
            return "the CA \(ca) answered with order \(url) for other names than requested ("
                + differences.joined(separator: "; ")
                + "); nothing was solved or finalized for it, a new order is opened on the next attempt"
        case .unrequestedAuthorization(let url, let identifier, let ca):
            return "the CA \(ca) asked to authorize '\(identifier)' (\(url)), a name this certificate did not "
                + "request; no challenge of this order was answered and no solver or hook ran"
        }
    }

    /// The ACME problem behind the failure, if any.
    package var problem: ACMEProblem? {
        switch self {
        case .authorizationFailed(_, _, let problem), .orderInvalid(_, let problem): return problem
        default: return nil
        }
    }
}

/// Carries one order from newOrder (or a persisted in-flight order) to a verified certificate.
package struct OrderIssuer: Sendable {
    package var solvers: SolverFactory
    package var stateStore: any CertificateStateStore
    package var crashPoints: any CrashPoints
    package var logger: Logger
    /// Upper bound for polling one authorization or order.
    package var pollTimeout: Duration = .seconds(180)
    /// Told how the order advances (`renew --wait`).
    package var progress: AttemptProgressBoard?

    package init(
        solvers: SolverFactory, stateStore: any CertificateStateStore, crashPoints: any CrashPoints = NoCrashPoints(),
        progress: AttemptProgressBoard? = nil, logger: Logger
    ) {
        self.progress = progress
        self.solvers = solvers
        self.stateStore = stateStore
        self.crashPoints = crashPoints
        self.logger = logger
    }

    /// Orders a certificate for `spec`, continuing a persisted in-flight order when it is still usable.
    ///
    /// - Parameters:
    ///   - lifecycle: the certificate's lifecycle; the order is reported to it (and saved) as soon as newOrder
    ///     answers, and abandoned when it can never complete.
    ///   - reuseKeyPEM: the installed key when `reuse_key = true`.
    ///   - replaces: the ARI CertID of the predecessor, sent only when the CA offers renewalInfo.
    package func issue(
        spec: CertificateSpec, account: AccountHandle, client: ACMEClient, continuing: PendingOrder?,
        lifecycle: inout CertificateLifecycle,
        reuseKeyPEM: String?, replaces: String?, now: Date
    ) async throws -> IssuedCertificate {
        var metadata: Logger.Metadata = [
            LogKey.cert: .string(spec.name), LogKey.ca: .string(spec.ca.directoryURL),
            LogKey.account: .string(spec.account.name),
        ]
        let wantedDomains = spec.domains.sorted()
        var order: Order?
        var orderURL: String?
        var timings = OrderTimings()
        let orderStarted = ContinuousClock.now
        // The lifecycle chose to continue an order opened for what the spec asks now; it must also be this account's.
        if let known = continuing, known.domains.sorted() == wantedDomains, known.accountURL == account.url {
            let known = known.url
            // A request whose reply was lost may have been carried out: look at the known order first.
            // Past finalize, the certificate is bound to the stored pending key: without that key the order
            // can never be installed, so a new one is opened instead of failing on it forever.
            // A store that cannot be read (a database outage, a key sealed with a key this node lacks) ends the
            // attempt: taking it for "no key" would open a second order for a certificate the CA may have issued.
            let storedKey = try await stateStore.pendingKey(name: spec.name)
                .flatMap { try? SigningKey(pemRepresentation: $0) }
            let keyUsable = storedKey?.keyType == spec.keyType
            let existing: Order?
            do {
                existing = try await client.fetchOrder(url: known, accountURL: account.url, key: account.key)
            } catch  where FailureClassifier.attempt(error) == .retryAttemptSoon {
                // The look itself met a transient fault: the order may well be usable; never open a second one
                // because of that. The attempt ends and the next one looks again.
                throw error
            } catch {
                existing = nil  // a definite answer (gone, refused): a new order
            }
            if let existing,
                [.pending, .ready].contains(existing.status)
                    || ([.processing, .valid].contains(existing.status) && keyUsable)
            {
                order = existing
                orderURL = known
                logger.info("continuing order \(known) (\(existing.status))", metadata: metadata)
                progress?.publish(spec.name, .orderContinued(url: known))
            }
        }
        if order == nil {
            // A profile is sent only when the CA advertises it (draft-ietf-acme-profiles §3).
            if spec.profile != nil,
                let problem = ProfileValidator.check(spec: spec, directory: try await client.directory())
            {
                throw IssueError.profileNotOffered(problem)
            }
            let created = try await client.newOrder(
                accountURL: account.url, key: account.key, identifiers: spec.domains, replaces: replaces,
                profile: spec.profile)
            order = created.order
            orderURL = created.url
            lifecycle.record(
                .created(
                    PendingOrder(
                        url: created.url, accountURL: account.url, domains: spec.domains, keyType: spec.keyType)))
            try await stateStore.save(lifecycle.state)
            logger.info("order \(created.url) created", metadata: metadata)
            progress?.publish(spec.name, .orderCreated(url: created.url))
        }
        timings.add(.newOrder, ContinuousClock.now - orderStarted)
        guard var current = order, let url = orderURL else {
            throw IssueError.orderInvalid(url: spec.ca.directoryURL, problem: nil)
        }
        metadata[LogKey.orderURL] = .string(url)
        let requested = RequestedNames(names: spec.domains, ca: spec.ca.directoryURL)
        do {
            try requested.checkOrder(current, url: url)
        } catch {
            // Never continued: the next attempt opens a new order.
            lifecycle.record(.abandoned)
            throw error
        }

        // The certificate key is stored before finalize, so a restart after finalize can still install the result.
        let certificateKey = try await pendingKey(spec: spec, reuseKeyPEM: reuseKeyPEM)

        if current.status == .pending {
            try await solveAuthorizations(
                current, spec: spec, requested: requested, account: account, client: client, timings: &timings,
                metadata: metadata)
            // Every authorization is valid, so the order is ready (RFC 8555 §7.1.6): finalize without fetching it
            // first. A CA that lags behind answers orderNotReady, and finalize() waits for it.
            current.status = .ready
        }
        if current.status == .ready {
            // Solved now, or valid already when the order was created (a CA may reuse a valid authorization).
            progress?.publish(spec.name, .authorizationsValid(count: current.authorizations.count))
            let csr = try CSRBuilder.derCSR(domains: spec.domains, key: certificateKey)
            let ready = current
            current = try await timings.measure(.finalize) {
                try await finalize(ready, url: url, csr: csr, account: account, client: client, metadata: metadata)
            }
            crashPoints.reached(.afterFinalize)
        }
        if current.status == .processing || (current.status == .valid && current.certificate == nil) {
            let waitFirst = current.status == .processing
            current = try await timings.measure(.finalize) {
                try await client.pollOrder(
                    url: url, accountURL: account.url, key: account.key, until: [.valid], timeout: pollTimeout,
                    waitFirst: waitFirst)
            }
        }
        if current.status == .invalid { throw IssueError.orderInvalid(url: url, problem: current.error) }
        guard current.status == .valid, let certificateURL = current.certificate else {
            throw IssueError.orderStalled(url: url, status: current.status.rawValue)
        }
        progress?.publish(spec.name, .finalized)
        let downloadStarted = ContinuousClock.now
        let download = try await client.downloadCertificate(
            url: certificateURL, accountURL: account.url, key: account.key)
        let pem = try await preferredChain(
            spec: spec, default: download, client: client, account: account)
        let chain: CertificateChain
        do {
            chain = try CertificateChain(pem: pem)
            try chain.verify(expectedKey: certificateKey, expectedNames: spec.domains, now: now)
        } catch {
            // The CA issued a certificate that cannot be installed: downloading it again would not change it, so
            // this order is never continued; the next attempt opens a new one.
            lifecycle.record(.abandoned)
            throw IssueError.verificationFailed(certificate: spec.name, reason: "\(error)")
        }
        var issued = IssuedCertificate(
            keyPEM: certificateKey.pemRepresentation, fullchainPEM: try chain.pemRepresentation(),
            certPEM: try CertificateChain(certificates: [chain.leaf]).pemRepresentation(),
            chainPEM: chain.intermediates.isEmpty
                ? "" : try CertificateChain(certificates: chain.intermediates).pemRepresentation(),
            info: try CertificateInfo(certificate: chain.leaf), ariCertID: try? ARICertID.make(for: chain.leaf),
            chainRoot: UntrustedText.sanitized(chain.rootIssuerName, maxBytes: 128))
        timings.add(.download, ContinuousClock.now - downloadStarted)
        issued.timings = timings
        return issued
    }

    /// The chain to install: the CA's default, or with `preferred_chain` the offered chain (default, then each
    /// `Link: rel="alternate"` in order) whose topmost certificate was issued by that root, else the first in which
    /// any certificate was (as certbot, then lego, match); the default when none does (logged). An alternate that
    /// cannot be downloaded or read is skipped with a log line: the certificate is issued, whichever chain it gets.
    func preferredChain(
        spec: CertificateSpec, default download: (pem: String, alternates: [String]), client: ACMEClient,
        account: AccountHandle
    ) async throws -> String {
        guard let wanted = spec.preferredChain else { return download.pem }
        let metadata: Logger.Metadata = [LogKey.cert: .string(spec.name)]
        var chains: [(pem: String, chain: CertificateChain)] = []
        if let chain = try? CertificateChain(pem: download.pem) { chains.append((download.pem, chain)) }
        if chains.first?.chain.rootIssuerName != wanted {
            for url in download.alternates {
                do {
                    let alternate = try await client.downloadCertificate(
                        url: url, accountURL: account.url, key: account.key)
                    chains.append((alternate.pem, try CertificateChain(pem: alternate.pem)))
                    if chains.last?.chain.rootIssuerName == wanted { break }
                } catch {
                    logger.warning(
                        "skipping the alternate chain at \(url): \(error)", metadata: metadata)
                }
            }
        }
        let chosen = Self.chooseChain(wanted, among: chains.map(\.chain)).map { chains[$0] }
        let offered = chains.map { UntrustedText.sanitized($0.chain.rootIssuerName, maxBytes: 128) }
        guard let chosen else {
            logger.notice(
                "no chain the CA offers leads to \"\(wanted)\" (preferred_chain); installing the default chain (offered: \(offered.joined(separator: ", ")))",
                metadata: metadata)
            return download.pem
        }
        if chosen.pem != download.pem {
            logger.info(
                "installing the alternate chain to \(UntrustedText.sanitized(chosen.chain.rootIssuerName, maxBytes: 128)) (preferred_chain = \"\(wanted)\")",
                metadata: metadata)
        }
        return chosen.pem
    }

    /// The index of the chain to install for `preferred_chain = wanted`: the first whose topmost certificate was
    /// issued by `wanted` (certbot's rule), else the first in which any certificate was (lego's), else nil. So a
    /// default chain that only passes through "ISRG Root X1" (cross-signed by another root) loses to the alternate
    /// that ends there.
    package static func chooseChain(_ wanted: String, among chains: [CertificateChain]) -> Int? {
        chains.firstIndex { $0.rootIssuerName == wanted } ?? chains.firstIndex { $0.leads(to: wanted) }
    }

    /// How often a finalize or challenge answer lost to a transient fault is looked after and sent again within one
    /// attempt (each send has the client's own request budget; a drop ends a send at once).
    package static let resendRounds = 3

    /// Finalizes `order`. A failed finalize is followed by a look at the order before anything is sent again: a
    /// lost reply may hide a finalize the CA carried out (poll it), a CA that had not yet seen the last
    /// authorization answers orderNotReady (wait until the order is ready, then finalize once more), and a finalize
    /// that never arrived is sent again (up to ``resendRounds`` times).
    private func finalize(
        _ order: Order, url: String, csr: [UInt8], account: AccountHandle, client: ACMEClient,
        metadata: Logger.Metadata
    ) async throws -> Order {
        var lastError: any Error
        do {
            return try await client.finalize(
                finalizeURL: order.finalize, accountURL: account.url, key: account.key, csrDER: csr)
        } catch {
            lastError = error
        }
        for _ in 0..<Self.resendRounds {
            try Task.checkCancellation()
            guard let known = try? await client.fetchOrder(url: url, accountURL: account.url, key: account.key)
            else { throw lastError }
            switch known.status {
            case .processing, .valid:
                logger.info(
                    "finalize failed (\(lastError)), but order \(url) is already \(known.status); polling it",
                    metadata: metadata)
                return known
            case .ready where FailureClassifier.attempt(lastError) == .retryAttemptSoon:
                // A transient fault, and the CA did not act on it: send it again.
                logger.info(
                    "finalize failed (\(lastError)); order \(url) is still ready, finalizing again", metadata: metadata)
                do {
                    return try await client.finalize(
                        finalizeURL: known.finalize, accountURL: account.url, key: account.key, csrDER: csr)
                } catch {
                    lastError = error
                }
            case .pending where (lastError as? ACMEProblem)?.type == .orderNotReady:
                let ready = try await client.pollOrder(
                    url: url, accountURL: account.url, key: account.key, until: [.ready, .processing, .valid],
                    timeout: pollTimeout, waitFirst: true)
                guard ready.status == .ready else { return ready }
                do {
                    return try await client.finalize(
                        finalizeURL: ready.finalize, accountURL: account.url, key: account.key, csrDER: csr)
                } catch {
                    lastError = error
                }
            default:
                throw lastError
            }
        }
        throw lastError
    }

    private func pendingKey(spec: CertificateSpec, reuseKeyPEM: String?) async throws -> SigningKey {
        if let pem = try await stateStore.pendingKey(name: spec.name),
            let key = try? SigningKey(pemRepresentation: pem),
            key.keyType == spec.keyType
        {
            return key
        }
        let key: SigningKey
        if spec.reuseKey, let reuseKeyPEM, let reused = try? SigningKey(pemRepresentation: reuseKeyPEM),
            reused.keyType == spec.keyType
        {
            key = reused
        } else {
            key = try SigningKey.generate(spec.keyType)
        }
        try await stateStore.savePendingKey(name: spec.name, pem: key.pemRepresentation)
        return key
    }

    private func solveAuthorizations(
        _ order: Order, spec: CertificateSpec, requested: RequestedNames, account: AccountHandle, client: ACMEClient,
        timings: inout OrderTimings, metadata: Logger.Metadata
    ) async throws {
        // Every authorization is fetched and matched to a requested name before any solver runs.
        var authorizations: [(url: String, authorization: Authorization, name: String)] = []
        for authorizationURL in order.authorizations {
            let authorization = try await timings.measure(.authorizations) {
                try await client.fetchAuthorization(url: authorizationURL, accountURL: account.url, key: account.key)
            }
            let name = try requested.name(for: authorization, url: authorizationURL)
            authorizations.append((authorizationURL, authorization, name))
        }
        for (authorizationURL, authorization, configuredName) in authorizations {
            guard authorization.status == .pending else {
                if authorization.status == .valid { continue }
                throw IssueError.authorizationFailed(
                    domain: configuredName, challenge: "authorization",
                    problem: authorization.challenges.compactMap(\.error).first)
            }
            // The spec's own spelling, never the CA's: `*.example.com` is solved at `example.com`.
            let wildcard = configuredName.hasPrefix("*.")
            let domain = wildcard ? String(configuredName.dropFirst(2)) : configuredName
            let solverSpec = spec.challenge.solver(for: configuredName)
            guard let challenge = authorization.challenges.first(where: { $0.type == solverSpec.challengeType }),
                let token = challenge.token, TokenValidation.isBase64URLToken(token)
            else {
                throw IssueError.noSolver(
                    domain: configuredName, offered: authorization.challenges.map(\.type),
                    wanted: solverSpec.challengeType)
            }
            let task = ChallengeTask(
                domain: domain, wildcard: wildcard, type: challenge.type, token: token,
                keyAuthorization: KeyAuthorization.make(token: token, jwk: account.key.publicJWK))
            let solver = try await solvers.solver(for: solverSpec)
            var settled: Authorization?
            do {
                try await timings.measure(.challenges) {
                    try await solver.present(task)
                    try await solver.waitUntilVisible(task)
                }
                settled = try await timings.measure(.validation) {
                    try await respond(
                        to: challenge, authorizationURL: authorizationURL, account: account, client: client)
                    return try await client.pollAuthorization(
                        url: authorizationURL, accountURL: account.url, key: account.key, timeout: pollTimeout,
                        waitFirst: true)
                }
            } catch {
                await cleanUp(solver, task, metadata: metadata)
                throw error
            }
            // As soon as the authorization is settled, remove exactly what was added.
            await cleanUp(solver, task, metadata: metadata)
            if settled?.status != .valid {
                let problem = settled?.challenges.first(where: { $0.type == challenge.type })?.error
                throw IssueError.authorizationFailed(
                    domain: configuredName, challenge: challenge.type, problem: problem)
            }
        }
    }

    /// Answers a challenge. When the answer fails, the authorization is looked at before anything is sent again: a
    /// lost reply may hide an answer the CA received (the challenge is then processing or valid), and the caller
    /// polls the authorization as if the answer had arrived; an answer that never arrived is sent again (up to
    /// ``resendRounds`` times).
    private func respond(
        to challenge: Challenge, authorizationURL: String, account: AccountHandle, client: ACMEClient
    ) async throws {
        var lastError: any Error
        do {
            try await client.respond(toChallenge: challenge.url, accountURL: account.url, key: account.key)
            return
        } catch {
            lastError = error
        }
        let metadata: Logger.Metadata = [LogKey.orderURL: .string(authorizationURL)]
        for _ in 0..<Self.resendRounds {
            try Task.checkCancellation()
            guard
                let known = try? await client.fetchAuthorization(
                    url: authorizationURL, accountURL: account.url, key: account.key)
            else { throw lastError }
            if known.status != .pending
                || known.challenges.contains(where: { $0.url == challenge.url && $0.status != .pending })
            {
                logger.info(
                    "answering \(challenge.url) failed (\(lastError)), but the CA has it (\(known.status)); polling",
                    metadata: metadata)
                return
            }
            guard FailureClassifier.attempt(lastError) == .retryAttemptSoon else { throw lastError }
            // Still pending: the answer never arrived; send it again.
            logger.info(
                "answering \(challenge.url) failed (\(lastError)); the authorization is still pending, answering again",
                metadata: metadata)
            do {
                try await client.respond(toChallenge: challenge.url, accountURL: account.url, key: account.key)
                return
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private func cleanUp(_ solver: any ChallengeSolver, _ task: ChallengeTask, metadata: Logger.Metadata) async {
        do {
            try await solver.cleanUp(task)
        } catch {
            logger.warning("cleaning up \(task.type) for \(task.domain) failed: \(error)", metadata: metadata)
        }
    }
}
