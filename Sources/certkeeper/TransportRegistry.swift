import Foundation
import HTTPTransportAHC

/// Every AsyncHTTPClient transport the daemon created, so shutdown can close them all.
///
/// An `HTTPClient` that is released without `shutdown()` traps ("Client not shut down before the deinit"), which
/// turned `systemctl stop` into a crash; the daemon shuts every transport down before it exits.
final class TransportRegistry: @unchecked Sendable {
    // Guarded by `lock` (Mutex needs macOS 15; the package supports 14).
    private let lock = NSLock()
    private var transports: [AsyncHTTPClientTransport] = []

    /// Creates a transport trusting `trustRootsPEMFile` in addition to the system roots, and records it.
    func make(trustRootsPEMFile: String?) throws -> AsyncHTTPClientTransport {
        let transport = try AsyncHTTPClientTransport(trustRootsPEMFile: trustRootsPEMFile)
        lock.withLock { transports.append(transport) }
        return transport
    }

    /// Shuts every recorded transport down (in-flight requests fail) and forgets them.
    func shutdownAll() async {
        let all = lock.withLock {
            defer { transports.removeAll() }
            return transports
        }
        for transport in all {
            try? await transport.shutdown()
        }
    }
}
