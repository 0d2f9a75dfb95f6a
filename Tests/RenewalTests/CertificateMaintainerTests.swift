import ACMEClient
import ACMECrypto
import CertStore
import CertkeeperConfig
import Foundation
import Renewal
import TestSupport
import Testing

/// The real ``CertificateMaintainer`` against a scripted CA, driven by a ``ManualClock``: no sleeping, no sockets.
@Suite struct CertificateMaintainerTests {
    let day: TimeInterval = 86_400

    @Test func adoptedCertificateIsRenewedAtItsRenewalTimeAndNotBefore() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        let start = h.clock.now()
        let existing = try h.installExisting(for: spec, notBefore: start.addingTimeInterval(-day), lifetime: 90 * day)
        #expect(await h.maintainer.firstDue(spec) == start)

        let renewAt = await h.maintainer.process(spec, force: false)
        // Two thirds of the lifetime, moved earlier by at most the jitter (1/20 of the lifetime, capped at a day).
        let twoThirds = existing.info.notBefore.addingTimeInterval(60 * day)
        #expect(renewAt <= twoThirds && renewAt >= twoThirds.addingTimeInterval(-day))
        #expect(h.server.newOrders.isEmpty)
        #expect(h.logs.contains("adopted the installed certificate"))
        #expect(await h.state(spec)?.issuer?.directoryURL == FakeACMEServer.directoryURL)
        // The chosen time is persisted: the scheduler's first look after a restart uses it, without re-rolling.
        #expect(await h.maintainer.firstDue(spec) == renewAt)
        h.clock.advance(to: renewAt.addingTimeInterval(-1))
        #expect(await h.maintainer.process(spec, force: false) == renewAt)
        #expect(h.server.newOrders.isEmpty)

        h.clock.advance(to: renewAt)
        let next = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.count == 1)
        #expect(h.logs.contains("ordering: inside the renewal window"))
        let renewed = try #require(h.installed(spec))
        #expect(renewed.info.serialHex != existing.info.serialHex)
        #expect(abs(renewed.info.notBefore.timeIntervalSince(renewAt)) < 1)
        // The next renewal is two thirds into the new certificate's life.
        let nextTwoThirds = renewed.info.notBefore.addingTimeInterval(60 * day)
        #expect(next <= nextTwoThirds && next >= nextTwoThirds.addingTimeInterval(-day))
        #expect(await h.state(spec)?.failureCount == 0)
    }

    @Test func everyRenewalGetsAFreshKeyByDefault() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        #expect(!spec.reuseKey)
        _ = await h.maintainer.process(spec, force: false)
        let first = try #require(h.installed(spec))
        _ = await h.maintainer.process(spec, force: true)
        let second = try #require(h.installed(spec))
        _ = await h.maintainer.process(spec, force: true)
        let third = try #require(h.installed(spec))
        #expect(Set([first.keyPEM, second.keyPEM, third.keyPEM]).count == 3)
        #expect(Set([first.info.serialHex, second.info.serialHex, third.info.serialHex]).count == 3)
        #expect(third.keyMatches)
    }

    @Test func reuseKeyTakesOnlyTheInstalledCertificatesOwnKey() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec(reuseKey: true)
        let existing = try h.installExisting(
            for: spec, notBefore: h.clock.now().addingTimeInterval(-day), lifetime: 90 * day)
        _ = await h.maintainer.process(spec, force: true)
        let renewed = try #require(h.installed(spec))
        #expect(renewed.info.serialHex != existing.info.serialHex)
        #expect(renewed.keyPEM == existing.keyPEM)

        // Another key at the install path (swapped in by whoever controls the directory): never adopted.
        let foreign = try SigningKey.generate(.ecdsaP256).pemRepresentation
        try foreign.write(toFile: h.stateDirectory + "/live/www/privkey.pem", atomically: false, encoding: .utf8)
        #expect(h.installed(spec)?.keyMatches == false)
        _ = await h.maintainer.process(spec, force: true)
        let after = try #require(h.installed(spec))
        #expect(after.keyMatches)
        #expect(after.keyPEM != foreign)
        #expect(after.keyPEM != existing.keyPEM)
        #expect(h.server.newOrders.count == 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func anAttemptThatHangsIsCancelledAtItsDeadlineAndCountedAsAFailure() async throws {
        let h = try MaintainerHarness()
        let marker = h.stateDirectory + "/on-failure-ran"
        var spec = h.spec()
        spec.hooks.onFailure = [["/usr/bin/touch", marker]]
        h.server.hangNewOrders()
        let start = h.clock.now()
        let attempted = spec
        let job = Task { await h.maintainer.process(attempted, force: true) }
        await h.clock.waitForSleeper(until: start.addingTimeInterval(1800))
        // The deadline is set; time moves only once newOrder is on the wire (and hangs there).
        await h.server.newOrderHanging.wait()
        #expect(h.server.newOrders.count == 1)
        h.clock.advance(to: start.addingTimeInterval(1800))
        // Bounded by the time limit: cancelling the test cancels the attempt, which then shows no failure.
        let next = await withTaskCancellationHandler {
            await job.value
        } onCancel: {
            job.cancel()
        }

        #expect(h.server.newOrders.count == 1)
        let state = try #require(await h.state(spec))
        #expect(state.failureCount == 1)
        #expect(state.backoff?.lastError.contains("did not finish within 1800s and was cancelled") == true)
        let retry = try #require(state.backoff?.retryAt)
        #expect(next == retry && retry > h.clock.now())
        #expect(FileManager.default.fileExists(atPath: marker))
        #expect(h.installed(spec) == nil)
    }

    @Test func shortLivedCertificateRenewsAtHalfLife() async throws {
        let lifetime = 6 * day
        let h = try MaintainerHarness(lifetime: lifetime)
        let spec = h.spec()
        let start = h.clock.now()
        try h.installExisting(for: spec, notBefore: start, lifetime: lifetime)
        let renewAt = await h.maintainer.process(spec, force: false)
        let half = start.addingTimeInterval(3 * day)
        #expect(renewAt <= half && renewAt >= half.addingTimeInterval(-lifetime / 20))
        #expect(h.server.newOrders.isEmpty)

        h.clock.advance(to: renewAt)
        let next = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.count == 1)
        let nextHalf = renewAt.addingTimeInterval(3 * day)
        #expect(next <= nextHalf && next >= nextHalf.addingTimeInterval(-lifetime / 20))
    }

    /// An order the CA creates ready (its authorizations valid already, as Pebble answers 1 % of the time) still
    /// reports its authorizations valid to `renew --wait`.
    @Test func anOrderReadyAtCreationReportsItsAuthorizationsValid() async throws {
        let h = try MaintainerHarness()  // the fake CA creates orders ready unless authorizations are scripted
        let spec = h.spec()
        let board = AttemptProgressBoard()
        var maintainer = h.maintainer
        maintainer.issuer.progress = board
        maintainer.progress = board
        let (events, stop) = board.watch(spec.name)
        _ = await maintainer.process(spec, force: false)
        stop()
        var lines: [String] = []
        for await event in events { lines.append(event.line) }
        // The fake lists no authorization URLs in an order it creates ready.
        #expect(lines.contains("authorizations valid (0)"), "\(lines)")
        #expect(lines.contains("order finalized, certificate issued"), "\(lines)")
    }

    /// A failure's back-off counts from when the attempt failed, not from when it started: an attempt that spent
    /// longer than its back-off failing is not due again at once.
    @Test func theBackOffCountsFromTheFailure() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        let start = h.clock.now()
        let failedAt = start.addingTimeInterval(600)
        let clock = h.clock
        h.server.scriptNewOrder { _ in
            clock.advance(to: failedAt)  // ten minutes on the wire before the CA refuses
            return FakeACMEServer.problem(400, "rejectedIdentifier", "no such name")
        }
        let next = await h.maintainer.process(spec, force: false)
        let state = try #require(await h.state(spec))
        #expect(state.failureCount == 1)
        #expect(state.backoff?.lastFailure == failedAt)
        #expect(state.backoff?.retryAt == next)
        #expect(next > failedAt, "retry at \(next), failed at \(failedAt)")
    }

    @Test func refusalsBackOffExponentiallyWithJitterAndCapAtADay() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        h.server.scriptNewOrder { _ in FakeACMEServer.problem(400, "rejectedIdentifier", "database on fire") }
        var delays: [TimeInterval] = []
        for attempt in 1...9 {
            let now = h.clock.now()
            let next = await h.maintainer.process(spec, force: false)
            delays.append(next.timeIntervalSince(now))
            let state = try #require(await h.state(spec))
            #expect(state.failureCount == attempt)
            #expect(state.backoff?.retryAt == next)
            #expect(state.backoff?.lastErrorType == "urn:ietf:params:acme:error:rejectedIdentifier")
            #expect(state.backoff?.lastError.contains("database on fire") == true)
            // Nothing is tried before the backoff ends.
            let orders = h.server.newOrders.count
            h.clock.advance(to: next.addingTimeInterval(-1))
            #expect(await h.maintainer.process(spec, force: false) == next)
            #expect(h.server.newOrders.count == orders)
            h.clock.advance(to: next)
        }
        #expect(delays[0] >= 48 && delays[0] <= 72)
        for index in 1..<5 {
            let base = 60 * pow(4, Double(index))
            #expect(delays[index] >= base * 0.8 && delays[index] <= base * 1.2)
        }
        #expect(delays.allSatisfy { $0 <= 86_400 })
        #expect(delays.suffix(2).allSatisfy { $0 >= 86_400 * 0.8 })
        // Jitter: the delays are not exact powers of four times a minute.
        #expect(delays.prefix(5).enumerated().contains { $0.element != 60 * pow(4, Double($0.offset)) })
        #expect(h.logs.contains("renewal failed (attempt 9"))
    }

    /// dns-01 through `/bin/true`, no propagation check: the fake CA validates whatever is answered.
    static let answeredByTrue = ChallengeSpec(
        defaultSolver: .dns01Exec(command: ["/bin/true"], PropagationSettings(servers: [], timeoutSeconds: 0)))

    @Test func transientFaultsRetrySoonWithJitterAndCapAtAnHour() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        h.server.scriptNewOrder { _ in FakeACMEServer.problem(500, "serverInternal", "database on fire") }
        var delays: [TimeInterval] = []
        for attempt in 1...12 {
            let now = h.clock.now()
            let next = await h.maintainer.process(spec, force: false)
            delays.append(next.timeIntervalSince(now))
            #expect(await h.state(spec)?.failureCount == attempt)
            h.clock.advance(to: next)
        }
        // 10 s doubling, ±20 %; an hour at most.
        for index in 0..<8 {
            let base = 10 * pow(2, Double(index))
            #expect(delays[index] >= base * 0.8 && delays[index] <= base * 1.2, "delay \(index): \(delays[index])")
        }
        #expect(delays.allSatisfy { $0 <= 3600 })
        #expect(delays.suffix(2).allSatisfy { $0 >= 3600 * 0.8 })
        // Inside one attempt every newOrder was retried by the client first (1 + 6 sends).
        #expect(h.server.newOrders.count == 12 * 7)
        #expect(h.logs.contains("transient fault"))
    }

    @Test func anAttemptEndedByATransientFaultContinuesTheSameOrder() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec(challenge: Self.answeredByTrue)
        h.server.scriptAuthorizations()
        // finalize fails past the request budget (1 + 6 sends), and again each time it is sent again after a look
        // at the order: the attempt ends, soon retried.
        h.server.injectFault(
            "/finalize/", count: (1 + OrderIssuer.resendRounds) * (1 + FailureClassifier.maxTransientRetries),
            .respond(FakeACMEServer.problem(503, "serverInternal", "maintenance")))
        let start = h.clock.now()
        let next = await h.maintainer.process(spec, force: false)
        #expect(next.timeIntervalSince(start) >= 8 && next.timeIntervalSince(start) <= 12)
        #expect(h.installed(spec) == nil)
        #expect(await h.state(spec)?.order?.url != nil)

        h.clock.advance(to: next)
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.installed(spec) != nil)
        #expect(h.server.newOrders.count == 1)
        #expect(h.server.answeredChallenges.count == 1)
        #expect(await h.state(spec)?.failureCount == 0)
    }

    @Test func lostRepliesOfFinalizeAndChallengeAreFollowedByALookNotAResend() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec(challenge: Self.answeredByTrue)
        h.server.scriptAuthorizations()
        // The CA carries both out and the replies are lost: the issuer looks at the authorization and the order
        // instead of sending either again, failing, or opening another order.
        h.server.injectFault("/chall/", count: 1, .dropAfter)
        h.server.injectFault("/finalize/", count: 1, .dropAfter)
        _ = await h.maintainer.process(spec, force: false)
        let lastError = await h.state(spec)?.backoff?.lastError
        #expect(h.installed(spec) != nil, "\(lastError ?? "")")
        #expect(h.server.newOrders.count == 1)
        #expect(h.server.answeredChallenges.count == 1)
        #expect(h.server.count("/finalize/") == 1)
        #expect(await h.state(spec)?.failureCount == 0)
    }

    @Test func requestsLostBeforeTheCAGotThemAreSentOnceMoreAfterTheLook() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec(challenge: Self.answeredByTrue)
        h.server.scriptAuthorizations()
        // Lost three times in a row: each time the look shows the CA never got it, so it is sent again.
        h.server.injectFault("/chall/", count: 3, .dropBefore)
        h.server.injectFault("/finalize/", count: 3, .dropBefore)
        _ = await h.maintainer.process(spec, force: false)
        let lastError = await h.state(spec)?.backoff?.lastError
        #expect(h.installed(spec) != nil, "\(lastError ?? "")")
        #expect(h.server.newOrders.count == 1)
        #expect(h.server.answeredChallenges.count == 4)
        #expect(h.server.count("/finalize/") == 4)
        #expect(await h.state(spec)?.failureCount == 0)
    }

    @Test func aSingleNameCertificateCostsTheACMEMinimumOfRequests() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec(challenge: Self.answeredByTrue)
        h.server.scriptAuthorizations()
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.installed(spec) != nil)
        // newOrder, authorization, challenge, one authorization poll, finalize (valid at once here), download.
        let acme = h.server.requests.filter { $0.method == "POST" && !$0.url.hasSuffix("/new-acct") }
        #expect(
            acme.map { String($0.url.dropFirst(FakeACMEServer.base.count).prefix(6)) }.sorted() == [
                "/authz", "/authz", "/cert/", "/chall", "/final", "/new-o",
            ])
    }

    @Test(arguments: FakeACMEServer.ChainTampering.allCases)
    func aChainThatDoesNotVerifyIsNeverInstalled(_ tampering: FakeACMEServer.ChainTampering) async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        h.server.tamperChains(tampering)
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.installed(spec) == nil)
        #expect(!FileManager.default.fileExists(atPath: h.stateDirectory + "/live/" + spec.name))
        let state = try #require(await h.state(spec))
        #expect(state.failureCount == 1)
        #expect(state.backoff?.lastError.contains("was not installed") == true, "\(state.backoff?.lastError ?? "")")

        // The same CA, honest again: the next attempt installs.
        h.server.tamperChains(nil)
        _ = await h.maintainer.process(spec, force: true)
        #expect(h.installed(spec) != nil)
    }

    @Test func aCertificateParkedUntilAReloadIsTriedAgainAfterARestart() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        h.server.scriptNewOrder { _ in FakeACMEServer.problem(403, "userActionRequired", "accept the new terms") }
        #expect(await h.maintainer.process(spec, force: false) == .distantFuture)
        #expect(await h.maintainer.firstDue(spec) == h.clock.now())  // a reload re-plans with firstDue
        // The operator fixes it (here: the CA stops refusing) and restarts: planned at once, and issued.
        h.server.scriptNewOrder(nil)
        h.restart()
        #expect(await h.maintainer.firstDue(spec) == h.clock.now())
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.installed(spec) != nil)
    }

    @Test func anOutageDoesNotMakeTheNextRefusalWaitADay() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        // Six transient failures in a row (a CA outage of about ten minutes)...
        h.server.scriptNewOrder { _ in FakeACMEServer.problem(500, "serverInternal", "outage") }
        for _ in 1...6 {
            let next = await h.maintainer.process(spec, force: false)
            h.clock.advance(to: next)
        }
        // ...then the first refusal: the long ladder starts at its first rung (a minute), not at its seventh.
        h.server.scriptNewOrder { _ in FakeACMEServer.problem(400, "rejectedIdentifier", "not today") }
        let now = h.clock.now()
        let next = await h.maintainer.process(spec, force: false)
        #expect(next.timeIntervalSince(now) >= 48 && next.timeIntervalSince(now) <= 72)
        let state = try #require(await h.state(spec))
        #expect(state.failureCount == 7 && state.backoff?.transientFailures == 6)
    }

    @Test func aTransientFaultOnTheLookAtAKnownOrderNeverOpensASecondOrder() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec(challenge: Self.answeredByTrue)
        h.server.scriptAuthorizations()
        // Attempt 1 ends with the order ready but not finalized.
        let budget = 1 + FailureClassifier.maxTransientRetries
        h.server.injectFault(
            "/finalize/", count: (1 + OrderIssuer.resendRounds) * budget,
            .respond(FakeACMEServer.problem(503, "serverInternal", "maintenance")))
        h.clock.advance(to: await h.maintainer.process(spec, force: false))
        #expect(await h.state(spec)?.order?.url != nil)
        // Attempt 2: the look at the known order fails past its budget; that is no reason for a new order.
        h.server.injectFault(
            "/order/", count: budget, .respond(FakeACMEServer.problem(500, "serverInternal", "database")))
        h.clock.advance(to: await h.maintainer.process(spec, force: false))
        #expect(h.server.newOrders.count == 1)
        #expect(h.installed(spec) == nil)
        // Attempt 3 continues it.
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.installed(spec) != nil)
        #expect(h.server.newOrders.count == 1)
    }

    @Test func retryAfterFromTheCAIsHonoured() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        h.server.scriptNewOrder { _ in
            FakeACMEServer.problem(
                429, "rateLimited", "too many certificates, retry after 2h", headers: [("Retry-After", "7200")])
        }
        let now = h.clock.now()
        let next = await h.maintainer.process(spec, force: false)
        #expect(next == now.addingTimeInterval(7200))
        #expect(h.server.newOrders.count == 1)
        #expect(await h.state(spec)?.backoff?.lastErrorType == "urn:ietf:params:acme:error:rateLimited")
    }

    @Test func backoffSurvivesARestartAndForceOverridesIt() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        h.server.scriptNewOrder { _ in FakeACMEServer.problem(400, "rejectedIdentifier", "not today") }
        _ = await h.maintainer.process(spec, force: false)
        h.clock.advance(to: try #require(await h.state(spec)?.backoff?.retryAt))
        let next = await h.maintainer.process(spec, force: false)
        #expect(await h.state(spec)?.failureCount == 2)
        #expect(next.timeIntervalSince(h.clock.now()) >= 4 * 48)
        #expect(h.server.newOrders.count == 2)

        // Restart (crash loop under Restart=): a new maintainer over the same state waits for the backoff.
        h.restart()
        h.server.scriptNewOrder(nil)
        #expect(await h.maintainer.firstDue(spec) == next)
        h.clock.advance(by: 60)
        #expect(await h.maintainer.process(spec, force: false) == next)
        #expect(h.server.newOrders.count == 2)
        // `certkeeper renew NAME --force` does not wait.
        _ = await h.maintainer.process(spec, force: true)
        #expect(h.server.newOrders.count == 3)
        #expect(h.installed(spec) != nil)
        let state = try #require(await h.state(spec))
        #expect(state.failureCount == 0 && state.backoff?.retryAt == nil && state.backoff?.lastError == nil)
    }

    @Test func ariWindowChoosesTheTimeAndRetryAfterDrivesTheNextCheck() async throws {
        let h = try MaintainerHarness(offersARI: true)
        let spec = h.spec()
        let start = h.clock.now()
        let existing = try h.installExisting(
            for: spec, notBefore: start.addingTimeInterval(-10 * day), lifetime: 90 * day)
        let certID = try #require(existing.ariCertID)
        let window = (start: start.addingTimeInterval(20 * day), end: start.addingTimeInterval(22 * day))
        h.server.answerARI { id in
            id == certID ? .init(start: window.start, end: window.end, retryAfter: 3600) : nil
        }
        let next = await h.maintainer.process(spec, force: false)
        // The next look is ARI's Retry-After, well before the renewal time chosen inside the window.
        #expect(next == start.addingTimeInterval(3600))
        let state = try #require(await h.state(spec))
        let chosen = try #require(state.schedule?.renewAt)
        #expect(chosen >= window.start && chosen <= window.end)
        #expect(state.ari?.windowStart == window.start && state.ari?.windowEnd == window.end)
        #expect(h.server.count("/ari/") == 1)

        // The next look (also after a restart) is at Retry-After, and only then is ARI asked again.
        #expect(await h.maintainer.firstDue(spec) == next)
        #expect(h.server.count("/ari/") == 1)
        h.clock.advance(to: next)
        #expect(await h.maintainer.process(spec, force: false) == next.addingTimeInterval(3600))
        #expect(h.server.count("/ari/") == 2)
        #expect(await h.state(spec)?.schedule?.renewAt == chosen)
        #expect(h.server.newOrders.isEmpty)

        // The CA moves the window into the past (e.g. a revocation is coming): renew now, replacing the old one.
        let now = h.clock.now()
        h.server.answerARI { id in
            id == certID
                ? .init(start: now.addingTimeInterval(-7200), end: now.addingTimeInterval(-3600), retryAfter: 3600)
                : nil
        }
        h.clock.advance(by: 3600)
        _ = await h.maintainer.process(spec, force: false)
        let order = try #require(h.server.newOrders.first)
        #expect(order.payload["replaces"] as? String == certID)
        #expect(h.installed(spec)?.info.serialHex != existing.info.serialHex)
    }

    @Test func anUnreadableStateFileIsReportedAndNeverOverwritten() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        var maintainer = h.maintainer
        maintainer.stateStore = UnreadableStateStore()
        let start = h.clock.now()
        #expect(await maintainer.process(spec, force: true) == start.addingTimeInterval(3600))
        #expect(h.server.newOrders.isEmpty)
        #expect(h.logs.contains("cannot read this certificate's state"))
        #expect(h.logs.contains("upgrade certkeeper"))
    }

    @Test func aFirstIssueAsksARIAtOnceAndItsRetryAfterDrivesTheNextCheck() async throws {
        let h = try MaintainerHarness(offersARI: true)
        let spec = h.spec()
        let start = h.clock.now()
        h.server.answerARI { _ in
            .init(start: start.addingTimeInterval(50 * day), end: start.addingTimeInterval(51 * day), retryAfter: 7200)
        }
        let next = await h.maintainer.process(spec, force: false)
        #expect(h.installed(spec) != nil)
        #expect(h.server.count("/ari/") == 1)
        #expect(next == start.addingTimeInterval(7200))
        let chosen = try #require(await h.state(spec)?.schedule?.renewAt)
        #expect(chosen >= start.addingTimeInterval(50 * day) && chosen <= start.addingTimeInterval(51 * day))
    }

    @Test func alreadyReplacedRetriesWithoutReplaces() async throws {
        let h = try MaintainerHarness(offersARI: true)
        let spec = h.spec()
        let start = h.clock.now()
        let existing = try h.installExisting(for: spec, notBefore: start.addingTimeInterval(-day), lifetime: 90 * day)
        h.server.scriptNewOrder { payload in
            payload["replaces"] == nil
                ? nil : FakeACMEServer.problem(409, "alreadyReplaced", "that certificate was already replaced")
        }
        _ = await h.maintainer.process(spec, force: true)
        let orders = h.server.newOrders
        #expect(orders.count == 2)
        #expect(orders.first?.payload["replaces"] as? String == existing.ariCertID)
        #expect(orders.last?.payload["replaces"] == nil)
        #expect(h.installed(spec)?.info.serialHex != existing.info.serialHex)
        #expect(await h.state(spec)?.failureCount == 0)
    }

    @Test func namesChangedOrdersAtOnce() async throws {
        let h = try MaintainerHarness(offersARI: true)
        let spec = h.spec(domains: ["www.example.test", "api.example.test"])
        try h.installExisting(
            for: spec, domains: ["www.example.test"], notBefore: h.clock.now(), lifetime: 90 * day)
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.count == 1)
        #expect(h.logs.contains("ordering: names changed"))
        // A certificate for other names is not "replaced" in the ARI sense.
        #expect(h.server.newOrders.first?.payload["replaces"] == nil)
        #expect(Set(h.installed(spec)?.info.dnsNames ?? []) == ["www.example.test", "api.example.test"])
    }

    /// `certkeeper revoke` records the revoked serial: a certificate months from its renewal is replaced at the
    /// next look, and its replacement (another serial) is left alone.
    @Test func aRevokedCertificateIsReplacedAtTheNextLookWhateverItsExpiry() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        try h.installExisting(for: spec, notBefore: h.clock.now(), lifetime: 90 * day)
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.isEmpty)
        let revoked = try #require(h.installed(spec)?.info.serialHex)
        var state = try #require(try await h.stateStore.load(name: spec.name))
        state.revokedSerial = revoked
        try await h.stateStore.save(state)
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.count == 1)
        #expect(h.logs.contains("ordering: the installed certificate (serial \(revoked)) was revoked"))
        #expect(h.installed(spec)?.info.serialHex != revoked)
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.count == 1)
    }

    @Test func keyTypeChangedOrdersAtOnce() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec(keyType: .ecdsaP256)
        try h.installExisting(for: spec, keyType: .ecdsaP384, notBefore: h.clock.now(), lifetime: 90 * day)
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.count == 1)
        #expect(h.logs.contains("ordering: key type changed (installed: ecdsa-p384; wanted: ecdsa-p256)"))
        #expect(h.installed(spec)?.keyType == .ecdsaP256)
    }

    @Test func caChangedOrdersAtOnce() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        try h.installExisting(for: spec, notBefore: h.clock.now(), lifetime: 90 * day)
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.isEmpty)

        let moved = h.spec(directoryURL: "\(FakeACMEServer.base)/dir2")
        // The spec changed while the daemon was down: it is looked at now, not at the stored renewal time.
        #expect(await h.maintainer.firstDue(moved) == h.clock.now())
        // A reload asks for many at once: the same answers, in order (the unchanged spec keeps its stored time).
        let unchanged = await h.maintainer.firstDue(spec)
        #expect(unchanged > h.clock.now())
        let other = h.spec("other")
        #expect(await h.maintainer.firstDue([moved, spec, other]) == [h.clock.now(), unchanged, h.clock.now()])
        _ = await h.maintainer.process(moved, force: false)
        #expect(h.server.newOrders.count == 1)
        #expect(h.logs.contains("ordering: CA changed (issued by https://ca.test/dir; wanted: https://ca.test/dir2)"))
        #expect(await h.state(moved)?.issuer?.directoryURL == "\(FakeACMEServer.base)/dir2")
    }

    @Test func inFlightReadyOrderIsContinuedNotRecreated() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        let orderURL = "\(FakeACMEServer.base)/order/77"
        h.server.addOrder(url: orderURL, status: "ready", domains: spec.domains)
        try await h.stateStore.save(
            CertificateState(
                name: spec.name,
                order: PendingOrder(
                    url: orderURL, accountURL: "\(FakeACMEServer.base)/acct/1", domains: spec.domains,
                    keyType: spec.keyType)))
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.isEmpty)
        #expect(h.server.count("/finalize/77") == 1)
        #expect(h.logs.contains("continuing order \(orderURL) (ready)"))
        #expect(h.installed(spec) != nil)
        #expect(await h.state(spec)?.order?.url == nil)
    }

    @Test func inFlightValidOrderIsDownloadedWithThePendingKey() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        let orderURL = "\(FakeACMEServer.base)/order/78"
        // Finalize went through before the crash: the CA has the certificate for the stored pending key.
        let pendingKey = try SigningKey.generate(.ecdsaP256)
        try await h.stateStore.savePendingKey(name: spec.name, pem: pendingKey.pemRepresentation)
        try await h.recordFinalizedOrder(spec, url: orderURL, key: pendingKey)
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.isEmpty)
        #expect(h.server.count("/finalize/") == 0)
        #expect(h.server.count("/cert/78") == 1)
        let installed = try #require(h.installed(spec))
        #expect(installed.keyPEM == pendingKey.pemRepresentation)
        #expect(try await h.stateStore.pendingKey(name: spec.name) == nil)
    }

    @Test func profileIsSentOnlyWhenTheCAAdvertisesIt() async throws {
        let h = try MaintainerHarness(profiles: ["classic": "the default", "shortlived": "6 days"])
        let spec = h.spec(profile: "shortlived")
        _ = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.first?.payload["profile"] as? String == "shortlived")

        let plain = h.spec("plain")
        _ = await h.maintainer.process(plain, force: false)
        #expect(h.server.newOrders.last?.payload["profile"] == nil)

        let unknown = h.spec("unknown", profile: "tlsserver")
        _ = await h.maintainer.process(unknown, force: false)
        #expect(h.server.newOrders.count == 2)
        let error = try #require(await h.state(unknown)?.backoff?.lastError)
        #expect(error.contains("profile 'tlsserver' is not offered"))
        #expect(error.contains("classic, shortlived"))
        #expect(error.contains(unknown.file))
    }
}

extension CertificateMaintainerTests {
    @Test func inFlightOrderForAnotherKeyTypeIsNotContinued() async throws {
        let h = try MaintainerHarness()
        let old = h.spec()
        let orderURL = "\(FakeACMEServer.base)/order/79"
        // Finalized with a P-256 key before the spec switched to P-384.
        let pendingKey = try SigningKey.generate(.ecdsaP256)
        try await h.stateStore.savePendingKey(name: old.name, pem: pendingKey.pemRepresentation)
        try await h.recordFinalizedOrder(old, url: orderURL, key: pendingKey)
        let spec = h.spec(keyType: .ecdsaP384)
        _ = await h.maintainer.process(spec, force: false)
        #expect(await h.state(spec)?.backoff?.lastError == nil)
        #expect(h.server.newOrders.count == 1)
        #expect(h.installed(spec)?.keyType == .ecdsaP384)
    }

    @Test func validOrderWhoseKeyIsGoneIsNotContinued() async throws {
        // A crash after install, before the state was saved: the old order is still recorded, its key is gone.
        let h = try MaintainerHarness()
        let spec = h.spec()
        let orderURL = "\(FakeACMEServer.base)/order/80"
        let goneKey = try SigningKey.generate(.ecdsaP256)
        try await h.recordFinalizedOrder(spec, url: orderURL, key: goneKey)
        _ = await h.maintainer.process(spec, force: false)
        #expect(await h.state(spec)?.backoff?.lastError == nil)
        #expect(h.server.newOrders.count == 1)
        #expect(h.installed(spec) != nil)
    }
}

extension CertificateMaintainerTests {
    @Test func anAttemptInterruptedByShutdownIsNotAFailure() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        // Shutdown arrives while newOrder is on the wire: the task is cancelled and the CA connections closed under
        // it, so the request fails.
        let shutdown = TaskCanceller()
        h.server.scriptNewOrder { _ in
            shutdown.cancel()
            return FakeACMEServer.problem(503, "serverInternal", "connection closed")
        }
        let maintainer = h.maintainer
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        let attempt = Task {
            for await _ in gate { break }
            return await maintainer.process(spec, force: false)
        }
        shutdown.set(attempt)
        open.yield()
        _ = await attempt.value
        // The attempt was under way (newOrder reached the CA), and the cancellation is what ended it.
        #expect(h.server.newOrders.count == 1)
        #expect(attempt.isCancelled)
        let state = await h.state(spec)
        #expect((state?.failureCount ?? 0) == 0)
        #expect(state?.backoff?.retryAt == nil)
        #expect(!h.logs.contains("renewal failed"))
        // The next start picks it up at once.
        h.restart()
        #expect(await h.maintainer.firstDue(spec) == h.clock.now())
    }
}

/// Cancels a task from inside a fake server's handler, as a shutdown would.
private final class TaskCanceller: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<Date, Never>?
    func set(_ task: Task<Date, Never>) { lock.withLock { self.task = task } }
    func cancel() { lock.withLock { task }?.cancel() }
}

/// A state store whose files were written by a newer certkeeper: every load fails, every save is a test failure.
struct UnreadableStateStore: CertificateStateStore {
    func load(name: String) async throws -> CertificateState? {
        throw CertStoreError.corrupt(
            path: "/state/certs/\(name)/state.json",
            reason: "state format 3 is newer than this certkeeper understands (2); upgrade certkeeper")
    }
    func save(_ state: CertificateState) async throws { Issue.record("saved over an unreadable state file") }
    func saveRecomputable(_ state: CertificateState) async throws { Issue.record("saved over an unreadable state") }
    func flushRecomputable() async throws {}
    func savePendingKey(name: String, pem: String) async throws { Issue.record("saved a pending key") }
    func pendingKey(name: String) async throws -> String? { nil }
    func clearPendingKey(name: String) async throws {}
    func allNames() async throws -> [String] { [] }
    func remove(name: String) async throws { Issue.record("removed an unreadable state") }
}
