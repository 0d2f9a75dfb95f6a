import Foundation

/// `Retry-After` parsing (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
package enum RetryAfter {
    /// The longest delay a `Retry-After` is read as (about a century); longer values are clamped to it, never
    /// trapped on. How long a delay is then honoured is the caller's decision (see `RenewalPolicy`).
    package static let maximum: Duration = .seconds(maximumSeconds)
    static let maximumSeconds: Int64 = 3_155_760_000

    /// The delay that `value` asks for relative to `now`, at most ``maximum``; zero for dates in the past, nil
    /// when unparsable.
    package static func parse(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingASCIISpaces()
        if !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // Digits beyond Int64 are a very long delay, not an unparsable one.
            return .seconds(min(Int64(trimmed) ?? maximumSeconds, maximumSeconds))
        }
        guard let date = parseHTTPDate(trimmed) else { return nil }
        let interval = date.timeIntervalSince(now)
        guard interval > 0 else { return .zero }
        return .seconds(Int64(min(interval.rounded(.up), Double(maximumSeconds))))
    }

    /// Parses IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 and asctime forms.
    package static func parseHTTPDate(_ text: String) -> Date? {
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
