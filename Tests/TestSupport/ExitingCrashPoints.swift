import Foundation
import Renewal

/// Crash points armed by `CERTKEEPER_FAULT` (comma-separated ``CrashPoint`` names): the process exits at once with
/// status 137, as if killed with SIGKILL; or, with `CERTKEEPER_FAULT_ACTION=stop`, stops itself (SIGSTOP, every
/// thread frozen where it is) so that a test can kill it for real with `kill -9` at that instant. Only the
/// `certkeeper-crashing` test binary uses them.
package struct ExitingCrashPoints: CrashPoints {
    package var armed: Set<CrashPoint>
    /// Stop (SIGSTOP) instead of exiting.
    package var stops: Bool

    package init(environment: [String: String]) {
        armed = Set(
            (environment["CERTKEEPER_FAULT"] ?? "").split(separator: ",").compactMap {
                CrashPoint(rawValue: String($0))
            })
        stops = environment["CERTKEEPER_FAULT_ACTION"] == "stop"
    }

    package func reached(_ point: CrashPoint) {
        guard armed.contains(point) else { return }
        if stops {
            FileHandle.standardError.write(Data("certkeeper: fault point \(point.rawValue) reached, stopping\n".utf8))
            raise(SIGSTOP)
            return
        }
        FileHandle.standardError.write(Data("certkeeper: fault point \(point.rawValue) reached, exiting\n".utf8))
        _exit(137)
    }
}
