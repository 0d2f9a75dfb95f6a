import ACMEClient
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// ``HTTPTransport`` over AsyncHTTPClient: system trust roots plus optional extra PEM roots, no redirects.
///
/// Requests go over pooled keep-alive connections, except those marked `freshConnection` (retries after a dropped,
/// refused or timed-out connection): they go through a second client that uses each connection once, so a retry
/// never meets the connection the server just dropped, nor another pooled one it closed meanwhile.
///
/// Call ``shutdown()`` before dropping the transport.
package final class AsyncHTTPClientTransport: HTTPTransport {
    private let client: HTTPClient
    private let freshClient: HTTPClient
    private let timeout: Duration
    /// The largest response body accepted (certificate chains and JSON are far smaller).
    package static let maxBodyBytes = 4 * 1024 * 1024

    /// - Parameters:
    ///   - trustRootsPEMFile: A PEM file of CA certificates trusted in addition to the system roots (e.g. a test CA).
    ///     When the system has no CA bundle (a bare container), these are the only roots.
    ///   - timeout: Per-request deadline, also used as the connect timeout.
    /// - Throws: ``TrustRootsFileError`` at once when `trustRootsPEMFile` cannot be read or holds no PEM certificate.
    ///   - proxy: An HTTP proxy every request goes through (HTTPS with CONNECT); nil connects directly.
    package init(
        trustRootsPEMFile: String? = nil, timeout: Duration = .seconds(30), proxy: ProxyServer? = nil
    ) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trustRootsPEMFile {
            let roots = try Self.loadTrustRoots(pemFile: trustRootsPEMFile)
            switch Self.trustRootsPlan(configured: true, systemBundleAvailable: Self.systemBundleAvailable()) {
            case .systemPlusConfigured:
                tls.trustRoots = .default
                tls.additionalTrustRoots = [.certificates(roots)]
            case .configuredOnly, .system:
                tls.trustRoots = .certificates(roots)
            }
        }
        let seconds = Int64(timeout.components.seconds)
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(max(1, seconds)), read: .seconds(max(1, seconds)))
        )
        configuration.decompression = .disabled
        if let proxy {
            configuration.proxy = .server(
                host: proxy.host, port: proxy.port,
                authorization: proxy.username.map { .basic(username: $0, password: proxy.password ?? "") })
        }
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        configuration.maximumUsesPerConnection = 1
        self.freshClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.timeout = timeout
    }

    package func send(_ request: HTTPRequestData) async throws -> HTTPResponseData {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if !request.body.isEmpty || request.method == "POST" {
            outgoing.body = .bytes(request.body)
        }
        do {
            let response = try await (request.freshConnection ? freshClient : client).execute(
                outgoing, timeout: .seconds(Int64(timeout.components.seconds)))
            // Read chunk by chunk rather than with `collect(upTo:)`, whose generic path made a dynamic cast to a
            // constrained existential per response: a conformance scan that was 14% of all the instructions of
            // issuing a certificate.
            var body: [UInt8] = []
            for try await chunk in response.body {
                guard body.count + chunk.readableBytes <= Self.maxBodyBytes else {
                    throw NIOTooManyBytesError(maxBytes: Self.maxBodyBytes)
                }
                body.append(contentsOf: chunk.readableBytesView)
            }
            return HTTPResponseData(
                status: Int(response.status.code),
                headers: response.headers.map { ($0.name, $0.value) },
                body: body
            )
        } catch let error as HTTPTransportError {
            throw error
        } catch {
            throw HTTPTransportError(kind: Self.classify(error), url: request.url, message: "\(error)")
        }
    }

    /// Shuts the underlying HTTP client down.
    package func shutdown() async throws {
        // Both, even when the first fails (an HTTPClient not shut down traps in deinit in debug builds).
        var firstError: (any Error)?
        do { try await client.shutdown() } catch { firstError = error }
        try await freshClient.shutdown()
        if let firstError { throw firstError }
    }

    /// Which roots the TLS configuration trusts.
    enum TrustRootsPlan: Equatable {
        /// The system bundle only (no roots configured).
        case system
        /// The system bundle plus the configured PEM roots.
        case systemPlusConfigured
        /// Only the configured PEM roots: there is no system bundle, and NIOSSL's `.default` would fail every
        /// handshake (`unknownError([])`).
        case configuredOnly
    }

    static func trustRootsPlan(configured: Bool, systemBundleAvailable: Bool) -> TrustRootsPlan {
        guard configured else { return .system }
        return systemBundleAvailable ? .systemPlusConfigured : .configuredOnly
    }

    /// The places NIOSSL's `.default` trust roots load from on Linux (Debian/Ubuntu/Alpine file, RHEL/Fedora file,
    /// Debian hashed directory); `.default` works when any of them exists.
    static let systemBundleFiles = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
    static let systemBundleDirectories = ["/etc/ssl/certs"]

    static func systemBundleAvailable() -> Bool {
        #if os(Linux)
            return systemBundleFiles.contains { pathKind($0) == S_IFREG }
                || systemBundleDirectories.contains { pathKind($0) == S_IFDIR }
        #else
            return true
        #endif
    }

    private static func pathKind(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }

    /// Reads and parses `path` now, so a bad `trust_roots` file fails at start-up naming the file rather than as a
    /// TLS error at the first request.
    static func loadTrustRoots(pemFile path: String) throws -> [NIOSSLCertificate] {
        let bytes = try readFile(path)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw TrustRootsFileError(path: path, reason: "it is not a valid PEM certificate file (\(error))")
        }
        guard !certificates.isEmpty else {
            throw TrustRootsFileError(path: path, reason: "it holds no \"BEGIN CERTIFICATE\" block")
        }
        return certificates
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw TrustRootsFileError(path: path, reason: "cannot open it: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TrustRootsFileError(path: path, reason: "cannot read it: \(String(cString: strerror(errno)))")
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            guard bytes.count <= maxBodyBytes else {
                throw TrustRootsFileError(path: path, reason: "it is larger than \(maxBodyBytes) bytes")
            }
        }
    }

    static func classify(_ error: any Error) -> HTTPTransportError.Kind {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout:
                return .timeout
            case .remoteConnectionClosed:
                return .connectionReset
            default:
                break
            }
        }
        if error is NIOSSLError || error is BoringSSLError { return .tls }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return .connectionRefused
            case ECONNRESET, EPIPE: return .connectionReset
            case ETIMEDOUT: return .timeout
            default: return .other
            }
        }
        if error is ChannelError {
            let text = "\(error)".lowercased()
            if text.contains("refused") { return .connectionRefused }
            if text.contains("timeout") || text.contains("timed out") { return .timeout }
            if text.contains("reset") || text.contains("eof") { return .connectionReset }
            if text.contains("resolution") || text.contains("dns") { return .dns }
        }
        let text = "\(error)".lowercased()
        if text.contains("connection refused") { return .connectionRefused }
        if text.contains("reset by peer") { return .connectionReset }
        return .other
    }
}
