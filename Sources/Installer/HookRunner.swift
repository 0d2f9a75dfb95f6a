import ACMEModels
import CertkeeperLogging
import Logging
import Subprocess

/// Runs deploy and failure hooks (argv lists, never a shell) one after another, with `CERTKEEPER_*` variables, and
/// logs each hook's exit status and output lines with metadata `cert`, `domains` and `hook` (argv[0]).
///
/// stdout lines are logged at info, stderr lines at warning, a non-zero exit or launch failure at error, and a
/// timeout at error. A failing hook does not stop the next one.
package struct HookRunner: Sendable {
    private let runner: ProcessRunner

    package init(runner: ProcessRunner = ProcessRunner()) {
        self.runner = runner
    }

    /// Runs hooks after a successful installation.
    ///
    /// Environment: `CERTKEEPER_NAME`, `CERTKEEPER_DOMAINS` (space-separated), `CERTKEEPER_FULLCHAIN`,
    /// `CERTKEEPER_KEY`, `CERTKEEPER_CERT`, `CERTKEEPER_CHAIN` (the last two empty when not installed).
    package func runDeployHooks(
        _ argvs: [[String]], certificate: String, domains: [String], paths: InstalledPaths, timeout: Duration,
        logger: Logger
    ) async -> [HookOutcome] {
        let environment = [
            "CERTKEEPER_NAME": certificate,
            "CERTKEEPER_DOMAINS": domains.joined(separator: " "),
            "CERTKEEPER_FULLCHAIN": paths.fullchain,
            "CERTKEEPER_KEY": paths.key,
            "CERTKEEPER_CERT": paths.cert ?? "",
            "CERTKEEPER_CHAIN": paths.chain ?? "",
        ]
        return await run(
            argvs, environment: environment, certificate: certificate, domains: domains, timeout: timeout,
            logger: logger)
    }

    /// Runs hooks after a failed renewal; `CERTKEEPER_ERROR` carries `error` (which must hold no secrets).
    package func runFailureHooks(
        _ argvs: [[String]], certificate: String, domains: [String], error: String, timeout: Duration, logger: Logger
    ) async -> [HookOutcome] {
        let environment = [
            "CERTKEEPER_NAME": certificate,
            "CERTKEEPER_DOMAINS": domains.joined(separator: " "),
            // The message may quote a CA: one line, bounded (an environment over 128 KiB fails exec with E2BIG).
            "CERTKEEPER_ERROR": UntrustedText.sanitized(error, maxBytes: UntrustedText.messageLimit),
        ]
        return await run(
            argvs, environment: environment, certificate: certificate, domains: domains, timeout: timeout,
            logger: logger)
    }

    private func run(
        _ argvs: [[String]], environment: [String: String], certificate: String, domains: [String], timeout: Duration,
        logger: Logger
    ) async -> [HookOutcome] {
        var outcomes: [HookOutcome] = []
        for argv in argvs {
            var metadata: Logger.Metadata = [
                LogKey.cert: .string(certificate),
                LogKey.domains: .string(domains.joined(separator: " ")),
                LogKey.hook: .string(argv.first ?? ""),
            ]
            let result: ProcessResult
            do {
                result = try await runner.run(argv, environment: environment, timeout: timeout)
            } catch {
                logger.error("hook could not be started: \(error)", metadata: metadata)
                outcomes.append(HookOutcome(argv: argv, result: nil, launchError: "\(error)"))
                continue
            }
            for line in Self.lines(result.stdout) { logger.info("hook: \(line)", metadata: metadata) }
            for line in Self.lines(result.stderr) { logger.warning("hook: \(line)", metadata: metadata) }
            metadata[LogKey.status] = .stringConvertible(result.status)
            if result.timedOut {
                logger.error("hook timed out after \(timeout) and was killed", metadata: metadata)
            } else if result.signaled {
                logger.error("hook was killed by signal \(result.status)", metadata: metadata)
            } else if result.status != 0 {
                logger.error("hook failed with exit status \(result.status)", metadata: metadata)
            } else {
                logger.info("hook finished with exit status 0", metadata: metadata)
            }
            outcomes.append(HookOutcome(argv: argv, result: result))
        }
        return outcomes
    }

    static func lines(_ text: String) -> [Substring] {
        text.split(whereSeparator: \.isNewline)
    }
}
