import Foundation
import Installer
import Logging
import Testing

/// A hook timeout beyond what a timer can express is clamped, not a trap.
struct HookTimeoutClampTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    @Test func anAbsurdTimeoutDoesNotTrap() async throws {
        // Still running when the timer is armed.
        let slow = try dir.script("slow.sh", "sleep 0.3")
        let outcomes = await HookRunner().runDeployHooks(
            [[slow]], certificate: "www", domains: ["www.example.org"],
            paths: InstalledPaths(fullchain: "/f", key: "/k", cert: "/c", chain: nil), timeout: .seconds(Int64.max),
            logger: LogRecorder().logger)
        #expect(outcomes.first?.succeeded == true)
    }
}
