/// The HTTP proxy a transport sends through (CONNECT for https:// URLs), with optional Basic credentials.
package struct ProxyServer: Sendable, Hashable {
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
}
