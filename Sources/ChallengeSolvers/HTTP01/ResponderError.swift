#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A built-in challenge responder (http-01 or tls-alpn-01) could not do what was asked.
package struct ResponderError: Error, Hashable, CustomStringConvertible {
    /// A short, stable classification.
    package enum Kind: String, Sendable, Hashable {
        case badAddress
        case bindFailed
        case conflictingChallenge
        case unsupportedIdentifier
        case certificateGeneration
    }

    /// The classification.
    package var kind: Kind
    /// The complete message: where, what and what to do.
    package var description: String

    static func badAddress(_ text: String) -> Self {
        Self(
            kind: .badAddress,
            description: "listen address \(text.debugDescription) is not IPV4:PORT or [IPV6]:PORT "
                + "(e.g. 0.0.0.0:80, [::]:80, 127.0.0.1:5002); fix the listen setting of the built-in responder"
        )
    }

    static func bindFailed(_ protocolName: String, address: ListenAddress, errno code: Int32?, underlying: String)
        -> Self
    {
        var message = "\(protocolName) responder cannot listen on \(address): "
        if let code {
            message += String(cString: strerror(code))
        } else {
            message += underlying
        }
        if code == EADDRINUSE {
            message += "; another process already listens there (a web server?): stop it, or use the webroot "
            message += "solver, or pick another address"
        } else if code == EADDRNOTAVAIL {
            message += "; the address is not configured on this host"
        }
        if address.port < 1024 {
            message += "; binding port \(address.port) needs CAP_NET_BIND_SERVICE (systemd: "
            message += "AmbientCapabilities=CAP_NET_BIND_SERVICE)"
        }
        return Self(kind: .bindFailed, description: message)
    }
}
