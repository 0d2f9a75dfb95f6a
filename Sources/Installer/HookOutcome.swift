import Subprocess

/// What happened to one hook.
package struct HookOutcome: Sendable, Hashable {
    /// The argv as configured.
    package var argv: [String]
    /// The finished process, or nil when it could not be started.
    package var result: ProcessResult?
    /// Why it could not be started, when ``result`` is nil.
    package var launchError: String?

    package init(argv: [String], result: ProcessResult?, launchError: String? = nil) {
        self.argv = argv
        self.result = result
        self.launchError = launchError
    }

    /// True when the hook ran, exited 0 and did not time out.
    package var succeeded: Bool { result?.succeeded ?? false }
}
