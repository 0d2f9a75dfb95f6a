import Foundation

/// Syntax checks for names, addresses and paths found in config values.
enum NameSyntax {
    /// Spec, account, CA and credential names: `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`.
    static func isValidName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard (1...64).contains(scalars.count), isASCIIAlphanumeric(scalars[0]) else { return false }
        return scalars.allSatisfy { isASCIIAlphanumeric($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    static let nameRule = "1-64 characters: letters, digits, '.', '_', '-', starting with a letter or digit"

    static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9": return true
        default: return false
        }
    }

    /// Normalises `ops@example.com` or `mailto:ops@example.com` to `mailto:ops@example.com`; nil when invalid.
    static func mailtoContact(_ text: String) -> String? {
        var address = text.trimmingCharacters(in: .whitespaces)
        if address.lowercased().hasPrefix("mailto:") { address = String(address.dropFirst(7)) }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else { return nil }
        let forbidden = CharacterSet(charactersIn: " \t\r\n,;<>()[]\\\"?:")
        guard parts[0].unicodeScalars.allSatisfy({ $0.isASCII && !forbidden.contains($0) }),
            !parts[0].hasPrefix("."), !parts[0].hasSuffix("."), !parts[0].contains("..")
        else { return nil }
        let domain = parts[1].lowercased()
        guard domain.contains("."), dnsNameProblem(domain) == nil else { return nil }
        return "mailto:\(parts[0])@\(domain)"
    }

    /// Why `name` (already lowercased) is not a valid DNS name, or nil when it is. A leading `*.` is not allowed here.
    static func dnsNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "it is empty" }
        if name.hasSuffix(".") { return "remove the trailing dot" }
        if name.utf8.count > 253 { return "it is longer than 253 characters" }
        if !name.unicodeScalars.allSatisfy(\.isASCII) {
            return "it contains non-ASCII characters; write internationalised names in punycode (xn--...)"
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count == 4 && labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) || name.contains(":") {
            return
                "it is, or looks like, an IP address, not a DNS name (an IP address identifier in domains is written in standard form: 192.0.2.1, 2001:db8::1)"
        }
        for label in labels {
            if label.isEmpty { return "it has an empty label ('..')" }
            if label.count > 63 { return "the label '\(label)' is longer than 63 characters" }
            if label.contains("*") { return "'*' is allowed only as the whole leftmost label ('*.example.com')" }
            if !label.unicodeScalars.allSatisfy({ isASCIIAlphanumeric($0) || $0 == "-" }) {
                return "the label '\(label)' may contain only letters, digits and '-'"
            }
            if label.hasPrefix("-") || label.hasSuffix("-") {
                return "the label '\(label)' must not start or end with '-'"
            }
        }
        return nil
    }

    /// Splits `host:port`, `[v6]:port`, or (when `defaultPort` is given) a bare host / `[v6]` / IPv6 address.
    /// Returns the normalised `host:port` (`[v6]:port` for IPv6), or nil when invalid.
    static func hostPort(_ text: String, defaultPort: Int?) -> String? {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
            guard host.contains(":") else { return nil }
        } else if text.filter({ $0 == ":" }).count > 1 {
            guard defaultPort != nil else { return nil }  // a bare IPv6 address needs [brackets] to carry a port
            host = Substring(text)
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = Substring(text)
        }
        guard !host.isEmpty else { return nil }
        if host.contains(":") {
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            guard dnsNameProblem(String(host).lowercased()) == nil || isIPv4(host) else { return nil }
        }
        let port: Int
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed), portText.allSatisfy(\.isNumber) else {
                return nil
            }
            port = parsed
        } else if let defaultPort {
            port = defaultPort
        } else {
            return nil
        }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func isIPv4(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && Int($0).map { $0 <= 255 } == true }
    }

    private static let unitSuffixes = [
        "service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope",
    ]

    /// systemd unit names as accepted by `systemctl reload`: `[A-Za-z0-9@._:-]+` ending in a unit type suffix.
    static func isValidUnitName(_ name: String) -> Bool {
        guard name.count <= 255, let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        let suffix = name[name.index(after: dot)...]
        guard unitSuffixes.contains(String(suffix)) else { return false }
        return name.unicodeScalars.allSatisfy { isASCIIAlphanumeric($0) || "@._:-\\".unicodeScalars.contains($0) }
    }

    /// User or group as given to chown: a name or a numeric id.
    static func isValidOwner(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.count <= 32 else { return false }
        if text.allSatisfy(\.isNumber) { return UInt32(text) != nil }
        guard isASCIIAlphanumeric(first) || first == "_" else { return false }
        return text.unicodeScalars.enumerated().allSatisfy { index, scalar in
            isASCIIAlphanumeric(scalar) || scalar == "_" || scalar == "-" || scalar == "."
                || (scalar == "$" && index == text.unicodeScalars.count - 1)
        }
    }

    /// The https directory URL problem, or nil when `text` is an acceptable ACME directory URL.
    static func directoryURLProblem(_ text: String) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return "'\(text)' is not a URL"
        }
        guard scheme == "https" else {
            return "'\(text)' must use https:// (ACME requires HTTPS, also for local test servers like Pebble)"
        }
        guard let host = components.host, !host.isEmpty else { return "'\(text)' has no host" }
        return nil
    }
}
