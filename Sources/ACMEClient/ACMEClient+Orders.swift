import ACMECrypto
import ACMEModels

extension ACMEClient {
    /// newOrder (RFC 8555 §7.4). Names that look like IP addresses become `ip` identifiers.
    ///
    /// - Parameters:
    ///   - replaces: ARI certID of the predecessor; send only when the directory has `renewalInfo`.
    ///   - profile: A profile name from `meta.profiles`.
    /// - Returns: The order URL (from `Location`) and the order.
    package func newOrder(
        accountURL: String,
        key: SigningKey,
        identifiers: [String],
        replaces: String? = nil,
        profile: String? = nil
    ) async throws -> (url: String, order: Order) {
        let url = try await directory().newOrder
        var payload: [String: JSONValue] = [
            "identifiers": .array(
                identifiers.map { name in
                    let id = Self.identifier(for: name)
                    return ["type": .string(id.type), "value": .string(id.value)]
                }
            )
        ]
        if let replaces { payload["replaces"] = .string(replaces) }
        if let profile { payload["profile"] = .string(profile) }
        let response = try await post(
            url: url, endpoint: .newOrder, payload: JSONValue.object(payload).serialized, key: key, kid: accountURL)
        let orderURL = try location(response, url: url)
        return (orderURL, try decode(Order.self, response, url: url))
    }

    /// POST-as-GET an order.
    package func fetchOrder(url: String, accountURL: String, key: SigningKey) async throws -> Order {
        try await fetchOrderWithRetryAfter(url: url, accountURL: accountURL, key: key).order
    }

    /// POST-as-GET an authorization.
    package func fetchAuthorization(url: String, accountURL: String, key: SigningKey) async throws -> Authorization {
        try await fetchAuthorizationWithRetryAfter(url: url, accountURL: accountURL, key: key).authorization
    }

    /// Tells the server to validate a challenge: POST `{}` to the challenge URL. A dropped or timed-out connection is
    /// thrown at once (not resent): the CA may have the answer; look at the authorization.
    @discardableResult
    package func respond(toChallenge url: String, accountURL: String, key: SigningKey) async throws -> Challenge {
        // Not resent after a lost reply: the caller looks at the authorization first.
        let response = try await post(
            url: url, endpoint: .challenge, payload: Array("{}".utf8), key: key, kid: accountURL, resendable: false)
        return try decode(Challenge.self, response, url: url)
    }

    /// Deactivates an authorization (RFC 8555 §7.5.2).
    @discardableResult
    package func deactivateAuthorization(url: String, accountURL: String, key: SigningKey) async throws -> Authorization
    {
        let payload: JSONValue = ["status": "deactivated"]
        let response = try await post(
            url: url, endpoint: .authorization, payload: payload.serialized, key: key, kid: accountURL)
        return try decode(Authorization.self, response, url: url)
    }

    /// Polls an authorization until it leaves `pending` (or `processing`). See ``pollDelay(poll:retryAfter:)``
    /// for the waits.
    ///
    /// - Parameter waitFirst: wait before the first fetch (right after answering a challenge, the CA is validating).
    /// - Returns: The authorization in its final state (`valid`, `invalid`, ...); check `status`.
    /// - Throws: ``ACMEClientError/timeout(url:lastStatus:waited:)`` when the summed waits exceed `timeout`.
    package func pollAuthorization(
        url: String,
        accountURL: String,
        key: SigningKey,
        timeout: Duration,
        waitFirst: Bool = false
    ) async throws -> Authorization {
        var waited: Duration = .zero
        var polls = 0
        if waitFirst {
            waited = try await pollWait(
                nil, poll: &polls, waited: waited, timeout: timeout, url: url, status: "pending")
        }
        while true {
            let (authorization, retryAfter) = try await fetchAuthorizationWithRetryAfter(
                url: url,
                accountURL: accountURL,
                key: key
            )
            guard authorization.status == .pending || authorization.status == .rawProcessing else {
                return authorization
            }
            waited = try await pollWait(
                retryAfter, poll: &polls, waited: waited, timeout: timeout, url: url,
                status: authorization.status.rawValue)
        }
    }

    /// Polls an order until its status is in `until` or `invalid`. See ``pollDelay(poll:retryAfter:)`` for the waits.
    ///
    /// - Parameter waitFirst: wait before the first fetch (right after finalize answered `processing`).
    /// - Throws: ``ACMEClientError/timeout(url:lastStatus:waited:)`` when the summed waits exceed `timeout`.
    package func pollOrder(
        url: String,
        accountURL: String,
        key: SigningKey,
        until: Set<OrderStatus>,
        timeout: Duration,
        waitFirst: Bool = false
    ) async throws -> Order {
        var waited: Duration = .zero
        var polls = 0
        if waitFirst {
            waited = try await pollWait(
                nil, poll: &polls, waited: waited, timeout: timeout, url: url, status: "processing")
        }
        while true {
            let (order, retryAfter) = try await fetchOrderWithRetryAfter(url: url, accountURL: accountURL, key: key)
            if until.contains(order.status) || order.status == .invalid { return order }
            waited = try await pollWait(
                retryAfter, poll: &polls, waited: waited, timeout: timeout, url: url, status: order.status.rawValue)
        }
    }

    /// Finalizes an order with a DER CSR (RFC 8555 §7.4); returns the order (often `processing` or `valid`). A
    /// dropped or timed-out connection is thrown at once (not resent): the CA may have finalized; look at the order.
    package func finalize(finalizeURL: String, accountURL: String, key: SigningKey, csrDER: [UInt8]) async throws
        -> Order
    {
        let payload: JSONValue = ["csr": .string(Base64URL.encode(csrDER))]
        // Not resent after a lost reply: the caller looks at the order first.
        let response = try await post(
            url: finalizeURL, endpoint: .finalize, payload: payload.serialized, key: key, kid: accountURL,
            resendable: false)
        return try decode(Order.self, response, url: finalizeURL)
    }

    func fetchOrderWithRetryAfter(url: String, accountURL: String, key: SigningKey) async throws -> (
        order: Order, retryAfter: Duration?
    ) {
        let response = try await post(url: url, endpoint: .order, payload: [], key: key, kid: accountURL)
        return (try decode(Order.self, response, url: url), retryAfter(response))
    }

    func fetchAuthorizationWithRetryAfter(url: String, accountURL: String, key: SigningKey) async throws -> (
        authorization: Authorization, retryAfter: Duration?
    ) {
        let response = try await post(url: url, endpoint: .authorization, payload: [], key: key, kid: accountURL)
        return (try decode(Authorization.self, response, url: url), retryAfter(response))
    }

    /// Until the CA says otherwise, the first poll waits ``firstPollDelay`` (a fast CA has finished by then) and each
    /// later one twice as long, up to ``defaultPollCeiling``. Once the CA sends `Retry-After`, that is the wait
    /// (clamped to 1...30 s), as RFC 8555 §7.4 asks.
    package static func pollDelay(poll: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return min(max(retryAfter, .seconds(1)), .seconds(30)) }
        return min(firstPollDelay * (1 << min(poll, 10)), defaultPollCeiling)
    }

    /// The wait before the first poll.
    package static let firstPollDelay: Duration = .milliseconds(50)
    /// The longest wait between polls when the CA sends no `Retry-After`.
    package static let defaultPollCeiling: Duration = .seconds(5)

    private func pollWait(
        _ retryAfter: Duration?,
        poll: inout Int,
        waited: Duration,
        timeout: Duration,
        url: String,
        status: String
    ) async throws -> Duration {
        let delay = Self.pollDelay(poll: poll, retryAfter: retryAfter)
        guard waited + delay <= timeout else {
            throw ACMEClientError.timeout(url: url, lastStatus: status, waited: waited)
        }
        poll += 1
        try await sleeper(delay)
        return waited + delay
    }

    static func identifier(for name: String) -> Identifier {
        let isIPv4 =
            name.split(separator: ".", omittingEmptySubsequences: false).count == 4
            && name.split(separator: ".").allSatisfy { UInt8($0) != nil }
        let isIPv6 = name.contains(":")
        return Identifier(type: isIPv4 || isIPv6 ? "ip" : "dns", value: name)
    }
}

extension AuthorizationStatus {
    /// Not an RFC 8555 authz state, but some servers report it while validating.
    static let rawProcessing = AuthorizationStatus(rawValue: "processing")
}
