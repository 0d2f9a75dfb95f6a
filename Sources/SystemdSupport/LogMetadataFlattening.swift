import Logging

/// Turns swift-log metadata values into single strings for journal fields and `key=value` pairs.
enum LogMetadataFlattening {
    /// Flattens a value: strings as is, arrays joined with `,`, dictionaries as sorted `k=v` joined with `,`.
    static func string(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(string).joined(separator: ",")
        case .dictionary(let dictionary):
            dictionary.sorted { $0.key < $1.key }.map { "\($0.key)=\(string($0.value))" }.joined(separator: ",")
        }
    }

    /// Merges handler metadata, provider metadata and per-message metadata (later ones win), sorted by key.
    static func merged(
        handler: Logger.Metadata,
        provider: Logger.MetadataProvider?,
        message: Logger.Metadata?
    ) -> [(key: String, value: Logger.MetadataValue)] {
        var all = handler
        if let provided = provider?.get() { all.merge(provided) { _, new in new } }
        if let message { all.merge(message) { _, new in new } }
        return all.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }
}
