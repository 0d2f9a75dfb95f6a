import Foundation
import Renewal
import Testing

/// Converting a duration to an integer never traps, however far away the time is.
@Suite struct DurationClampTests {
    @Test func humanIntervalOfAnAbsurdDurationDoesNotTrap() {
        #expect(StatusReport.humanInterval(1e300).contains("d"))
        #expect(StatusReport.humanInterval(.infinity).contains("d"))
        #expect(StatusReport.humanInterval(90_000) == "1d 1h")
    }
}
