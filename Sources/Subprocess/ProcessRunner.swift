import CSpawn
import Foundation
import NIOCore
import NIOPosix
import SafeFiles
import Synchronization

/// The outcome of one child process.
package struct ProcessResult: Sendable, Hashable {
    /// Exit status, or the signal number when `signaled` is true.
    package var status: Int32
    package var signaled: Bool
    /// True when the child was killed because it ran past its timeout.
    package var timedOut: Bool
    package var stdout: String
    package var stderr: String
    package var succeeded: Bool { !signaled && !timedOut && status == 0 }
}

/// Errors starting a child.
package enum ProcessRunnerError: Error, Sendable, CustomStringConvertible {
    case emptyArgv
    case launchFailed(executable: String, reason: String)

    package var description: String {
        switch self {
        case .emptyArgv: return "hook has an empty argv list"
        case .launchFailed(let executable, let reason): return "cannot run \(executable): \(reason)"
        }
    }
}

/// Runs argv lists (never through a shell) with extra environment, captured output and a timeout.
///
/// Children are started with `posix_spawn` and a clean signal state: an empty signal mask
/// (`POSIX_SPAWN_SETSIGMASK`; the daemon blocks SIGTERM/SIGHUP on its threads to receive them as events, and a mask
/// is inherited) and default dispositions for every signal (`POSIX_SPAWN_SETSIGDEF`; SIGPIPE is ignored in the
/// daemon). Each child leads its own process group, so a timeout signals the hook and anything it started.
///
/// Output is read without a thread of its own (dispatch read sources). A background process the hook leaves holding
/// its stdout or stderr (`sleep 300 &`) holds nothing of ours: once the child has exited, output is collected for at
/// most ``outputGrace`` more, then the pipes are closed and ``run(_:environment:timeout:)`` returns.
package struct ProcessRunner: Sendable {
    /// Time between SIGTERM and SIGKILL for a child past its timeout.
    package var killGrace: Duration
    /// How long after the child's exit its output pipes are still read while something else holds them open.
    package var outputGrace: Duration

    package init(killGrace: Duration = .seconds(5), outputGrace: Duration = .seconds(1)) {
        self.killGrace = killGrace
        self.outputGrace = outputGrace
    }

    /// Runs `argv`; `argv[0]` is an absolute path or a name looked up in `PATH`.
    ///
    /// - Parameters:
    ///   - argv: program and arguments, passed as-is.
    ///   - environment: variables added to (and overriding) the daemon's environment;
    ///     `JOURNAL_STREAM` is removed so children never log to the journal under their own attribution.
    ///   - timeout: the child's process group gets SIGTERM at the timeout and SIGKILL ``killGrace`` later.
    package func run(_ argv: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60))
        async throws -> ProcessResult
    {
        guard let first = argv.first else { throw ProcessRunnerError.emptyArgv }
        // A bare name is looked up in the child's PATH by env(1), as a shell would.
        let spawnArgv = first.contains("/") ? argv : ["/usr/bin/env"] + argv
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "JOURNAL_STREAM")
        env.removeValue(forKey: "NOTIFY_SOCKET")
        env.removeValue(forKey: "WATCHDOG_USEC")
        env.removeValue(forKey: "WATCHDOG_PID")
        for (key, value) in environment { env[key] = value }

        // posix_spawn blocks until the child has exec'd (and retries ETXTBSY for up to half a second): not on the
        // event loops that run Swift concurrency.
        let child = try await BlockingIO.run { [env] in try Self.spawn(spawnArgv, environment: env, displayName: first)
        }
        let outBox = OutputCollector(fd: child.stdout)
        let errBox = OutputCollector(fd: child.stderr)
        let exited = ExitSignal()
        let waitStatus = StatusBox()
        let pid = child.pid
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1, errno == EINTR {}
            waitStatus.set(status)
            exited.fire()
        }

        let timedOut = await exited.wait(timeout: timeout)
        if timedOut {
            kill(-pid, SIGTERM)
            if await exited.wait(timeout: killGrace) {
                kill(-pid, SIGKILL)
                _ = await exited.wait(timeout: .seconds(30))
            }
        }
        let status = waitStatus.value
        async let stdout = outBox.finish(grace: outputGrace)
        async let stderr = errBox.finish(grace: outputGrace)
        let (out, err) = await (stdout, stderr)
        // <sys/wait.h>: low 7 bits = terminating signal (0: exited; 0x7f: stopped), exit code in bits 8-15.
        let signal = status & 0x7f
        let signaled = signal != 0 && signal != 0x7f
        return ProcessResult(
            status: signaled ? signal : (status >> 8) & 0xff, signaled: signaled, timedOut: timedOut,
            stdout: out, stderr: err)
    }

    /// pipe(2) with both ends close-on-exec (pipe2 is not visible from Swift), so other children never inherit them.
    private static func cloexecPipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// Starts `argv` with stdin from /dev/null and stdout/stderr to new pipes (read ends returned, close-on-exec).
    private static func spawn(_ argv: [String], environment: [String: String], displayName: String) throws
        -> (pid: pid_t, stdout: Int32, stderr: Int32)
    {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard Self.cloexecPipe(&outPipe) else {
            throw ProcessRunnerError.launchFailed(
                executable: displayName, reason: "pipe: \(String(cString: strerror(errno)))")
        }
        guard Self.cloexecPipe(&errPipe) else {
            let reason = String(cString: strerror(errno))
            close(outPipe[0])
            close(outPipe[1])
            throw ProcessRunnerError.launchFailed(executable: displayName, reason: "pipe: \(reason)")
        }
        defer {
            // The child has its copies; the parent keeps only the read ends.
            close(outPipe[1])
            close(errPipe[1])
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // Hooks inherit nothing else: no daemon sockets, no files another thread has open for writing.
        certkeeper_spawn_closefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in cArgv { free(pointer) }
            for pointer in cEnv { free(pointer) }
        }
        var pid: pid_t = 0
        var result = posix_spawn(&pid, argv[0], &actions, &attributes, cArgv, cEnv)
        // ETXTBSY: a child forked elsewhere in this process may briefly hold a just-written script open for
        // writing; retry a few times (bounded, about half a second in all).
        for _ in 0..<25 where result == ETXTBSY {
            usleep(20_000)
            result = posix_spawn(&pid, argv[0], &actions, &attributes, cArgv, cEnv)
        }
        guard result == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw ProcessRunnerError.launchFailed(executable: displayName, reason: String(cString: strerror(result)))
        }
        return (pid, outPipe[0], errPipe[0])
    }
}

/// The raw wait status, written once by the reaper thread.
private final class StatusBox: Sendable {
    private let status = Mutex<Int32>(0)
    func set(_ value: Int32) { status.withLock { $0 = value } }
    var value: Int32 { status.withLock { $0 } }
}

/// Reads a pipe on a thread of its own until EOF, or until ``finish(grace:)`` gives up on it; either way that thread
/// closes the descriptor, exactly once, when it stops reading.
///
/// Not a dispatch read source: on Linux, libdispatch's epoll bookkeeping can be left with a freed muxnote when read
/// sources are set up and torn down concurrently (swift-corelibs-libdispatch#949), which crashed the daemon in
/// `_dispatch_event_loop_drain` while several exec hooks ran at once. poll(2) with a short timeout lets the thread
/// notice the give-up without anyone closing the descriptor under it.
private final class OutputCollector: Sendable {
    private let data = Mutex(Data())
    private let stopRequested = Mutex(false)
    private let closed = ExitSignal()
    /// Captured output is bounded so a chatty hook cannot exhaust memory (the rest is read and dropped).
    private static let limit = 1 << 20

    init(fd: Int32) {
        Thread.detachNewThread { [self] in
            self.readUntilEOF(fd)
            close(fd)
            self.closed.fire()
        }
    }

    private func readUntilEOF(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !stopRequested.withLock({ $0 }) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready < 0, errno == EINTR { continue }
            if ready < 0 { return }
            if ready == 0 { continue }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR || errno == EAGAIN { continue }
            if count <= 0 { return }  // EOF, or an error
            data.withLock { data in
                if data.count < Self.limit {
                    data.append(contentsOf: buffer[..<min(count, Self.limit - data.count)])
                }
            }
        }
    }

    /// The output, once the pipe reached EOF or `grace` passed (then reading stops and the pipe is closed).
    func finish(grace: Duration) async -> String {
        if await self.closed.wait(timeout: grace) {
            stopRequested.withLock { $0 = true }
            _ = await self.closed.wait(timeout: .seconds(10))
        }
        return data.withLock { String(decoding: $0, as: UTF8.self) }
    }
}

/// A one-shot event that async code can wait on with a timeout.
private final class ExitSignal: Sendable {
    private struct State {
        var fired = false
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        var timers: [Scheduled<Void>] = []
        var nextID = 0
    }
    private let state = Mutex(State())

    func fire() {
        let (pending, timers) = state.withLock { state in
            state.fired = true
            defer {
                state.waiters = [:]
                state.timers = []
            }
            return (state.waiters.values, state.timers)
        }
        for timer in timers { timer.cancel() }
        for waiter in pending { waiter.resume(returning: false) }
    }

    /// Returns true when the timeout passed before the event fired.
    func wait(timeout: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let id: Int? = state.withLock { state in
                if state.fired { return nil }
                let id = state.nextID
                state.nextID += 1
                state.waiters[id] = continuation
                return id
            }
            guard let id else {
                continuation.resume(returning: false)
                return
            }
            // On the monotonic clock (a timeout must not jump with a clock step at boot), as a timer of an event loop.
            // Clamped to about a century: an absurd timeout must not overflow the nanosecond count.
            let (seconds, attoseconds) = timeout.components
            let nanos = Int64(min(max(seconds, 0), 3_155_760_000)) * 1_000_000_000 + attoseconds / 1_000_000_000
            let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(nanos)) { [self] in
                let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.resume(returning: true)
            }
            // Fired meanwhile: the timer is no longer needed (its closure finds no waiter).
            let keep = state.withLock { state in
                if !state.fired { state.timers.append(timer) }
                return !state.fired
            }
            if !keep { timer.cancel() }
        }
    }
}
