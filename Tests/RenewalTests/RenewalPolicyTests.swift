import CertkeeperConfig
import Foundation
import Renewal
import TestSupport
import Testing

@Suite struct RenewalPolicyTests {
    let issued = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func ninetyDayCertificateRenewsWhenAThirdRemainsWithBoundedJitter() {
        let notAfter = issued.addingTimeInterval(90 * 86_400)
        var random = RandomSourceGenerator(SeededRandom(seed: 1))
        let windowStart = issued.addingTimeInterval(60 * 86_400)
        var times: [Date] = []
        for _ in 0..<500 {
            times.append(
                RenewalPolicy.renewalTime(
                    notBefore: issued, notAfter: notAfter, renewBefore: nil, ariWindow: nil, random: &random))
        }
        // Never after the window start, never more than 1/20 of the lifetime (capped at 1 day) before it.
        #expect(times.allSatisfy { $0 <= windowStart && $0 >= windowStart.addingTimeInterval(-86_400) })
        // Spread out: a fleet issued together does not renew together.
        #expect(Set(times.map { Int($0.timeIntervalSince1970 / 60) }).count > 100)
    }

    @Test func shortLivedCertificateRenewsAtHalfLife() {
        let notAfter = issued.addingTimeInterval(6 * 86_400)
        #expect(
            RenewalPolicy.windowStart(notBefore: issued, notAfter: notAfter, renewBefore: nil)
                == issued.addingTimeInterval(3 * 86_400))
        #expect(RenewalPolicy.jitterSpan(notBefore: issued, notAfter: notAfter) == 6 * 86_400 / 20)
    }

    @Test func renewBeforeAsDurationAndFraction() {
        let notAfter = issued.addingTimeInterval(90 * 86_400)
        #expect(
            RenewalPolicy.windowStart(notBefore: issued, notAfter: notAfter, renewBefore: .seconds(30 * 86_400))
                == issued.addingTimeInterval(60 * 86_400))
        #expect(
            RenewalPolicy.windowStart(notBefore: issued, notAfter: notAfter, renewBefore: .fraction(0.5))
                == issued.addingTimeInterval(45 * 86_400))
    }

    @Test func renewBeforeLongerThanTheLifetimeDoesNotRenewAtOnce() {
        // "30d" on a 6-day certificate: without a floor every new certificate would be due immediately.
        let notAfter = issued.addingTimeInterval(6 * 86_400)
        let start = RenewalPolicy.windowStart(notBefore: issued, notAfter: notAfter, renewBefore: .seconds(30 * 86_400))
        #expect(start == issued.addingTimeInterval(0.6 * 86_400))
    }

    @Test func ariWindowWinsAndInvalidWindowIsIgnored() {
        let notAfter = issued.addingTimeInterval(90 * 86_400)
        var random = RandomSourceGenerator(SeededRandom(seed: 7))
        let window = RenewalPolicy.Window(
            start: issued.addingTimeInterval(10 * 86_400), end: issued.addingTimeInterval(11 * 86_400))
        for _ in 0..<200 {
            let time = RenewalPolicy.renewalTime(
                notBefore: issued, notAfter: notAfter, renewBefore: nil, ariWindow: window, random: &random)
            #expect(time >= window.start && time <= window.end)
        }
        let inverted = RenewalPolicy.Window(start: window.end, end: window.start)
        let time = RenewalPolicy.renewalTime(
            notBefore: issued, notAfter: notAfter, renewBefore: nil, ariWindow: inverted, random: &random)
        #expect(time <= issued.addingTimeInterval(60 * 86_400) && time > issued.addingTimeInterval(59 * 86_400))
    }

    @Test func backoffGrowsCapsAndHonoursRetryAfter() {
        var random = RandomSourceGenerator(SeededRandom(seed: 3))
        let delays = (1...12).map { RenewalPolicy.backoff(failureCount: $0, retryAfter: nil, random: &random) }
        #expect(delays[0] >= 48 && delays[0] <= 72)
        #expect(delays[1] >= 4 * 48 && delays[1] <= 4 * 72)
        #expect(delays.allSatisfy { $0 <= 86_400 })
        #expect(delays.last! >= 86_400 * 0.8)
        for index in 1..<6 { #expect(delays[index] > delays[index - 1]) }
        let rateLimited = RenewalPolicy.backoff(failureCount: 1, retryAfter: 3 * 3600, random: &random)
        #expect(rateLimited == 3 * 3600)
    }

    @Test func ariRecheckIsClamped() {
        #expect(RenewalPolicy.ariRecheckDelay(retryAfter: nil) == 6 * 3600)
        #expect(RenewalPolicy.ariRecheckDelay(retryAfter: 5) == 60)
        #expect(RenewalPolicy.ariRecheckDelay(retryAfter: 10 * 86_400) == 86_400)
    }
}

@Suite struct ManualClockTests {
    @Test func sleepersWakeOnlyWhenTimeReachesTheirDeadline() async {
        let start = Date(timeIntervalSince1970: 0)
        let clock = ManualClock(now: start)
        let woke = Task { () -> Date in
            try? await clock.sleep(until: start.addingTimeInterval(10))
            return clock.now()
        }
        await clock.waitForSleeper(until: start.addingTimeInterval(10))
        #expect(clock.pendingDeadlines.count == 1)
        clock.advance(by: 9)
        #expect(clock.pendingDeadlines.count == 1)
        clock.advance(by: 1)
        #expect(await woke.value == start.addingTimeInterval(10))
        #expect(clock.pendingDeadlines.isEmpty)
    }

    @Test func cancellationWakesASleeper() async {
        let clock = ManualClock(now: Date(timeIntervalSince1970: 0))
        let sleeper = Task { () -> Bool in
            do {
                try await clock.sleep(until: .distantFuture)
                return false
            } catch { return error is CancellationError }
        }
        await clock.waitForSleeper(until: .distantFuture)
        #expect(clock.pendingDeadlines.count == 1)
        sleeper.cancel()
        #expect(await sleeper.value)
    }
}
