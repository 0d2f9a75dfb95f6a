/// An IP address and port a built-in responder listens on: `127.0.0.1:5002`, `[::1]:80`, `0.0.0.0:80`, `[::]:443`.
///
/// Port 0 asks the kernel for an ephemeral port (tests); the pools report the port actually bound.
package struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The IP address literal, without brackets.
    package var host: String
    /// The TCP port.
    package var port: Int

    /// Parses `HOST:PORT` (IPv4) or `[HOST]:PORT` (IPv6).
    ///
    /// - Throws: ``ResponderError`` when the text is not of that form.
    package init(_ text: String) throws {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ResponderError.badAddress(text)
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw ResponderError.badAddress(text)
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, portText.allSatisfy(\.isASCII), let port = Int(portText), (0...65535).contains(port)
        else {
            throw ResponderError.badAddress(text)
        }
        self.host = String(host)
        self.port = port
    }

    /// `host:port`, with brackets around IPv6 hosts.
    package var description: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }
}
