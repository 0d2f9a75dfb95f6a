import ACMECrypto
import ACMEModels
import Foundation
import Logging

/// An RFC 8555 client for one CA directory over an injected ``HTTPTransport``.
///
/// It caches the directory, keeps a pool of nonces (newest first) and signs every POST. What happens after a failed
/// request is ``FailureClassifier``'s decision: `badNonce` is retried at once with the nonce from the error for up to
/// 30 s, transient faults (5xx, dropped, refused or timed-out connections, a short `Retry-After`) after a growing
/// delay on a new connection; everything else is thrown as `ACMEProblem` or ``ACMEClientError`` for the renewal
/// engine to classify. Waiting goes through the injected `sleeper` and time through `now`, so tests never sleep.
package actor ACMEClient {
    /// How the client waits (retries, polling). Tests inject a recorder.
    package typealias Sleeper = @Sendable (Duration) async throws -> Void

    package nonisolated let directoryURL: String
    let transport: any HTTPTransport
    let logger: Logger
    let userAgent: String
    let sleeper: Sleeper
    let now: @Sendable () -> Date
    let observer: (any ACMERequestObserver)?

    var cachedDirectory: ACMEDirectory?
    /// The directory request in flight, which callers meanwhile wait for instead of sending their own: the eight
    /// attempts a reload starts at once each fetched the directory (eight requests for one document).
    private var directoryFetch: Task<ACMEDirectory, any Error>?
    /// Counts ``forgetDirectory()`` calls: a fetch started before one neither caches its answer nor clears a newer
    /// fetch.
    private var directoryGeneration = 0
    var nonces: [String] = []

    static let maxNoncePool = 8

    /// - Parameters:
    ///   - directoryURL: The CA's directory URL.
    ///   - transport: The HTTP transport.
    ///   - logger: Receives request-level debug logs (never payloads or keys).
    ///   - userAgent: Sent on every request (RFC 8555 §6.1 requires one).
    ///   - sleeper: Waits for retries and polls; defaults to `Task.sleep`.
    ///   - now: The clock used to turn HTTP-date `Retry-After` values into delays.
    ///   - observer: Told about every exchange (metrics).
    package init(
        directoryURL: String,
        transport: any HTTPTransport,
        logger: Logger = Logger(label: "certkeeper.acme"),
        userAgent: String = "certkeeper/0.1",
        sleeper: @escaping Sleeper = { try await Task.sleep(for: $0) },
        now: @escaping @Sendable () -> Date = { Date() },
        observer: (any ACMERequestObserver)? = nil
    ) {
        self.observer = observer
        self.directoryURL = directoryURL
        self.transport = transport
        self.logger = logger
        self.userAgent = userAgent
        self.sleeper = sleeper
        self.now = now
    }

    /// The directory, fetched once and cached; callers asking while it is being fetched wait for that one request.
    ///
    /// A caller cancelled while waiting cancels the request (as when it sent its own); the others then fetch again,
    /// so one attempt's cancellation (its deadline) is not every attempt's error.
    package func directory() async throws -> ACMEDirectory {
        while true {
            if let cachedDirectory { return cachedDirectory }
            // Cancelled already: fails here, as its own request did, without cancelling the others' request.
            try Task.checkCancellation()
            let fetch: Task<ACMEDirectory, any Error>
            if let directoryFetch {
                fetch = directoryFetch
            } else {
                let generation = directoryGeneration
                fetch = Task { try await self.fetchDirectory(generation: generation) }
                directoryFetch = fetch
            }
            do {
                return try await withTaskCancellationHandler {
                    try await fetch.value
                } onCancel: {
                    fetch.cancel()
                }
            } catch {
                // Cancelled for another caller: this one asks again (a new request, or one another caller started).
                guard fetch.isCancelled, !Task.isCancelled else { throw error }
            }
        }
    }

    /// One directory request; caches the answer unless the directory was forgotten since the fetch started.
    private func fetchDirectory(generation: Int) async throws -> ACMEDirectory {
        defer { if directoryGeneration == generation { directoryFetch = nil } }
        let response = try await send(HTTPRequestData(method: "GET", url: directoryURL, endpoint: .directory))
        try Self.checkSuccess(response, url: directoryURL, now: now())
        let directory = try decode(ACMEDirectory.self, response, url: directoryURL)
        if directoryGeneration == generation { cachedDirectory = directory }
        return directory
    }

    /// Forgets the cached directory, so the next request fetches it again (a reload: a CA may have added
    /// profiles or renewalInfo since).
    package func forgetDirectory() {
        cachedDirectory = nil
        // Its callers ask again (a new request), as a caller asking from now on does.
        directoryFetch?.cancel()
        directoryFetch = nil
        directoryGeneration += 1
    }

    // MARK: - Nonces

    func takeNonce() async throws -> String {
        if let nonce = nonces.popLast() { return nonce }
        let url = try await directory().newNonce
        let response = try await send(HTTPRequestData(method: "HEAD", url: url, endpoint: .newNonce))
        guard (200..<300).contains(response.status), let nonce = Self.validNonce(response) else {
            throw ACMEClientError.invalidResponse(
                url: url, reason: "newNonce gave HTTP \(response.status) without Replay-Nonce")
        }
        // send() already put this nonce in the pool; it is used now, so it must not be handed out a second time.
        nonces.removeAll { $0 == nonce }
        return nonce
    }

    func remember(_ response: HTTPResponseData) {
        guard let nonce = Self.validNonce(response) else { return }
        nonces.append(nonce)
        if nonces.count > Self.maxNoncePool { nonces.removeFirst(nonces.count - Self.maxNoncePool) }
    }

    static func validNonce(_ response: HTTPResponseData) -> String? {
        guard let nonce = response.header("Replay-Nonce")?.trimmingASCIISpaces(),
            TokenValidation.isBase64URLToken(nonce)
        else { return nil }
        return nonce
    }

    // MARK: - Requests

    /// A signed POST. `payload` empty means POST-as-GET. With `kid` nil the header carries the key's `jwk`.
    func post(
        url: String,
        endpoint: ACMEEndpoint,
        payload: [UInt8],
        key: SigningKey,
        kid: String?,
        accept: String? = nil,
        resendable: Bool = true,
        acceptStatus: (Int) -> Bool = { (200..<300).contains($0) }
    ) async throws -> HTTPResponseData {
        var budget = FailureClassifier.RequestBudget(started: now())
        var nonceFromError: String?
        var freshConnection = false
        while true {
            // Nothing is sent for an attempt that was cancelled (shutdown, its deadline).
            try Task.checkCancellation()
            let nonce: String
            if let fromError = nonceFromError {
                nonce = fromError
                nonceFromError = nil
            } else {
                nonce = try await takeNonce()
            }
            var header: [String: JSONValue] = ["nonce": .string(nonce), "url": .string(url)]
            if let kid { header["kid"] = .string(kid) } else { header["jwk"] = key.publicJWK.jsonValue }
            let body = try JWS.sign(protected: header, payload: payload, key: key)
            var headers = [("Content-Type", "application/jose+json"), ("Content-Length", String(body.count))]
            if let accept { headers.append(("Accept", accept)) }
            let response: HTTPResponseData
            do {
                response = try await transportSend(
                    HTTPRequestData(
                        method: "POST", url: url, headers: headers, body: body, freshConnection: freshConnection,
                        endpoint: endpoint),
                    budget: &budget, resendable: resendable)
            } catch let error as TransportRetry {
                // The signed request may have used its nonce: the next try signs again with another.
                freshConnection = true
                try await sleeper(error.delay)
                continue
            }
            freshConnection = false
            if acceptStatus(response.status) { return response }
            let problem = Self.problem(in: response, url: url, now: now())
            switch FailureClassifier.request(response: response, problem: problem, budget: budget, now: now()) {
            case .retryRequestNow:
                budget.badNonceRetries += 1
                if let fresh = Self.validNonce(response) {
                    nonces.removeAll { $0 == fresh }
                    nonceFromError = fresh
                }
                logger.debug("badNonce, retrying", metadata: ["url": "\(url)", "retry": "\(budget.badNonceRetries)"])
                let pause = FailureClassifier.badNonceDelay(retry: budget.badNonceRetries)
                if pause > .zero { try await sleeper(pause) }
            case .retryRequestAfter(let delay):
                budget.transientFaults += 1
                logger.debug(
                    "transient HTTP status, retrying",
                    metadata: ["url": "\(url)", "status": "\(response.status)", "delay": "\(delay)"])
                try await sleeper(delay)
            case .retryAttemptSoon, .backOff, .waitForReload:
                try Self.checkSuccess(response, url: url, now: now())
                return response
            }
        }
    }

    /// An unsigned request with transient-fault retries (directory, newNonce, ARI).
    func send(_ request: HTTPRequestData) async throws -> HTTPResponseData {
        var budget = FailureClassifier.RequestBudget(started: now())
        var request = request
        while true {
            try Task.checkCancellation()
            let response: HTTPResponseData
            do {
                response = try await transportSend(request, budget: &budget)
            } catch let error as TransportRetry {
                request.freshConnection = true
                try await sleeper(error.delay)
                continue
            }
            request.freshConnection = false
            guard !(200..<300).contains(response.status) else { return response }
            let problem = Self.problem(in: response, url: request.url, now: now())
            guard
                case .retryRequestAfter(let delay) = FailureClassifier.request(
                    response: response, problem: problem, budget: budget, now: now())
            else { return response }
            budget.transientFaults += 1
            try await sleeper(delay)
        }
    }

    /// Thrown by ``transportSend(_:budget:)`` when the classifier retries a request that got no response.
    private struct TransportRetry: Error {
        var delay: Duration
    }

    /// One transport call; nonces are harvested from the response. A transport failure the classifier retries
    /// comes back as ``TransportRetry`` (the budget counted), any other as ``ACMEClientError/transport(_:attempts:)``.
    private func transportSend(
        _ request: HTTPRequestData, budget: inout FailureClassifier.RequestBudget, resendable: Bool = true
    ) async throws -> HTTPResponseData {
        var request = request
        request.headers.append(("User-Agent", userAgent))
        let started = ContinuousClock.now
        do {
            let response = try await transport.send(request)
            if let observer, let endpoint = request.endpoint {
                observer.observe(endpoint: endpoint, status: response.status, duration: ContinuousClock.now - started)
            }
            logger.debug(
                "ACME request",
                metadata: ["method": "\(request.method)", "url": "\(request.url)", "status": "\(response.status)"])
            remember(response)
            return response
        } catch let error as HTTPTransportError {
            if let observer, let endpoint = request.endpoint {
                observer.observe(endpoint: endpoint, status: nil, duration: ContinuousClock.now - started)
            }
            let disposition = FailureClassifier.request(
                transportError: error, budget: budget, resendable: resendable)
            budget.transientFaults += 1
            guard case .retryRequestAfter(let delay) = disposition else {
                throw ACMEClientError.transport(error, attempts: budget.transientFaults)
            }
            logger.debug(
                "transport error, retrying on a new connection",
                metadata: ["url": "\(request.url)", "error": "\(error)", "delay": "\(delay)"])
            throw TransportRetry(delay: delay)
        }
    }

    // MARK: - Response helpers

    static func problem(in response: HTTPResponseData, url: String, now: Date) -> ACMEProblem? {
        guard response.status >= 400, !response.body.isEmpty,
            var problem = try? ACMEJSON.decode(ACMEProblem.self, from: response.body),
            problem.type.rawValue != "about:blank" || response.mediaType == "application/problem+json"
        else { return nil }
        if problem.status == nil { problem.status = response.status }
        problem.retryAfter = response.header("Retry-After").flatMap { RetryAfter.parse($0, now: now) }
        problem.requestURL = url
        return problem
    }

    static func checkSuccess(_ response: HTTPResponseData, url: String, now: Date) throws {
        guard !(200..<300).contains(response.status) else { return }
        if let problem = problem(in: response, url: url, now: now) { throw problem }
        throw ACMEClientError.unexpectedStatus(
            url: url, status: response.status, body: String(response.bodyText.prefix(200)))
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: HTTPResponseData, url: String) throws -> T {
        do {
            return try ACMEJSON.decode(type, from: response.body)
        } catch {
            throw ACMEClientError.invalidResponse(url: url, reason: "cannot decode \(T.self): \(error)")
        }
    }

    func location(_ response: HTTPResponseData, url: String) throws -> String {
        guard let location = response.header("Location")?.trimmingASCIISpaces(), !location.isEmpty else {
            throw ACMEClientError.invalidResponse(url: url, reason: "HTTP \(response.status) without a Location header")
        }
        return LinkHeader.resolve(location, base: url)
    }

    func retryAfter(_ response: HTTPResponseData) -> Duration? {
        response.header("Retry-After").flatMap { RetryAfter.parse($0, now: now()) }
    }
}
