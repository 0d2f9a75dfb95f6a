import ACMECrypto
public import ACMEModels
public import Foundation
public import Logging

/// An RFC 8555 client for one CA directory over an injected ``HTTPTransport``.
///
/// It caches the directory, keeps a pool of nonces (newest first), signs every POST, retries `badNonce` with the
/// nonce from the error (at most ``maxBadNonceRetries`` times) and retries transient faults (5xx, refused/reset/timed
/// out connections, 429/503 with `Retry-After` up to ``maxTransientRetryAfter``) up to ``maxTransientAttempts`` times.
/// Every other failure is thrown as `ACMEProblem` or ``ACMEClientError``. Waiting goes through the injected `sleeper`,
/// so tests never sleep.
public actor ACMEClient {
    /// How the client waits (retries, polling). Tests inject a recorder.
    public typealias Sleeper = @Sendable (Duration) async throws -> Void

    public nonisolated let directoryURL: String
    let transport: any HTTPTransport
    let logger: Logger
    let userAgent: String
    let sleeper: Sleeper
    let now: @Sendable () -> Date

    var cachedDirectory: ACMEDirectory?
    var nonces: [String] = []

    /// Attempts per request for transient faults (the first try included).
    public static let maxTransientAttempts = 3
    /// Retries after `badNonce`.
    public static let maxBadNonceRetries = 5
    /// The longest `Retry-After` the client waits inside one request; longer ones surface to the caller.
    public static let maxTransientRetryAfter: Duration = .seconds(10)
    static let maxNoncePool = 8

    /// - Parameters:
    ///   - directoryURL: The CA's directory URL.
    ///   - transport: The HTTP transport.
    ///   - logger: Receives request-level debug logs (never payloads or keys).
    ///   - userAgent: Sent on every request (RFC 8555 §6.1 requires one).
    ///   - sleeper: Waits for retries and polls; defaults to `Task.sleep`.
    ///   - now: The clock used to turn HTTP-date `Retry-After` values into delays.
    public init(
        directoryURL: String,
        transport: any HTTPTransport,
        logger: Logger = Logger(label: "certkeeper.acme"),
        userAgent: String = "certkeeper/0.1",
        sleeper: @escaping Sleeper = { try await Task.sleep(for: $0) },
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.directoryURL = directoryURL
        self.transport = transport
        self.logger = logger
        self.userAgent = userAgent
        self.sleeper = sleeper
        self.now = now
    }

    /// The directory, fetched once and cached.
    public func directory() async throws -> ACMEDirectory {
        if let cachedDirectory { return cachedDirectory }
        let response = try await send(HTTPRequestData(method: "GET", url: directoryURL))
        try Self.checkSuccess(response, url: directoryURL, now: now())
        let directory = try decode(ACMEDirectory.self, response, url: directoryURL)
        cachedDirectory = directory
        return directory
    }

    /// Forgets the cached directory, so the next request fetches it again (a reload: a CA may have added
    /// profiles or renewalInfo since).
    public func forgetDirectory() {
        cachedDirectory = nil
    }

    // MARK: - Nonces

    func takeNonce() async throws -> String {
        if let nonce = nonces.popLast() { return nonce }
        let url = try await directory().newNonce
        let response = try await send(HTTPRequestData(method: "HEAD", url: url))
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
        payload: [UInt8],
        key: SigningKey,
        kid: String?,
        accept: String? = nil,
        acceptStatus: (Int) -> Bool = { (200..<300).contains($0) }
    ) async throws -> HTTPResponseData {
        var badNonceRetries = 0
        var nonceFromError: String?
        var transientAttempts = 1
        while true {
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
            let response = try await send(
                HTTPRequestData(method: "POST", url: url, headers: headers, body: body),
                transientAttempts: &transientAttempts
            )
            if acceptStatus(response.status) { return response }
            let problem = Self.problem(in: response, url: url, now: now())
            if let problem, problem.type == .badNonce, badNonceRetries < Self.maxBadNonceRetries {
                badNonceRetries += 1
                if let fresh = Self.validNonce(response) {
                    nonces.removeAll { $0 == fresh }
                    nonceFromError = fresh
                }
                logger.debug("badNonce, retrying", metadata: ["url": "\(url)", "retry": "\(badNonceRetries)"])
                continue
            }
            if let delay = transientDelay(response, attempt: transientAttempts) {
                transientAttempts += 1
                logger.debug(
                    "transient HTTP status, retrying",
                    metadata: ["url": "\(url)", "status": "\(response.status)", "delay": "\(delay)"]
                )
                try await sleeper(delay)
                continue
            }
            try Self.checkSuccess(response, url: url, now: now())
            return response
        }
    }

    /// An unsigned request with transient-fault retries (directory, newNonce, ARI).
    func send(_ request: HTTPRequestData) async throws -> HTTPResponseData {
        var attempts = 1
        while true {
            let response = try await send(request, transientAttempts: &attempts)
            if let delay = transientDelay(response, attempt: attempts) {
                attempts += 1
                try await sleeper(delay)
                continue
            }
            return response
        }
    }

    /// One transport call, retrying transport-level transient errors; nonces are harvested from the response.
    private func send(_ request: HTTPRequestData, transientAttempts: inout Int) async throws -> HTTPResponseData {
        var request = request
        request.headers.append(("User-Agent", userAgent))
        while true {
            do {
                let response = try await transport.send(request)
                logger.debug(
                    "ACME request",
                    metadata: ["method": "\(request.method)", "url": "\(request.url)", "status": "\(response.status)"])
                remember(response)
                return response
            } catch let error as HTTPTransportError where error.isTransient {
                guard transientAttempts < Self.maxTransientAttempts else {
                    throw ACMEClientError.transport(error, attempts: transientAttempts)
                }
                let delay = Self.backoff(attempt: transientAttempts)
                transientAttempts += 1
                logger.debug(
                    "transient transport error, retrying", metadata: ["url": "\(request.url)", "error": "\(error)"])
                try await sleeper(delay)
            } catch let error as HTTPTransportError {
                throw ACMEClientError.transport(error, attempts: transientAttempts)
            }
        }
    }

    /// The wait before retrying `response`, or nil when it is not transient or attempts are used up.
    private func transientDelay(_ response: HTTPResponseData, attempt: Int) -> Duration? {
        guard attempt < Self.maxTransientAttempts else { return nil }
        let retryAfter = response.header("Retry-After").flatMap { RetryAfter.parse($0, now: now()) }
        switch response.status {
        case 429, 503:
            guard let retryAfter else { return response.status == 503 ? Self.backoff(attempt: attempt) : nil }
            return retryAfter <= Self.maxTransientRetryAfter ? retryAfter : nil
        case 500..<600:
            if let retryAfter { return retryAfter <= Self.maxTransientRetryAfter ? retryAfter : nil }
            return Self.backoff(attempt: attempt)
        default:
            return nil
        }
    }

    /// 1 s, 2 s, 4 s, ...
    static func backoff(attempt: Int) -> Duration { .seconds(1 << max(0, min(attempt - 1, 4))) }

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
