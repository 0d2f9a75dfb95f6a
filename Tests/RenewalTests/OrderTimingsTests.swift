import Renewal
import Testing

@Suite struct OrderTimingsTests {
    @Test func phasesAddUpAndPrintInOrderInWholeMilliseconds() async throws {
        var timings = OrderTimings()
        timings.add(.validation, .milliseconds(40))
        timings.add(.newOrder, .microseconds(12_900))
        timings.add(.validation, .milliseconds(2))
        #expect(timings.summary == "newOrder=12ms validation=42ms")
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await timings.measure(.finalize) { throw Refused() }
        }
        // A phase that threw still counts (its time went somewhere).
        #expect(timings.durations[.finalize] != nil)
        #expect(timings.summary.hasPrefix("newOrder=12ms validation=42ms finalize="))
    }
}
