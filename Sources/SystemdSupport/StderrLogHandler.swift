import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A swift-log handler that writes readable lines to stderr with sd-daemon(3) priority prefixes.
///
/// Each line starts with `<N>` (the syslog priority, as ``JournalLogHandler/priority(for:)``), so journald
/// keeps the priority when stderr is connected to it. The first line holds the message followed by metadata as
/// sorted `key=value` pairs (values with spaces, quotes or `=` are double-quoted); every further line of a
/// multi-line message gets its own prefix. Each entry is written with a single `write(2)`.
package struct StderrLogHandler: LogHandler {
    /// The minimum level that is logged.
    package var logLevel: Logger.Level
    /// Metadata attached to every line.
    package var metadata: Logger.Metadata = [:]
    /// Metadata provider consulted for every line.
    package var metadataProvider: Logger.MetadataProvider?

    private let fileDescriptor: Int32

    /// Creates a handler.
    ///
    /// - Parameters:
    ///   - label: the logger label (not printed; journald and the unit name identify the source).
    ///   - logLevel: minimum level; defaults to `.info`.
    ///   - fileDescriptor: where lines go; defaults to 2 (stderr), injectable for tests.
    ///   - metadataProvider: optional provider for contextual metadata.
    package init(
        label: String,
        logLevel: Logger.Level = .info,
        fileDescriptor: Int32 = 2,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.logLevel = logLevel
        self.fileDescriptor = fileDescriptor
        self.metadataProvider = metadataProvider
    }

    /// Gets or sets one handler metadata value.
    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Formats an event as the text that ``log(event:)`` writes (ending with a newline).
    package func format(_ event: LogEvent) -> String {
        let prefix = "<\(JournalLogHandler.priority(for: event.level))>"
        var pairs = LogMetadataFlattening.merged(handler: metadata, provider: metadataProvider, message: event.metadata)
            .map { "\($0.key)=\(Self.quoted(LogMetadataFlattening.string($0.value)))" }
        if let error = event.error {
            pairs.append("error=\(Self.quoted(String(describing: error)))")
        }
        var lines = event.message.description.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.count > 1, lines.last == "" { lines.removeLast() }
        if !pairs.isEmpty {
            lines[0] += (lines[0].isEmpty ? "" : " ") + pairs.joined(separator: " ")
        }
        return lines.map { prefix + $0 + "\n" }.joined()
    }

    /// Writes one event to the file descriptor.
    package func log(event: LogEvent) {
        let bytes = Array(format(event).utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(fileDescriptor, $0.baseAddress! + written, $0.count - written) }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { return }
            written += result
        }
    }

    /// Quotes a metadata value when it is empty or contains spaces, quotes, `=`, backslashes or control characters.
    static func quoted(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || $0.value < 0x20 }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
