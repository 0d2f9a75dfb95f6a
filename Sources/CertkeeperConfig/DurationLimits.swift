/// The longest value each configured duration may have. Longer values are `check` errors at FILE:LINE:COLUMN,
/// so nothing at run time has to convert an absurd number of seconds.
package enum DurationLimits {
    /// `renew_before`: ten years.
    package static let renewBefore: Int64 = 3650 * 86_400
    /// `[hooks] timeout` and `[defaults] hook_timeout`: one day.
    package static let hookTimeout: Int64 = 86_400
    /// `propagation_timeout` of a dns-01 solver: one day.
    package static let propagationTimeout: Int64 = 86_400
    /// `[defaults] job_timeout`, one certificate's whole attempt: one day.
    package static let jobTimeout: Int64 = 86_400
}
