/// Durations as written in config: `"30d"`, `"12h"`, `"90m"`, `"45s"`, `"1w"` and combinations like `"1d12h"`.
package enum DurationSyntax {
    private static let unitSeconds: [Character: Int64] = ["w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1]

    /// The number of seconds in `text`, or nil when it is not a duration.
    ///
    /// Units are `w`, `d`, `h`, `m`, `s`; each may appear once, largest first (`"1d12h"`, not `"12h1d"`).
    /// `"0s"` is 0. A bare number without a unit is rejected, as is anything that overflows.
    package static func seconds(from text: String) -> Int64? {
        let order: [Character] = ["w", "d", "h", "m", "s"]
        var total: Int64 = 0
        var digits = ""
        var lastUnitIndex = -1
        var sawUnit = false
        for character in text {
            if character.isASCII && character.isNumber {
                digits.append(character)
                continue
            }
            guard let perUnit = unitSeconds[character], let unitIndex = order.firstIndex(of: character),
                unitIndex > lastUnitIndex, !digits.isEmpty, digits.count <= 12, let amount = Int64(digits)
            else { return nil }
            let (product, overflow1) = amount.multipliedReportingOverflow(by: perUnit)
            let (sum, overflow2) = total.addingReportingOverflow(product)
            guard !overflow1, !overflow2 else { return nil }
            total = sum
            digits = ""
            lastUnitIndex = unitIndex
            sawUnit = true
        }
        return sawUnit && digits.isEmpty ? total : nil
    }

    /// Formats seconds back into the largest units (`129600` -> `"1d12h"`), for messages.
    package static func format(seconds: Int64) -> String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var out = ""
        for unit: Character in ["d", "h", "m", "s"] {
            let size = unitSeconds[unit]!
            if rest >= size {
                out += "\(rest / size)\(unit)"
                rest %= size
            }
        }
        return out
    }
}
