import Testing

@testable import DNSWire

/// An absurd propagation timeout is clamped, never trapping when rounds are counted.
@Suite struct PropagationTimeoutClampTests {
    @Test func anAbsurdTimeoutDoesNotTrap() async throws {
        let checker = PropagationChecker(timeout: .seconds(Int64.max), interval: .milliseconds(1), sleep: { _ in })
        let checked = try await checker.waitUntilVisible(
            name: try DNSName("_acme-challenge.a.test"), txt: "v", servers: .explicit([]))
        #expect(checked.isEmpty)
    }
}
