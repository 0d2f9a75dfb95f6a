import Foundation

/// The outcome of one child process.
public struct ProcessResult: Sendable, Hashable {
    /// Exit status, or the signal number when `signaled` is true.
    public var status: Int32
    public var signaled: Bool
    /// True when the child was killed because it ran past its timeout.
    public var timedOut: Bool
    public var stdout: String
    public var stderr: String
    public var succeeded: Bool { !signaled && !timedOut && status == 0 }
}

/// Errors starting a child.
public enum ProcessRunnerError: Error, Sendable, CustomStringConvertible {
    case emptyArgv
    case launchFailed(executable: String, reason: String)

    public var description: String {
        switch self {
        case .emptyArgv: return "hook has an empty argv list"
        case .launchFailed(let executable, let reason): return "cannot run \(executable): \(reason)"
        }
    }
}

/// Runs argv lists (never through a shell) with extra environment, captured output and a timeout.
public struct ProcessRunner: Sendable {
    public init() {}

    /// Runs `argv`; `argv[0]` is an absolute path or a name looked up in `PATH`.
    ///
    /// - Parameters:
    ///   - argv: program and arguments, passed as-is.
    ///   - environment: variables added to (and overriding) the daemon's environment;
    ///     `JOURNAL_STREAM` is removed so children never log to the journal under their own attribution.
    ///   - timeout: the child gets SIGTERM at the timeout and SIGKILL 5 s later.
    public func run(_ argv: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60))
        async throws -> ProcessResult
    {
        guard let first = argv.first else { throw ProcessRunnerError.emptyArgv }
        let process = Process()
        if first.contains("/") {
            process.executableURL = URL(fileURLWithPath: first)
            process.arguments = Array(argv.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = argv
        }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "JOURNAL_STREAM")
        env.removeValue(forKey: "NOTIFY_SOCKET")
        env.removeValue(forKey: "WATCHDOG_USEC")
        env.removeValue(forKey: "WATCHDOG_PID")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice

        let outBox = OutputCollector(handle: outPipe.fileHandleForReading)
        let errBox = OutputCollector(handle: errPipe.fileHandleForReading)
        let exited = ExitSignal()
        process.terminationHandler = { _ in exited.fire() }
        do {
            try process.run()
        } catch {
            throw ProcessRunnerError.launchFailed(executable: first, reason: "\(error.localizedDescription)")
        }
        outBox.start()
        errBox.start()

        let pid = process.processIdentifier
        let timedOut = await exited.wait(timeout: timeout)
        if timedOut {
            kill(pid, SIGTERM)
            if await exited.wait(timeout: .seconds(5)) {
                kill(pid, SIGKILL)
                _ = await exited.wait(timeout: .seconds(5))
            }
        }
        process.waitUntilExit()
        let stdout = outBox.finish()
        let stderr = errBox.finish()
        let signaled = process.terminationReason == .uncaughtSignal
        return ProcessResult(
            status: process.terminationStatus, signaled: signaled, timedOut: timedOut,
            stdout: stdout, stderr: stderr)
    }
}

/// Reads a pipe on a background thread until EOF.
private final class OutputCollector: @unchecked Sendable {
    private let handle: FileHandle
    private var data = Data()
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    /// Captured output is bounded so a chatty hook cannot exhaust memory.
    private let limit = 1 << 20

    init(handle: FileHandle) { self.handle = handle }

    func start() {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                if data.count < limit { data.append(chunk.prefix(limit - data.count)) }
                lock.unlock()
            }
            done.signal()
        }
    }

    func finish() -> String {
        // Grandchildren may hold the pipe open; do not wait for them forever.
        _ = done.wait(timeout: .now() + 2)
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A one-shot event that async code can wait on with a timeout.
private final class ExitSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var fired = false
    private var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    private var nextID = 0

    func fire() {
        lock.lock()
        fired = true
        let pending = waiters.values
        waiters = [:]
        lock.unlock()
        for waiter in pending { waiter.resume(returning: false) }
    }

    /// Returns true when the timeout passed before the event fired.
    func wait(timeout: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            lock.lock()
            if fired {
                lock.unlock()
                continuation.resume(returning: false)
                return
            }
            let id = nextID
            nextID += 1
            waiters[id] = continuation
            lock.unlock()
            let (seconds, attoseconds) = timeout.components
            let nanos = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanos)) { [self] in
                lock.lock()
                let waiter = waiters.removeValue(forKey: id)
                lock.unlock()
                waiter?.resume(returning: true)
            }
        }
    }
}
