/// Host names as ACME certificates carry them: letters, digits and `-` in labels of 1...63 characters, at most
/// 253 characters, optionally behind a leading `*.` (RFC 1123 §2.1, RFC 8555 §7.1.3).
package enum HostnameSyntax {
    /// Why `text` is not such a host name, or nil when it is.
    package static func problem(_ text: String) -> String? {
        let name = text.hasPrefix("*.") ? Substring(text.dropFirst(2)) : Substring(text)
        if name.isEmpty { return "it is empty" }
        if text.utf8.count > 253 { return "it is longer than 253 characters" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty { return "it has an empty label" }
            if label.utf8.count > 63 { return "a label is longer than 63 characters" }
            let allowed = label.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
            }
            if !allowed { return "a label contains a character other than a letter, digit or '-'" }
            if label.hasPrefix("-") || label.hasSuffix("-") { return "a label starts or ends with '-'" }
        }
        return nil
    }
}
