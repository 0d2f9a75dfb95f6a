/// dns-01 through a DNS provider's HTTP API (`provider = "powerdns"`, `"route53"` or `"cloudflare"`).
package enum DNSProviderSettings: Sendable, Hashable {
    case powerDNS(PowerDNSSettings)
    case route53(Route53Settings)
    case cloudflare(CloudflareSettings)

    /// The `provider` value: `powerdns`, `route53` or `cloudflare`.
    package var name: String {
        switch self {
        case .powerDNS: return "powerdns"
        case .route53: return "route53"
        case .cloudflare: return "cloudflare"
        }
    }
}

/// `provider = "powerdns"`: the PowerDNS Authoritative HTTP API.
package struct PowerDNSSettings: Sendable, Hashable {
    /// The API's base URL without `/api/v1`, e.g. `https://ns1.example.com:8081`.
    package var apiURL: String
    /// `server_id`, `localhost` unless the operator runs several.
    package var serverID: String
    package var apiKey: SecretSource
    /// The zone to write to; nil finds it among the server's zones by name.
    package var zone: String?

    package init(apiURL: String, serverID: String = "localhost", apiKey: SecretSource, zone: String? = nil) {
        self.apiURL = apiURL
        self.serverID = serverID
        self.apiKey = apiKey
        self.zone = zone
    }
}

/// `provider = "route53"`: Amazon Route 53.
package struct Route53Settings: Sendable, Hashable {
    /// nil finds the hosted zone by name.
    package var hostedZoneID: String?
    /// The signing region (Route 53 is global; `us-east-1` unless in another partition).
    package var region: String
    /// nil with `secretAccessKey` nil: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) from
    /// the environment.
    package var accessKeyID: SecretSource?
    package var secretAccessKey: SecretSource?
    /// Another endpoint than `https://route53.amazonaws.com` (an emulator, a VPC endpoint).
    package var apiURL: String?

    package init(
        hostedZoneID: String? = nil, region: String = "us-east-1", accessKeyID: SecretSource? = nil,
        secretAccessKey: SecretSource? = nil, apiURL: String? = nil
    ) {
        self.hostedZoneID = hostedZoneID
        self.region = region
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.apiURL = apiURL
    }
}

/// `provider = "cloudflare"`: Cloudflare API v4 with a scoped API token.
package struct CloudflareSettings: Sendable, Hashable {
    package var apiToken: SecretSource
    /// nil finds the zone by name.
    package var zoneID: String?
    /// `https://api.cloudflare.com/client/v4` unless set.
    package var apiURL: String

    package static let defaultAPIURL = "https://api.cloudflare.com/client/v4"

    package init(apiToken: SecretSource, zoneID: String? = nil, apiURL: String = Self.defaultAPIURL) {
        self.apiToken = apiToken
        self.zoneID = zoneID
        self.apiURL = apiURL
    }
}
