/// Text that a CA (or anything else certkeeper does not control) wrote: problem details, error bodies, names in
/// certificates. Made safe before it reaches a log line, `status`, the state file or a hook's environment.
package enum UntrustedText {
    /// The longest problem `detail` kept, in UTF-8 bytes.
    package static let detailLimit = 2048
    /// The longest error message stored as a certificate's last error or passed to a hook as `CERTKEEPER_ERROR`.
    package static let messageLimit = 4096

    /// `text` on one line and at most `maxBytes` UTF-8 bytes: control characters (C0, DEL, C1, line and
    /// paragraph separators, bidirectional overrides) become spaces; a longer text is cut at a character
    /// boundary and ends with `…`.
    package static func sanitized(_ text: String, maxBytes: Int) -> String {
        let ellipsis: Unicode.Scalar = "…"
        let room = max(maxBytes - UTF8.width(ellipsis), 0)
        var kept = String.UnicodeScalarView()
        var bytes = 0
        var cut: String.UnicodeScalarView?
        for scalar in text.unicodeScalars {
            let clean = isControl(scalar) ? " " : scalar
            let width = UTF8.width(clean)
            if cut == nil, bytes + width > room { cut = kept }
            bytes += width
            if bytes > maxBytes {
                var truncated = cut ?? kept
                if maxBytes >= UTF8.width(ellipsis) { truncated.append(ellipsis) }
                return String(truncated)
            }
            kept.append(clean)
        }
        return String(kept)
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
