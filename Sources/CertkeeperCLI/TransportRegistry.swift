import ACMEClient
import CertkeeperConfig
import Foundation
import HTTPTransportAHC
import Synchronization

/// Every AsyncHTTPClient transport the daemon created, so shutdown can close them all.
///
/// An `HTTPClient` that is released without `shutdown()` traps ("Client not shut down before the deinit"), which
/// turned `systemctl stop` into a crash; the daemon shuts every transport down before it exits.
final class TransportRegistry: Sendable {
    private let transports = Mutex<[AsyncHTTPClientTransport]>([])

    /// Creates a transport trusting `trustRootsPEMFile` in addition to the system roots, through `proxy` if given,
    /// and records it.
    func make(trustRootsPEMFile: String?, proxy: HTTPProxy? = nil) throws -> AsyncHTTPClientTransport {
        let transport = try AsyncHTTPClientTransport(
            trustRootsPEMFile: trustRootsPEMFile,
            proxy: proxy.map {
                ProxyServer(host: $0.host, port: $0.port, username: $0.username, password: $0.password)
            })
        transports.withLock { $0.append(transport) }
        return transport
    }

    /// A transport for `ca`: its trust roots, and the proxy `policy` chooses for its directory's host.
    func make(for ca: CASettings, policy: ProxyPolicy) throws -> AsyncHTTPClientTransport {
        let host = URLComponents(string: ca.directoryURL)?.host ?? ""
        return try make(trustRootsPEMFile: ca.trustRootsFile, proxy: policy.proxy(forHost: host, configured: ca.proxy))
    }

    /// Shuts every recorded transport down (in-flight requests fail) and forgets them.
    func shutdownAll() async {
        let all = transports.withLock { list in
            defer { list.removeAll() }
            return list
        }
        for transport in all {
            try? await transport.shutdown()
        }
    }
}

extension TransportRegistry {
    /// One transport for DNS provider APIs (system trust roots), made on the first call and shared after it.
    func sharedAPITransport() -> @Sendable () throws -> any HTTPTransport {
        let made = Mutex<AsyncHTTPClientTransport?>(nil)
        return { [self] in
            try made.withLock { transport in
                if let transport { return transport }
                let created = try make(trustRootsPEMFile: nil)
                transport = created
                return created
            }
        }
    }
}
