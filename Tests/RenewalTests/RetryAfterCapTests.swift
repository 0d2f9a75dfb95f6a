import ACMEClient
import ACMECrypto
import CertStore
import CertkeeperConfig
import Foundation
import Renewal
import Testing

/// A CA's `Retry-After` is honoured up to a day, and never past the start of the installed certificate's last tenth.
@Suite struct RetryAfterCapTests {
    let day: TimeInterval = 86_400

    static func rateLimited(_ retryAfter: String) -> HTTPResponseData {
        FakeACMEServer.problem(429, "rateLimited", "slow down", headers: [("Retry-After", retryAfter)])
    }

    @Test func anAbsurdRetryAfterPostponesTheNextAttemptByAtMostADay() async throws {
        for header in ["99999999999", "99999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"] {
            let h = try MaintainerHarness()
            let spec = h.spec()
            h.server.scriptNewOrder { _ in Self.rateLimited(header) }
            let now = h.clock.now()
            let next = await h.maintainer.process(spec, force: false)
            #expect(next == now.addingTimeInterval(day), "\(header): \(next.timeIntervalSince(now)) s")
            #expect(await h.state(spec)?.backoff?.retryAt == next)
        }
    }

    @Test func retryAfterNeverReachesTheLastTenthOfTheInstalledCertificatesLife() async throws {
        let h = try MaintainerHarness()
        let spec = h.spec()
        let now = h.clock.now()
        // 90-day certificate ending in 9.5 days: its last tenth (9 days) starts in 12 hours.
        try h.installExisting(for: spec, notBefore: now.addingTimeInterval(-80.5 * day), lifetime: 90 * day)
        h.server.scriptNewOrder { _ in Self.rateLimited("7200000") }
        let next = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.count == 1)
        #expect(next == now.addingTimeInterval(day / 2), "\(next.timeIntervalSince(now)) s")
        // Inside the last tenth the CA's Retry-After no longer postpones anything: only the backoff applies
        // (second failure: 4 min ± 20 %).
        h.clock.advance(to: next)
        let after = await h.maintainer.process(spec, force: false)
        #expect(h.server.newOrders.count == 2)
        #expect(after.timeIntervalSince(next) <= 4 * 60 * 1.2, "\(after.timeIntervalSince(next)) s")
    }
}
