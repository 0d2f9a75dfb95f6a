import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Chooses and installs the process-wide log handler: native journal when stderr is connected to journald,
/// otherwise `<N>`-prefixed lines on stderr.
package enum LoggingSetup {
    /// The destination ``bootstrap(identifier:level:)`` picked.
    package enum Destination: Sendable, Equatable {
        /// Native journal protocol (``JournalLogHandler``).
        case journal
        /// Prefixed lines on stderr (``StderrLogHandler``).
        case stderr
    }

    /// Installs the handler with `LoggingSystem.bootstrap` (call once, early in `main`).
    ///
    /// - Parameters:
    ///   - identifier: `SYSLOG_IDENTIFIER=` and metadata field prefix, e.g. `certkeeper`.
    ///   - level: minimum log level.
    /// - Returns: the destination in use.
    @discardableResult
    package static func bootstrap(identifier: String, level: Logger.Level) -> Destination {
        let destination = destination()
        LoggingSystem.bootstrap { label in
            makeHandler(label: label, identifier: identifier, level: level, destination: destination)
        }
        return destination
    }

    /// Makes a handler for `destination` (falls back to stderr if no journal socket can be created).
    package static func makeHandler(
        label: String,
        identifier: String,
        level: Logger.Level,
        destination: Destination,
        provider: Logger.MetadataProvider? = nil,
        journalSocketPath: String = JournalLogHandler.defaultSocketPath
    ) -> any LogHandler {
        if destination == .journal {
            let handler = JournalLogHandler(
                label: label,
                identifier: identifier,
                logLevel: level,
                socketPath: journalSocketPath,
                metadataProvider: provider
            )
            if handler.hasSocket { return handler }
        }
        return StderrLogHandler(label: label, logLevel: level, metadataProvider: provider)
    }

    /// `.journal` when `$JOURNAL_STREAM` names the device and inode of `stderrDescriptor` (systemd.exec(5):
    /// merely being set is not enough, since children inherit it with a different stderr), else `.stderr`.
    package static func destination(
        environment: [String: String]? = nil,
        stderrDescriptor: Int32 = 2
    ) -> Destination {
        let value: String?
        if let environment {
            value = environment["JOURNAL_STREAM"]
        } else {
            value = getenv("JOURNAL_STREAM").map { String(cString: $0) }
        }
        guard let value, let expected = parseJournalStream(value) else { return .stderr }
        var info = stat()
        guard fstat(stderrDescriptor, &info) == 0 else { return .stderr }
        return UInt64(info.st_dev) == expected.device && UInt64(info.st_ino) == expected.inode ? .journal : .stderr
    }

    /// Parses `$JOURNAL_STREAM` (`<device>:<inode>`, both decimal).
    package static func parseJournalStream(_ value: String) -> (device: UInt64, inode: UInt64)? {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
        return (device, inode)
    }
}
