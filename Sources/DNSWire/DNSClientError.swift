/// Transport failures talking to a DNS server; each names the server.
package enum DNSClientError: Error, Sendable, Hashable, CustomStringConvertible {
    case badServerAddress(text: String, reason: String)
    case cannotResolve(server: DNSServerAddress, reason: String)
    /// No matching response after `attempts` tries of `timeout` each.
    case timedOut(server: DNSServerAddress, attempts: Int, timeout: Duration)
    case io(server: DNSServerAddress, operation: String, errno: Int32, reason: String)
    /// The response is not a valid answer to the query (ID, question or format mismatch).
    case badResponse(server: DNSServerAddress, reason: String)

    package var description: String {
        switch self {
        case .badServerAddress(let text, let reason): return "bad DNS server address \"\(text)\": \(reason)"
        case .cannotResolve(let server, let reason): return "cannot resolve DNS server \(server): \(reason)"
        case .timedOut(let server, let attempts, let timeout):
            return "DNS server \(server) did not answer (\(attempts) attempts, \(timeout) each)"
        case .io(let server, let operation, let errno, let reason):
            return "DNS server \(server): \(operation) failed: \(reason) (errno \(errno))"
        case .badResponse(let server, let reason): return "DNS server \(server) sent a bad response: \(reason)"
        }
    }
}
