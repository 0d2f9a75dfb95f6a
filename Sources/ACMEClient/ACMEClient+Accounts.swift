import ACMECrypto
import ACMEModels

extension ACMEClient {
    /// newAccount (RFC 8555 §7.3). 201 -> created; 200 -> the key's existing account (request fields ignored).
    ///
    /// - Parameters:
    ///   - key: The account key (sent as `jwk`).
    ///   - contact: `mailto:` URLs; omitted when empty.
    ///   - termsOfServiceAgreed: Sent as given.
    ///   - eab: External account binding; `hmacKey` is the decoded MAC key.
    ///   - onlyReturnExisting: Look up only; a key without account throws `ACMEProblem` `accountDoesNotExist`.
    package func newAccount(
        key: SigningKey,
        contact: [String] = [],
        termsOfServiceAgreed: Bool = true,
        eab: (keyID: String, hmacKey: [UInt8])? = nil,
        onlyReturnExisting: Bool = false
    ) async throws -> AccountResult {
        let url = try await directory().newAccount
        var payload: [String: JSONValue] = [:]
        if onlyReturnExisting {
            payload["onlyReturnExisting"] = true
        } else {
            payload["termsOfServiceAgreed"] = .bool(termsOfServiceAgreed)
            if !contact.isEmpty { payload["contact"] = .array(contact.map { .string($0) }) }
            if let eab {
                payload["externalAccountBinding"] = ExternalAccountBinding.make(
                    keyID: eab.keyID,
                    hmacKey: eab.hmacKey,
                    accountJWK: key.publicJWK,
                    url: url
                )
            }
        }
        let response = try await post(
            url: url, endpoint: .newAccount, payload: JSONValue.object(payload).serialized, key: key, kid: nil)
        let accountURL = try location(response, url: url)
        let account = try decode(AccountObject.self, response, url: url)
        return AccountResult(url: accountURL, account: account, created: response.status == 201)
    }

    /// POST-as-GET the account.
    package func fetchAccount(url: String, key: SigningKey) async throws -> AccountObject {
        let response = try await post(url: url, endpoint: .account, payload: [], key: key, kid: url)
        return try decode(AccountObject.self, response, url: url)
    }

    /// Replaces the account's contacts (RFC 8555 §7.3.2).
    package func updateAccount(url: String, key: SigningKey, contact: [String]) async throws -> AccountObject {
        let payload: JSONValue = ["contact": .array(contact.map { .string($0) })]
        let response = try await post(url: url, endpoint: .account, payload: payload.serialized, key: key, kid: url)
        return try decode(AccountObject.self, response, url: url)
    }

    /// Deactivates the account for good (RFC 8555 §7.3.6); later requests get 401 unauthorized.
    @discardableResult
    package func deactivateAccount(url: String, key: SigningKey) async throws -> AccountObject {
        let payload: JSONValue = ["status": "deactivated"]
        let response = try await post(url: url, endpoint: .account, payload: payload.serialized, key: key, kid: url)
        return try decode(AccountObject.self, response, url: url)
    }

    /// Key rollover (RFC 8555 §7.3.5): outer JWS by `oldKey` with `kid`, inner JWS by `newKey` with its `jwk`.
    /// Switch to `newKey` only after this returns.
    ///
    /// - Throws: ``ACMEClientError/keyInUse(url:existingAccount:)`` when `newKey` already has an account (409).
    package func changeKey(accountURL: String, oldKey: SigningKey, newKey: SigningKey) async throws {
        let url = try await directory().keyChange
        let innerPayload: JSONValue = ["account": .string(accountURL), "oldKey": oldKey.publicJWK.jsonValue]
        let inner = try JWS.sign(
            protected: ["jwk": newKey.publicJWK.jsonValue, "url": .string(url)],
            payload: innerPayload.serialized,
            key: newKey
        )
        let response = try await post(
            url: url,
            endpoint: .keyChange,
            payload: inner,
            key: oldKey,
            kid: accountURL,
            acceptStatus: { (200..<300).contains($0) || $0 == 409 }
        )
        if response.status == 409 {
            throw ACMEClientError.keyInUse(url: url, existingAccount: response.header("Location"))
        }
    }
}
