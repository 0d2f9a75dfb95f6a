import ACMECrypto
import ACMEModels

extension ACMEClient {
    /// Downloads a certificate chain (POST-as-GET, `Accept: application/pem-certificate-chain`).
    ///
    /// - Returns: The PEM chain and the URLs of alternate chains (`Link: <url>;rel="alternate"`).
    package func downloadCertificate(
        url: String,
        accountURL: String,
        key: SigningKey
    ) async throws -> (pem: String, alternates: [String]) {
        let response = try await post(
            url: url,
            endpoint: .certificate,
            payload: [],
            key: key,
            kid: accountURL,
            accept: "application/pem-certificate-chain"
        )
        let pem = response.bodyText
        guard pem.contains("-----BEGIN CERTIFICATE-----") else {
            throw ACMEClientError.invalidResponse(
                url: url,
                reason: "expected a PEM chain, got \(response.mediaType ?? "no Content-Type")"
            )
        }
        return (pem, LinkHeader.targets(rel: "alternate", in: response.headers(named: "Link"), base: url))
    }

    /// ARI (RFC 9773 §4.1): an unauthenticated GET of `renewalInfo/<certID>`.
    ///
    /// - Returns: The renewal info (nil when the window is invalid, `end <= start`) and the `Retry-After` delay.
    /// - Throws: ``ACMEClientError/notSupported(directoryURL:feature:)`` when the directory has no `renewalInfo`.
    package func renewalInfo(certID: String) async throws -> (info: RenewalInfo?, retryAfter: Duration?) {
        guard let base = try await directory().renewalInfo else {
            throw ACMEClientError.notSupported(directoryURL: directoryURL, feature: "ARI (renewalInfo)")
        }
        let url = base.hasSuffix("/") ? base + certID : base + "/" + certID
        let response = try await send(HTTPRequestData(method: "GET", url: url, endpoint: .renewalInfo))
        try Self.checkSuccess(response, url: url, now: now())
        let info = try decode(RenewalInfo.self, response, url: url)
        return (info.isValid ? info : nil, retryAfter(response))
    }

    /// Revokes a certificate (RFC 8555 §7.6).
    ///
    /// - Parameters:
    ///   - certificateDER: The leaf in DER.
    ///   - reason: RFC 5280 reason code (LE accepts 0, 1, 4, 5); omitted when nil.
    ///   - accountURL: Sign as the account (`kid`); nil to sign with the certificate's key as `jwk`.
    ///   - key: The account key, or the certificate key when `accountURL` is nil.
    package func revoke(certificateDER: [UInt8], reason: Int? = nil, accountURL: String?, key: SigningKey) async throws
    {
        let url = try await directory().revokeCert
        var payload: [String: JSONValue] = ["certificate": .string(Base64URL.encode(certificateDER))]
        if let reason { payload["reason"] = .int(reason) }
        _ = try await post(
            url: url, endpoint: .revokeCert, payload: JSONValue.object(payload).serialized, key: key, kid: accountURL)
    }
}
