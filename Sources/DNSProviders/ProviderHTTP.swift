import ACMEClient
import ACMEModels
import Foundation

/// Sends a provider's API requests and turns failures into ``DNSProviderError``s that never carry a secret.
package struct ProviderHTTP: Sendable {
    package var transport: any HTTPTransport
    package var provider: String
    /// The API base URL, named in errors.
    package var endpoint: String
    /// Every secret the requests carry; removed from any text an error quotes.
    package var secrets: [String]
    /// Pauses between attempts (tests pass one that returns at once).
    package var sleep: @Sendable (Duration) async throws -> Void

    /// Attempts per request: a 5xx answer or a dropped connection is tried again after 0.5 s, then 1 s.
    package static let attempts = 3

    package init(
        transport: any HTTPTransport, provider: String, endpoint: String, secrets: [String],
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.transport = transport
        self.provider = provider
        self.endpoint = endpoint
        self.secrets = secrets.filter { !$0.isEmpty }
        self.sleep = sleep
    }

    /// Sends one request; a failure below HTTP becomes a ``DNSProviderError`` for `action`.
    ///
    /// A GET that meets a server error (5xx) or a transient connection failure is sent again, up to ``attempts``
    /// times in all. Changes are not: their retries go through ``retryingChange(_:)``, which reads first.
    package func send(
        _ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8] = [], action: String,
        zone: String? = nil
    ) async throws -> HTTPResponseData {
        var attempt = 1
        let repeatable = method == "GET"
        while true {
            let request = HTTPRequestData(
                method: method, url: url, headers: headers, body: body, freshConnection: attempt > 1)
            do {
                let response = try await transport.send(request)
                guard repeatable, response.status >= 500, attempt < Self.attempts else { return response }
            } catch let error as HTTPTransportError where repeatable && error.isTransient && attempt < Self.attempts {
                // tried again below
            } catch {
                throw DNSProviderError(
                    provider: provider, endpoint: endpoint, action: action, zone: zone, detail: scrub("\(error)"),
                    hint: "check that api_url is right and the API is reachable from this host",
                    isTransient: (error as? HTTPTransportError)?.isTransient ?? false)
            }
            try await sleep(.milliseconds(500 * attempt))
            attempt += 1
        }
    }

    /// Runs `change` (which reads the records, then writes) until it succeeds or fails for good: a transient failure
    /// (PowerDNS answers 500 while its SQLite database is busy; a dropped connection) is tried again after 0.5 s,
    /// then 1 s. Each try reads again, so a write that went through before its answer was lost is not repeated.
    package func retryingChange(_ change: () async throws -> Void) async throws {
        var attempt = 1
        while true {
            do {
                try await change()
                return
            } catch let error as DNSProviderError where error.isTransient && attempt < Self.attempts {
                try await sleep(.milliseconds(500 * attempt))
                attempt += 1
            }
        }
    }

    /// The error for a response whose status is not what the call expects.
    package func failure(
        _ response: HTTPResponseData, action: String, zone: String? = nil, message: String? = nil, hint: String
    ) -> DNSProviderError {
        let text = message ?? response.bodyText
        return DNSProviderError(
            provider: provider, endpoint: endpoint, action: action, zone: zone, status: response.status,
            detail: scrub(text), hint: hint, isTransient: response.status >= 500 || response.status == 429)
    }

    /// `text` sanitised for a log line, cut to 300 bytes, with every secret replaced by `[redacted]`.
    package func scrub(_ text: String) -> String {
        var clean = text
        for secret in secrets { clean = clean.replacingOccurrences(of: secret, with: "[redacted]") }
        return UntrustedText.sanitized(clean.trimmingCharacters(in: .whitespacesAndNewlines), maxBytes: 300)
    }
}

extension HTTPResponseData {
    /// True for 2xx.
    package var succeeded: Bool { (200..<300).contains(status) }
}
