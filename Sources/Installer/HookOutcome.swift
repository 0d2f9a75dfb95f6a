import Subprocess

/// What happened to one hook.
public struct HookOutcome: Sendable, Hashable {
    /// The argv as configured.
    public var argv: [String]
    /// The finished process, or nil when it could not be started.
    public var result: ProcessResult?
    /// Why it could not be started, when ``result`` is nil.
    public var launchError: String?

    public init(argv: [String], result: ProcessResult?, launchError: String? = nil) {
        self.argv = argv
        self.result = result
        self.launchError = launchError
    }

    /// True when the hook ran, exited 0 and did not time out.
    public var succeeded: Bool { result?.succeeded ?? false }
}
