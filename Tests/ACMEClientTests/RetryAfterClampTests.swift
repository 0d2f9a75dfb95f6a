import ACMEClient
import Foundation
import Testing

/// A `Retry-After` of any size is read as a bounded delay: never dropped, never a trap.
@Suite struct RetryAfterClampTests {
    static let century: Duration = .seconds(100 * 366 * 86_400)

    @Test func anAbsurdRetryAfterIsClampedNotDropped() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        for huge in ["99999999999", "99999999999999999", "999999999999999999999999999999"] {
            let parsed = RetryAfter.parse(huge, now: now)
            #expect(parsed != nil, "\(huge)")
            #expect(parsed.map { $0 <= Self.century } == true, "\(huge)")
        }
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        let far = RetryAfter.parse("Fri, 31 Dec 9999 23:59:59 GMT", now: now)
        #expect(far.map { $0 <= Self.century } == true)
    }
}
