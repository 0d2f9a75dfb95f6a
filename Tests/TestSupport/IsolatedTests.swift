import Foundation

/// Suites that change process-wide state (the umask, signal masks and dispositions, the environment) or block the
/// whole cooperative pool would upset the suites running beside them in the same process. Their names end in
/// `IsolatedTests` and they run only in a `swift test` of their own, one test at a time: scripts/test.sh runs
/// `CERTKEEPER_ISOLATED_TESTS=1 swift test --no-parallel --filter IsolatedTests` after the main run. Elsewhere they
/// are skipped (`.enabled(if: IsolatedTests.enabled, Comment(rawValue: IsolatedTests.reason))`).
package enum IsolatedTests {
    /// Whether this `swift test` run is the isolated one.
    package static let enabled = ProcessInfo.processInfo.environment["CERTKEEPER_ISOLATED_TESTS"] == "1"
    /// Why the suite is skipped in other runs.
    package static let reason = "changes process-wide state: runs alone (CERTKEEPER_ISOLATED_TESTS=1, scripts/test.sh)"
}
