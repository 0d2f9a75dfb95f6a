import Foundation

/// An outbound HTTP proxy for ACME traffic (`proxy = "http://[user:password@]host:port"`); HTTPS goes through it
/// with CONNECT. Never printed with its credentials (``description`` shows host and port only).
package struct HTTPProxy: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int
    package var username: String?
    package var password: String?

    package init(host: String, port: Int, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// `host:port`, without credentials.
    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses a proxy URL: `http://host:port` (port required), optional `user:password@`; the problem otherwise.
    /// A bare `host:port` (as some HTTPS_PROXY values are written) is read as `http://host:port`.
    package static func parse(_ text: String) -> Result<HTTPProxy, ProxyProblem> {
        let withScheme = text.contains("://") ? text : "http://" + text
        guard let components = URLComponents(string: withScheme), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else { return .failure(ProxyProblem("is not a URL like \"http://proxy.example.com:3128\"")) }
        guard scheme == "http" else {
            return .failure(
                ProxyProblem(
                    "uses \(scheme)://; only http:// proxies are supported (HTTPS goes through them with CONNECT)"))
        }
        guard let port = components.port, (1...65535).contains(port) else {
            return .failure(ProxyProblem("has no port; write it, e.g. \"http://\(host):3128\""))
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil
        else { return .failure(ProxyProblem("has a path, query or fragment; give only http://host:port")) }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return .success(
            HTTPProxy(
                host: bare, port: port, username: components.user?.removingPercentEncoding,
                password: components.password?.removingPercentEncoding))
    }
}

/// Why a proxy URL was refused (never quotes the URL, which may hold a password).
package struct ProxyProblem: Error, Sendable, Hashable {
    package var message: String
    package init(_ message: String) { self.message = message }
}
