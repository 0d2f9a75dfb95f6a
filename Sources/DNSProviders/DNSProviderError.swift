/// A DNS provider's API refused or failed a request. Names the provider, its endpoint, the zone and the record,
/// and says what to check. Never holds a credential: the response text is scrubbed of every secret in use.
package struct DNSProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `powerdns`, `route53` or `cloudflare`.
    package var provider: String
    /// The API base URL.
    package var endpoint: String
    /// What was being done: "finding the zone for ...", "adding TXT ...".
    package var action: String
    /// The zone, when known.
    package var zone: String?
    /// The HTTP status, nil when the request got no answer.
    package var status: Int?
    /// The provider's own message (sanitised, secrets removed) or the transport failure.
    package var detail: String
    /// What the operator should check.
    package var hint: String
    /// A server error or a dropped, refused or timed-out connection: trying the change again (after reading the
    /// records again) may work.
    package var isTransient: Bool

    package init(
        provider: String, endpoint: String, action: String, zone: String? = nil, status: Int? = nil, detail: String,
        hint: String, isTransient: Bool = false
    ) {
        self.isTransient = isTransient
        self.provider = provider
        self.endpoint = endpoint
        self.action = action
        self.zone = zone
        self.status = status
        self.detail = detail
        self.hint = hint
    }

    package var description: String {
        var text = "\(provider) API at \(endpoint): \(action)"
        if let zone { text += " in zone \(zone)" }
        text += status.map { ": HTTP \($0)" } ?? ""
        if !detail.isEmpty { text += ": \(detail)" }
        if !hint.isEmpty { text += "; \(hint)" }
        return text
    }
}
