import Logging

/// A swift-log handler that writes native journal entries to journald over AF_UNIX/SOCK_DGRAM.
///
/// Each entry carries `MESSAGE`, `PRIORITY` (trace/debug 7, info 6, notice 5, warning 4, error 3, critical 2),
/// `SYSLOG_IDENTIFIER`, `CODE_FILE`, `CODE_LINE`, `CODE_FUNC` and the metadata: the key `message_id` becomes
/// `MESSAGE_ID` (32 lowercase hex characters, for catalog entries) and every other key becomes
/// ``fieldPrefix`` + the uppercased key with characters outside `[A-Z0-9_]` replaced by `_`
/// (`not_after` → `CERTKEEPER_NOT_AFTER`). Values that contain newlines use the protocol's binary framing.
///
/// Entries too large for a datagram are sent through a sealed memfd; if that fails they are truncated.
/// If journald cannot be reached at all, the entry is written to stderr in ``StderrLogHandler``'s format instead.
package struct JournalLogHandler: LogHandler {
    /// The default journald native socket.
    package static let defaultSocketPath = "/run/systemd/journal/socket"

    /// Values longer than this are cut when an entry has to be truncated.
    static let truncatedValueLimit = 32 * 1024

    /// The minimum level that is logged.
    package var logLevel: Logger.Level
    /// Metadata attached to every entry.
    package var metadata: Logger.Metadata = [:]
    /// Metadata provider consulted for every entry.
    package var metadataProvider: Logger.MetadataProvider?
    /// The `SYSLOG_IDENTIFIER=` value.
    package let identifier: String
    /// Prefix of metadata-derived field names, e.g. `CERTKEEPER_`.
    package let fieldPrefix: String

    private var socket: JournalSocket?
    private let fallback: StderrLogHandler

    /// Creates a handler.
    ///
    /// - Parameters:
    ///   - label: the logger label (unused in the entry; present for `LoggingSystem.bootstrap`).
    ///   - identifier: `SYSLOG_IDENTIFIER=` value; also, uppercased, the metadata field prefix.
    ///   - logLevel: minimum level; defaults to `.info`.
    ///   - socketPath: journald's native socket; injectable for tests.
    ///   - metadataProvider: optional provider for contextual metadata.
    package init(
        label: String,
        identifier: String = "certkeeper",
        logLevel: Logger.Level = .info,
        socketPath: String = JournalLogHandler.defaultSocketPath,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.identifier = identifier
        self.fieldPrefix = JournalEntry.fieldName(for: identifier, prefix: "") + "_"
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.socket = JournalSocket(path: socketPath, maxDatagramBytes: Int.max)
        self.fallback = StderrLogHandler(label: label, logLevel: logLevel)
    }

    /// Test hook: treat datagrams above `maxDatagramBytes` as too large, to exercise the memfd path
    /// independently of the host's socket buffer limits.
    init(label: String, socketPath: String, maxDatagramBytes: Int) {
        self.init(label: label, logLevel: .trace, socketPath: socketPath)
        self.socket = JournalSocket(path: socketPath, maxDatagramBytes: maxDatagramBytes)
    }

    /// Whether a socket could be created (it says nothing about journald listening).
    package var hasSocket: Bool { socket != nil }

    /// Gets or sets one handler metadata value.
    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The syslog priority journald uses for a swift-log level.
    package static func priority(for level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Builds the journal entry for a log event (exposed for tests and tools).
    package func entry(for event: LogEvent) -> JournalEntry {
        var entry = JournalEntry()
        entry.append("MESSAGE", event.message.description)
        entry.append("PRIORITY", String(Self.priority(for: event.level)))
        entry.append("SYSLOG_IDENTIFIER", identifier)
        entry.append("CODE_FILE", event.file)
        entry.append("CODE_LINE", String(event.line))
        entry.append("CODE_FUNC", event.function)
        let metadata = LogMetadataFlattening.merged(
            handler: self.metadata,
            provider: metadataProvider,
            message: event.metadata
        )
        for (key, value) in metadata {
            let text = LogMetadataFlattening.string(value)
            if key == "message_id", let id = JournalEntry.normalizedMessageID(text) {
                entry.append("MESSAGE_ID", id)
            } else {
                entry.append(JournalEntry.fieldName(for: key, prefix: fieldPrefix), text)
            }
        }
        if let error = event.error {
            entry.append(fieldPrefix + "ERROR", String(describing: error))
        }
        return entry
    }

    /// Sends one event to journald.
    package func log(event: LogEvent) {
        let entry = entry(for: event)
        guard let socket else {
            fallback.log(event: event)
            return
        }
        switch socket.send(entry.encoded()) {
        case .sent:
            return
        case .tooLarge:
            if socket.send(Self.truncated(entry, limit: Self.truncatedValueLimit).encoded()) == .sent { return }
            if socket.send(Self.truncated(entry, limit: 1024).encoded()) == .sent { return }
            fallback.log(event: event)
        case .failed:
            fallback.log(event: event)
        }
    }

    /// Cuts every value longer than `limit` bytes (at a UTF-8 boundary) and marks it as truncated.
    static func truncated(_ entry: JournalEntry, limit: Int) -> JournalEntry {
        var copy = entry
        for index in copy.fields.indices where copy.fields[index].value.count > limit {
            let total = copy.fields[index].value.count
            var cut = limit
            while cut > 0, copy.fields[index].value[cut] & 0xC0 == 0x80 { cut -= 1 }
            copy.fields[index].value =
                Array(copy.fields[index].value[..<cut])
                + Array(" … [truncated, \(total) bytes]".utf8)
        }
        return copy
    }
}
