/// Which proxy, if any, a request to a CA goes through: the CA's `proxy`, else `[defaults] proxy`, else
/// `HTTPS_PROXY` / `https_proxy` from the environment (systemd `Environment=`) unless `NO_PROXY` / `no_proxy` names
/// the host. Pure: the environment is a parameter.
package struct ProxyPolicy: Sendable, Hashable {
    /// `[defaults] proxy`.
    package var defaultProxy: HTTPProxy?
    /// The environment's proxy for https:// URLs, nil when unset or unreadable.
    package var environmentProxy: HTTPProxy?
    /// NO_PROXY entries, lowercased: host names (a leading dot or none: the name and its subdomains), addresses, `*`.
    package var noProxy: [String]
    /// Why HTTPS_PROXY from the environment is not used although it is set (the daemon logs it; never the value).
    package var environmentProblem: String?

    package init(defaultProxy: HTTPProxy? = nil, environment: [String: String]) {
        self.defaultProxy = defaultProxy
        let variable = environment["HTTPS_PROXY"] != nil ? "HTTPS_PROXY" : "https_proxy"
        environmentProxy = nil
        environmentProblem = nil
        if let value = environment[variable], !value.isEmpty {
            switch HTTPProxy.parse(value) {
            case .success(let proxy): environmentProxy = proxy
            case .failure(let problem):
                environmentProblem = "\(variable) in the environment \(problem.message); connecting to CAs directly"
            }
        }
        noProxy = (environment["NO_PROXY"] ?? environment["no_proxy"] ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    /// The proxy for a request to `host` with the CA's own setting `configured`.
    package func proxy(forHost host: String, configured: HTTPProxy?) -> HTTPProxy? {
        if let configured { return configured }
        if let defaultProxy { return defaultProxy }
        guard let environmentProxy, !bypasses(host) else { return nil }
        return environmentProxy
    }

    /// True when NO_PROXY names `host` (case-insensitive; ports in entries are ignored).
    package func bypasses(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        for entry in noProxy {
            if entry == "*" { return true }
            var pattern = entry
            if pattern.hasPrefix("["), let close = pattern.firstIndex(of: "]") {
                pattern = String(pattern[pattern.index(after: pattern.startIndex)..<close])
            } else if pattern.filter({ $0 == ":" }).count == 1, let colon = pattern.lastIndex(of: ":") {
                pattern = String(pattern[..<colon])
            }
            if pattern.hasPrefix("*.") { pattern.removeFirst() }
            if pattern.hasPrefix(".") {
                if name.hasSuffix(pattern) || name == String(pattern.dropFirst()) { return true }
            } else if name == pattern || name.hasSuffix("." + pattern) {
                return true
            }
        }
        return false
    }
}
