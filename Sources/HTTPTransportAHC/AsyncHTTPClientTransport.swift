public import ACMEClient
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
/// Call ``shutdown()`` before dropping the transport.
public final class AsyncHTTPClientTransport: HTTPTransport {
    private let client: HTTPClient
    private let timeout: Duration
    /// The largest response body accepted (certificate chains and JSON are far smaller).
    public static let maxBodyBytes = 4 * 1024 * 1024

    /// - Parameters:
    ///   - trustRootsPEMFile: A PEM file of CA certificates trusted in addition to the system roots (e.g. a test CA).
    ///   - timeout: Per-request deadline, also used as the connect timeout.
    public init(trustRootsPEMFile: String? = nil, timeout: Duration = .seconds(30)) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trustRootsPEMFile {
            tls.additionalTrustRoots = [.file(trustRootsPEMFile)]
        }
        let seconds = Int64(timeout.components.seconds)
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(max(1, seconds)), read: .seconds(max(1, seconds)))
        )
        configuration.decompression = .disabled
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.timeout = timeout
    }

    public func send(_ request: HTTPRequestData) async throws -> HTTPResponseData {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if !request.body.isEmpty || request.method == "POST" {
            outgoing.body = .bytes(request.body)
        }
        do {
            let response = try await client.execute(outgoing, timeout: .seconds(Int64(timeout.components.seconds)))
            let body = try await response.body.collect(upTo: Self.maxBodyBytes)
            return HTTPResponseData(
                status: Int(response.status.code),
                headers: response.headers.map { ($0.name, $0.value) },
                body: Array(buffer: body)
            )
        } catch let error as HTTPTransportError {
            throw error
        } catch {
            throw HTTPTransportError(kind: Self.classify(error), url: request.url, message: "\(error)")
        }
    }

    /// Shuts the underlying HTTP client down.
    public func shutdown() async throws {
        try await client.shutdown()
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
