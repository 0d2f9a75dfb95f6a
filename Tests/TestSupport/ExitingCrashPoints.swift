import Foundation
import Renewal

/// Crash points armed by `CERTKEEPER_FAULT` (comma-separated ``CrashPoint`` names): the process exits at once with
/// status 137, as if killed with SIGKILL. Only the `certkeeper-crashing` test binary uses them.
package struct ExitingCrashPoints: CrashPoints {
    package var armed: Set<CrashPoint>

    package init(environment: [String: String]) {
        armed = Set(
            (environment["CERTKEEPER_FAULT"] ?? "").split(separator: ",").compactMap {
                CrashPoint(rawValue: String($0))
            })
    }

    package func reached(_ point: CrashPoint) {
        guard armed.contains(point) else { return }
        FileHandle.standardError.write(Data("certkeeper: fault point \(point.rawValue) reached, exiting\n".utf8))
        _exit(137)
    }
}
