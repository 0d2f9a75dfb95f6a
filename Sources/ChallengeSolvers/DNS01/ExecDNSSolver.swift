import DNSWire
import Foundation
import Subprocess

/// Answers dns-01 through an external program, like lego's `exec` provider:
/// `COMMAND present FQDN VALUE` and `COMMAND cleanup FQDN VALUE`, where FQDN is `_acme-challenge.<domain>.`
/// (with the trailing dot) and VALUE the TXT value. A non-zero exit fails with the status and stderr.
package struct ExecDNSSolver: ChallengeSolver {
    /// The program and its leading arguments (argv, never run through a shell).
    package var command: [String]
    /// Servers that must serve the record (`host:port`); empty means the zone's NS hosts, found through
    /// `resolver`.
    package var propagationServers: [String]
    /// How long `waitUntilVisible` waits; `.zero` skips the check.
    package var propagationTimeout: Duration
    package var propagationInterval: Duration
    /// The recursive resolver used to find the zone and its NS hosts; nil reads `/etc/resolv.conf`.
    package var resolver: String?
    /// Limit for each run of the command. Defaults to 60 s.
    package var commandTimeout: Duration
    /// Extra environment for the command.
    package var environment: [String: String]
    package var runner: ProcessRunner
    /// Where `present` put each record (read again by `waitUntilVisible` and `cleanUp`).
    package let located = LocatedRecords()
    package var client: DNSClient
    package var now: @Sendable () -> Date
    package var sleep: @Sendable (Duration) async throws -> Void

    package init(
        command: [String],
        propagationServers: [String] = [],
        propagationTimeout: Duration = .seconds(120),
        propagationInterval: Duration = .seconds(2),
        resolver: String? = nil,
        commandTimeout: Duration = .seconds(60),
        environment: [String: String] = [:],
        runner: ProcessRunner = ProcessRunner(),
        client: DNSClient = DNSClient(),
        now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.command = command
        self.propagationServers = propagationServers
        self.propagationTimeout = propagationTimeout
        self.propagationInterval = propagationInterval
        self.resolver = resolver
        self.commandTimeout = commandTimeout
        self.environment = environment
        self.runner = runner
        self.client = client
        self.now = now
        self.sleep = sleep
    }

    package func present(_ task: ChallengeTask) async throws {
        try await run("present", task)
    }

    package func cleanUp(_ task: ChallengeTask) async throws {
        try await run("cleanup", task)
    }

    package func waitUntilVisible(_ task: ChallengeTask) async throws {
        guard propagationTimeout > .zero else { return }
        do {
            let name = try await located.target(for: task.domain) { try await locator().locate(domain: task.domain) }
                .name
            let checker = PropagationChecker(
                client: client,
                timeout: propagationTimeout,
                interval: propagationInterval,
                now: now,
                sleep: sleep
            )
            let servers: PropagationChecker.Servers
            if propagationServers.isEmpty {
                let resolverAddress = try resolver.map { try DNSServerAddress($0) } ?? Self.systemResolver()
                let zone = try await RFC2136Updater(server: resolverAddress, key: nil, client: client)
                    .findZone(for: name)
                servers = .authoritative(zone: zone, resolver: resolverAddress)
            } else {
                servers = .explicit(try propagationServers.map { try DNSServerAddress($0) })
            }
            try await checker.waitUntilVisible(
                name: name,
                txt: DNS01Record.value(keyAuthorization: task.keyAuthorization),
                servers: servers
            )
        } catch {
            throw DNS01SolverError(solver: "exec", domain: task.domain, reason: "\(error)")
        }
    }

    /// The argv for one action: `command + [action, FQDN, VALUE]`. A domain that is not a plain host name
    /// (letters, digits, `-`; optional leading `*.`) is refused, so the program never sees anything else.
    /// `recordName` is where the record goes when `_acme-challenge.<domain>` is a CNAME (the end of its chain).
    package func arguments(_ action: String, _ task: ChallengeTask, recordName: DNSName? = nil) throws -> [String] {
        if let problem = HostnameSyntax.problem(task.domain) {
            throw DNS01SolverError(
                solver: "exec", domain: String(reflecting: task.domain),
                reason:
                    "refusing to run \(command.first ?? "the command") for a name that is not a host name: \(problem)")
        }
        let fqdn = try (recordName ?? DNS01Record.name(for: task.domain)).description
        return command + [action, fqdn, DNS01Record.value(keyAuthorization: task.keyAuthorization)]
    }

    /// Follows `_acme-challenge` CNAMEs through `resolver`, or the system's.
    private func locator() throws -> ChallengeRecordLocator {
        ChallengeRecordLocator(
            resolvers: [try resolver.map { try DNSServerAddress($0) } ?? Self.systemResolver()])
    }

    private func run(_ action: String, _ task: ChallengeTask) async throws {
        let argv: [String]
        let result: ProcessResult
        do {
            _ = try arguments(action, task)
            let target = try await located.target(for: task.domain) {
                try await locator().locate(domain: task.domain)
            }
            argv = try arguments(action, task, recordName: target.name)
            result = try await runner.run(argv, environment: environment, timeout: commandTimeout)
        } catch {
            throw DNS01SolverError(solver: "exec", domain: task.domain, reason: "\(action): \(error)")
        }
        guard result.succeeded else {
            throw ExecDNSSolverError(
                command: command.first ?? "",
                action: action,
                domain: task.domain,
                status: result.status,
                signaled: result.signaled,
                timedOut: result.timedOut,
                stderr: String(result.stderr.suffix(2000))
            )
        }
    }

    /// The first `nameserver` in /etc/resolv.conf, or 127.0.0.1.
    package static func systemResolver(resolvConf path: String = "/etc/resolv.conf") throws -> DNSServerAddress {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count >= 2, fields[0] == "nameserver" {
                return DNSServerAddress(host: String(fields[1].split(separator: "%").first ?? fields[1]))
            }
        }
        return DNSServerAddress(host: "127.0.0.1")
    }
}

/// The exec DNS command failed; carries its exit status and stderr.
package struct ExecDNSSolverError: Error, Sendable, Hashable, CustomStringConvertible {
    package var command: String
    /// `present` or `cleanup`.
    package var action: String
    package var domain: String
    /// Exit status, or the signal number when `signaled`.
    package var status: Int32
    package var signaled: Bool
    package var timedOut: Bool
    /// The last 2000 characters of the command's stderr.
    package var stderr: String

    package var description: String {
        let how =
            timedOut ? "timed out" : signaled ? "was killed by signal \(status)" : "exited with status \(status)"
        let detail = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        return "dns-01 (exec) for \(domain): \(command) \(action) \(how)"
            + (detail.isEmpty ? "" : ": \(detail)")
    }
}
