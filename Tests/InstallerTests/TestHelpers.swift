import Foundation
import Logging

/// A fresh directory under /tmp, removed on deinit.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/installer-test-XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: result)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func info(_ relative: String) -> stat {
        var result = stat()
        lstat(path + "/" + relative, &result)
        return result
    }

    func mode(_ relative: String) -> mode_t { info(relative).st_mode & 0o7777 }

    func contents(_ relative: String) -> String? {
        FileManager.default.contents(atPath: path + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }

    func entries(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/" + relative)) ?? []).sorted()
    }

    /// Writes an executable shell script and returns its path.
    func script(_ name: String, _ body: String) throws -> String {
        let file = path + "/" + name
        try ("#!/bin/sh\n" + body + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o755)
        return file
    }
}

/// One captured log line.
struct LogEntry: Sendable {
    var level: Logger.Level
    var message: String
    var metadata: [String: String]
}

/// Collects log entries for assertions.
final class LogRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [LogEntry] = []

    var entries: [LogEntry] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func append(_ entry: LogEntry) {
        lock.lock()
        stored.append(entry)
        lock.unlock()
    }

    var logger: Logger {
        Logger(label: "test") { _ in RecordingHandler(recorder: self) }
    }
}

struct RecordingHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            merged[key] = "\(value)"
        }
        recorder.append(LogEntry(level: event.level, message: "\(event.message)", metadata: merged))
    }
}

struct InjectedFault: Error {}

/// A thread-safe box for values observed inside @Sendable hooks.
final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get {
            lock.lock()
            defer { lock.unlock() }
            return stored
        }
        set {
            lock.lock()
            stored = newValue
            lock.unlock()
        }
    }
}
