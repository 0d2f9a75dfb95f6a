/// File modes as written in `[install] mode = "0640"`.
package enum FileModeSyntax {
    /// Parses an octal mode string: `"0640"`, `"640"` or `"0o640"`, at most `07777`. Nil when it is not octal.
    package static func parse(_ text: String) -> UInt16? {
        var digits = Substring(text)
        if digits.hasPrefix("0o") || digits.hasPrefix("0O") { digits = digits.dropFirst(2) }
        guard (3...4).contains(digits.count), digits.allSatisfy({ ("0"..."7").contains($0) }),
            let value = UInt16(digits, radix: 8), value <= 0o7777
        else { return nil }
        return value
    }

    /// The largest mode a key may be installed with: permission bits only, no setuid, setgid or sticky bit.
    package static let maximumKeyMode: UInt16 = 0o777

    /// `0o640` -> `"0640"`.
    package static func format(_ mode: UInt16) -> String {
        let octal = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - octal.count)) + octal
    }
}
