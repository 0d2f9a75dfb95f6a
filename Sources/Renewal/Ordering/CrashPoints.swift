/// The instants a crash hurts most: a reply the CA sent and nobody stored yet. End-to-end tests kill the daemon
/// exactly there (TestSupport's `ExitingCrashPoints`, in the `certkeeper-crashing` test binary); the product passes
/// ``NoCrashPoints``.
package enum CrashPoint: String, Sendable, CaseIterable {
    /// newAccount answered, before the account is stored.
    case afterNewAccountReply = "after-newaccount-reply"
    /// finalize answered, before the download.
    case afterFinalize = "after-finalize"
}

/// Called at each ``CrashPoint``.
package protocol CrashPoints: Sendable {
    func reached(_ point: CrashPoint)
}

/// The product's crash points: nothing happens.
package struct NoCrashPoints: CrashPoints {
    package init() {}
    package func reached(_ point: CrashPoint) {}
}
