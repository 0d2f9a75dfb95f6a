import Foundation

/// JSON decoding for ACME resources: RFC 3339 timestamps with or without fractional seconds.
package enum ACMEJSON {
    /// A decoder whose date strategy accepts RFC 3339 (`2026-01-20T14:09:07Z`, `...07.99Z`, `...07+02:00`).
    package static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseRFC3339(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "not an RFC 3339 timestamp: \(text)"
                )
            }
            return date
        }
        return decoder
    }

    /// Decodes `type` from `bytes` with ``decoder()``.
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try decoder().decode(type, from: Data(bytes))
    }

    /// Parses an RFC 3339 timestamp; fractional seconds are kept. Returns nil when malformed.
    package static func parseRFC3339(_ text: String) -> Date? {
        var main = text
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            var end = text.index(after: dot)
            while end < text.endIndex, text[end].isASCII, text[end].isNumber {
                end = text.index(after: end)
            }
            fraction = Double("0" + text[dot..<end]) ?? 0
            main = String(text[..<dot]) + String(text[end...])
        }
        // Date.ISO8601FormatStyle, not ISO8601DateFormatter: the same parse without ICU (whose formatter setup
        // cost more than reading a certificate and pulled ICU's tables into memory).
        guard let date = try? Date(main, strategy: Date.ISO8601FormatStyle()) else { return nil }
        return date.addingTimeInterval(fraction)
    }

    /// Formats a date as RFC 3339 in UTC without fractional seconds.
    package static func formatRFC3339(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }
}
