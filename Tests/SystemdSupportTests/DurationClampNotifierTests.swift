import Testing

@testable import SystemdSupport

/// `EXTEND_TIMEOUT_USEC=` of an absurd duration is clamped, not a trap.
@Suite struct DurationClampNotifierTests {
    @Test func microsecondsOfAnAbsurdDurationSaturate() {
        #expect(SystemdNotifier.microseconds(.seconds(Int64.max)) == UInt64.max)
        #expect(SystemdNotifier.microseconds(.seconds(2)) == 2_000_000)
        #expect(SystemdNotifier.microseconds(.seconds(-5)) == 0)
    }
}
