import CertkeeperLogging
import Logging
import Subprocess

/// Reloads (or restarts) systemd units that use the installed certificates: `systemctl reload-or-restart UNIT`,
/// once per unit, argv only, each with a timeout. The daemon collects units across one batch of installations and
/// calls ``reload(units:logger:)`` once.
package struct UnitReloader: Sendable {
    private let runner: ProcessRunner
    /// The systemctl binary (tests point it at a fake).
    package let systemctl: String
    /// Per-unit timeout.
    package let timeout: Duration

    package init(
        runner: ProcessRunner = ProcessRunner(), systemctl: String = "systemctl", timeout: Duration = .seconds(60)
    ) {
        self.runner = runner
        self.systemctl = systemctl
        self.timeout = timeout
    }

    /// Runs `systemctl reload-or-restart UNIT` for each unit (sorted), logging every outcome.
    /// - Returns: per unit, whether the reload succeeded.
    @discardableResult
    package func reload(units: Set<String>, logger: Logger) async -> [String: Bool] {
        var outcomes: [String: Bool] = [:]
        for unit in units.sorted() {
            let metadata: Logger.Metadata = [LogKey.unit: .string(unit)]
            guard Self.isValidUnitName(unit) else {
                logger.error("\(InstallerError.invalidUnitName(unit))", metadata: metadata)
                outcomes[unit] = false
                continue
            }
            do {
                let result = try await runner.run([systemctl, "reload-or-restart", unit], timeout: timeout)
                for line in HookRunner.lines(result.stderr) { logger.warning("systemctl: \(line)", metadata: metadata) }
                if result.succeeded {
                    logger.info("reloaded unit", metadata: metadata)
                } else if result.timedOut {
                    logger.error("systemctl reload-or-restart \(unit) timed out after \(timeout)", metadata: metadata)
                } else {
                    var message = "systemctl reload-or-restart \(unit) failed with status \(result.status)"
                    if Self.isPermissionProblem(result.stderr) {
                        // The shipped unit runs unprivileged: reloads go through root-owned path units instead.
                        let instance = unit.hasSuffix(".service") ? String(unit.dropLast(8)) : unit
                        message +=
                            "; certkeeper has no privilege to reload other units: enable `certkeeper-reload@\(instance).path` (docs/systemd.md) instead of reload_units, or add a polkit rule"
                    }
                    logger.error("\(message)", metadata: metadata)
                }
                outcomes[unit] = result.succeeded
            } catch {
                logger.error("cannot run systemctl for \(unit): \(error)", metadata: metadata)
                outcomes[unit] = false
            }
        }
        return outcomes
    }

    /// systemctl's answers when the caller may not manage units (polkit, D-Bus policy).
    static func isPermissionProblem(_ stderr: String) -> Bool {
        ["Interactive authentication required", "Access denied", "Permission denied", "Failed to connect to bus"]
            .contains { stderr.contains($0) }
    }

    /// Unit names: letters, digits and `:-_.@\`, not starting with '-', at most 255 characters.
    static func isValidUnitName(_ unit: String) -> Bool {
        guard let first = unit.first, first != "-", unit.utf8.count <= 255 else { return false }
        return unit.allSatisfy { char in
            char.isASCII && (char.isLetter || char.isNumber || ":-_.@\\".contains(char))
        }
    }
}
