import Foundation

/// A DNS server as `host:port`: `127.0.0.1:5353`, `[::1]:53`, `ns1.example.com` (port 53 by default).
package struct DNSServerAddress: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: UInt16

    package init(host: String, port: UInt16 = 53) {
        self.host = host
        self.port = port
    }

    /// Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal.
    package init(_ text: String, defaultPort: UInt16 = 53) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        func port(_ raw: Substring) throws -> UInt16 {
            guard let value = UInt16(raw), value != 0 else {
                throw DNSClientError.badServerAddress(text: text, reason: "port \"\(raw)\" is not 1-65535")
            }
            return value
        }
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else {
                throw DNSClientError.badServerAddress(text: text, reason: "missing ]")
            }
            host = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
            let rest = trimmed[trimmed.index(after: close)...]
            if rest.isEmpty {
                self.port = defaultPort
            } else {
                guard rest.hasPrefix(":") else {
                    throw DNSClientError.badServerAddress(text: text, reason: "expected :port after ]")
                }
                self.port = try port(rest.dropFirst())
            }
        } else if trimmed.filter({ $0 == ":" }).count == 1, let colon = trimmed.firstIndex(of: ":") {
            host = String(trimmed[..<colon])
            self.port = try port(trimmed[trimmed.index(after: colon)...])
        } else {
            host = trimmed
            self.port = defaultPort
        }
        guard !host.isEmpty else { throw DNSClientError.badServerAddress(text: text, reason: "empty host") }
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
