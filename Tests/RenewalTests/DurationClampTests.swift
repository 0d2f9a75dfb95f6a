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

    @Test func sleepingUntilAnAbsurdDateDoesNotTrap() async throws {
        // Cancelled before or after it starts: either way the date is converted to a sleep first.
        let sleeper = Task { try await SystemClock().sleep(until: Date(timeIntervalSinceReferenceDate: 1e300)) }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }
}
