import Foundation
import Installer
import Logging
import Testing

struct HookRunnerTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory() }

    static let paths = InstalledPaths(
        fullchain: "/var/lib/certkeeper/live/www/fullchain.pem", key: "/var/lib/certkeeper/live/www/privkey.pem",
        cert: "/var/lib/certkeeper/live/www/cert.pem", chain: nil)

    @Test func deployHookGetsEnvironmentAndArgvAndItsOutputIsLogged() async throws {
        let hook = try dir.script(
            "deploy.sh",
            """
            echo "name=$CERTKEEPER_NAME domains=$CERTKEEPER_DOMAINS"
            echo "fullchain=$CERTKEEPER_FULLCHAIN key=$CERTKEEPER_KEY cert=$CERTKEEPER_CERT chain=[$CERTKEEPER_CHAIN]"
            echo "args=$*"
            echo "warned" >&2
            exit 3
            """)
        let ok = try dir.script("ok.sh", "exit 0")
        let recorder = LogRecorder()
        let outcomes = await HookRunner().runDeployHooks(
            [[hook, "one two", "3"], [ok]], certificate: "www", domains: ["www.example.org", "example.org"],
            paths: Self.paths, timeout: .seconds(20), logger: recorder.logger)

        #expect(outcomes.count == 2)
        #expect(outcomes[0].argv == [hook, "one two", "3"])
        #expect(outcomes[0].result?.status == 3)
        #expect(!outcomes[0].succeeded)
        #expect(outcomes[1].succeeded)
        let stdout = outcomes[0].result?.stdout ?? ""
        #expect(stdout.contains("name=www domains=www.example.org example.org"))
        #expect(
            stdout.contains(
                "fullchain=/var/lib/certkeeper/live/www/fullchain.pem key=/var/lib/certkeeper/live/www/privkey.pem cert=/var/lib/certkeeper/live/www/cert.pem chain=[]"
            ))
        #expect(stdout.contains("args=one two 3"))

        let entries = recorder.entries
        let forHook = entries.filter { $0.metadata["hook"] == hook }
        #expect(
            forHook.allSatisfy {
                $0.metadata["cert"] == "www" && $0.metadata["domains"] == "www.example.org example.org"
            })
        #expect(forHook.contains { $0.level == .info && $0.message.contains("args=one two 3") })
        #expect(forHook.contains { $0.level == .warning && $0.message.contains("warned") })
        #expect(forHook.contains { $0.level == .error && $0.message.contains("exit status 3") })
        #expect(entries.contains { $0.metadata["hook"] == ok && $0.level == .info && $0.message.contains("status 0") })
    }

    @Test func failureHookGetsTheError() async throws {
        let hook = try dir.script("fail.sh", #"echo "error=$CERTKEEPER_ERROR name=$CERTKEEPER_NAME""#)
        let outcomes = await HookRunner().runFailureHooks(
            [[hook]], certificate: "api", domains: ["api.example.org"], error: "dns-01: NXDOMAIN",
            timeout: .seconds(20), logger: LogRecorder().logger)
        #expect(outcomes.first?.result?.stdout == "error=dns-01: NXDOMAIN name=api\n")
    }

    @Test func hookPastItsTimeoutDiesFromSIGTERMAndIsLoggedAsError() async throws {
        let hook = try dir.script("slow.sh", "exec sleep 30")
        let recorder = LogRecorder()
        let outcomes = await HookRunner().runDeployHooks(
            [[hook]], certificate: "www", domains: ["www.example.org"], paths: Self.paths, timeout: .milliseconds(200),
            logger: recorder.logger)
        let result = try #require(outcomes.first?.result)
        #expect(result.timedOut)
        // SIGTERM ended it (SIGKILL comes only when SIGTERM does not work); no wall-clock assertion.
        #expect(result.signaled && result.status == SIGTERM)
        #expect(outcomes.first?.succeeded == false)
        #expect(recorder.entries.contains { $0.level == .error && $0.message.contains("timed out") })
    }

    @Test func hookInheritsNoDescriptorBeyondStdio() async throws {
        // A descriptor the daemon has open without close-on-exec (a socket, a file being written) must not leak.
        let opened = open("/dev/null", O_RDONLY)
        try #require(opened >= 0)
        let leaked: Int32 = 77
        try #require(dup2(opened, leaked) == leaked)
        close(opened)
        defer { close(leaked) }
        let hook = try dir.script("fds.sh", "if [ -e /proc/$$/fd/77 ]; then echo inherited; else echo clean; fi")
        let outcomes = await HookRunner().runDeployHooks(
            [[hook]], certificate: "www", domains: ["www.example.org"], paths: Self.paths, timeout: .seconds(20),
            logger: LogRecorder().logger)
        #expect(outcomes.first?.result?.stdout == "clean\n")
    }

    @Test func hookThatCannotStartIsReported() async throws {
        let recorder = LogRecorder()
        let outcomes = await HookRunner().runDeployHooks(
            [[dir.path + "/missing"], []], certificate: "www", domains: [], paths: Self.paths, timeout: .seconds(5),
            logger: recorder.logger)
        #expect(outcomes.count == 2)
        #expect(outcomes.allSatisfy { $0.result == nil && $0.launchError != nil })
        #expect(recorder.entries.filter { $0.level == .error }.count == 2)
    }

    @Test func unitReloaderRunsSystemctlOncePerValidUnit() async throws {
        let log = dir.path + "/calls"
        let fake = try dir.script(
            "systemctl",
            """
            echo "$@" >> \(log)
            [ "$2" = "broken.service" ] && { echo "Job failed" >&2; exit 1; }
            exit 0
            """)
        let recorder = LogRecorder()
        let outcomes = await UnitReloader(systemctl: fake, timeout: .seconds(20)).reload(
            units: ["nginx.service", "postfix@main.service", "broken.service", "--now"], logger: recorder.logger)
        #expect(
            outcomes == ["nginx.service": true, "postfix@main.service": true, "broken.service": false, "--now": false])
        #expect(
            dir.contents("calls")
                == "reload-or-restart broken.service\nreload-or-restart nginx.service\nreload-or-restart postfix@main.service\n"
        )
        #expect(recorder.entries.contains { $0.metadata["unit"] == "broken.service" && $0.level == .error })
        #expect(
            recorder.entries.contains { $0.metadata["unit"] == "broken.service" && $0.message.contains("Job failed") })
        #expect(!recorder.entries.contains { $0.message.contains("certkeeper-reload@") })
    }

    @Test func unitReloaderPointsAtThePathUnitsWhenItMayNotReload() async throws {
        let fake = try dir.script(
            "systemctl",
            """
            echo "Failed to reload-or-restart $2: Interactive authentication required." >&2
            exit 1
            """)
        let recorder = LogRecorder()
        let outcomes = await UnitReloader(systemctl: fake, timeout: .seconds(20)).reload(
            units: ["nginx.service"], logger: recorder.logger)
        #expect(outcomes == ["nginx.service": false])
        #expect(
            recorder.entries.contains {
                $0.level == .error && $0.message.contains("enable `certkeeper-reload@nginx.path`")
            })
    }
}
