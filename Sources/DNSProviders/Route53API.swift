import ACMEClient
import DNSWire
import Foundation

/// Amazon Route 53 (API version 2013-04-01), signed with AWS Signature Version 4.
///
/// A TXT RRset is one resource there: a change reads it (`ListResourceRecordSets`), then `UPSERT`s it with one value
/// more or less, or `DELETE`s it (with its exact current values and TTL) when the last value goes. Each change is
/// waited for until `GetChange` says `INSYNC`, bounded by `syncTimeout`.
package struct Route53API: DNSProviderAPI {
    package let provider = "route53"
    package var http: ProviderHTTP
    package var signer: AWSSignatureV4
    /// nil finds the hosted zone by name (public zones before private ones).
    package var hostedZoneID: String?
    package var syncTimeout: Duration
    package var syncInterval: Duration
    package var now: @Sendable () -> Date
    package var sleep: @Sendable (Duration) async throws -> Void

    package static let defaultEndpoint = "https://route53.amazonaws.com"

    package init(
        credentials: AWSSignatureV4.Credentials, region: String = "us-east-1", hostedZoneID: String? = nil,
        apiURL: String? = nil, transport: any HTTPTransport, syncTimeout: Duration = .seconds(180),
        syncInterval: Duration = .seconds(2),
        now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.http = ProviderHTTP(
            transport: transport, provider: "route53", endpoint: apiURL ?? Self.defaultEndpoint,
            secrets: [credentials.secretAccessKey, credentials.sessionToken ?? ""], sleep: sleep)
        self.signer = AWSSignatureV4(credentials: credentials, region: region, service: "route53")
        self.hostedZoneID = hostedZoneID
        self.syncTimeout = syncTimeout
        self.syncInterval = syncInterval
        self.now = now
        self.sleep = sleep
    }

    package func zone(for name: DNSName) async throws -> DNSName {
        try await findZone(for: name).name
    }

    package func addTXT(name: DNSName, value: String, ttl: UInt32) async throws {
        let quoted = "\"\(value)\""
        try await http.retryingChange {
            try await change(name: name, action: "adding TXT \(value) at \(name)") { values, existingTTL in
                guard !values.contains(quoted) else { return nil }
                return ("UPSERT", values + [quoted], existingTTL ?? ttl)
            }
        }
    }

    package func removeTXT(name: DNSName, value: String) async throws {
        let quoted = "\"\(value)\""
        try await http.retryingChange {
            try await change(name: name, action: "deleting TXT \(value) at \(name)") { values, existingTTL in
                guard values.contains(quoted) else { return nil }
                let rest = values.filter { $0 != quoted }
                return rest.isEmpty
                    ? ("DELETE", values, existingTTL ?? 60) : ("UPSERT", rest, existingTTL ?? 60)
            }
        }
    }

    /// Reads the RRset, asks `plan` for the change (nil: none needed), sends it and waits for `INSYNC`.
    private func change(
        name: DNSName, action: String,
        plan: ([String], UInt32?) -> (action: String, values: [String], ttl: UInt32)?
    ) async throws {
        let zone = try await findZone(for: name)
        let zoneLabel = "\(zone.name) (\(zone.id))"
        let owner = name.lowercased().description
        let list = try await request(
            "GET", "/2013-04-01/hostedzone/\(zone.id)/rrset",
            query: [("name", owner), ("type", "TXT"), ("maxitems", "1")], action: action, zone: zoneLabel)
        var values: [String] = []
        var ttl: UInt32?
        let text = list.bodyText
        if let set = Route53XML.elements("ResourceRecordSet", in: text[...]).first,
            Route53XML.value("Name", in: set).map({ Self.normalised($0) }) == owner,
            Route53XML.value("Type", in: set) == "TXT"
        {
            values = Route53XML.elements("Value", in: set).map(Route53XML.decode)
            ttl = Route53XML.value("TTL", in: set).flatMap { UInt32($0) }
        }
        guard let planned = plan(values, ttl) else { return }
        let body = Route53XML.changeRequest(
            action: planned.action, name: owner, ttl: planned.ttl, values: planned.values)
        let changed = try await request(
            "POST", "/2013-04-01/hostedzone/\(zone.id)/rrset/", body: Array(body.utf8), action: action,
            zone: zoneLabel)
        guard let changeID = Route53XML.value("Id", in: changed.bodyText[...]) else {
            throw http.failure(
                changed, action: action, zone: zoneLabel, message: "the answer has no ChangeInfo Id",
                hint: "check that api_url points at Route 53")
        }
        try await waitInSync(changeID: changeID, action: action, zone: zoneLabel)
    }

    private func waitInSync(changeID: String, action: String, zone: String) async throws {
        let id = changeID.hasPrefix("/change/") ? String(changeID.dropFirst("/change/".count)) : changeID
        let deadline = now().addingTimeInterval(Double(syncTimeout.components.seconds))
        while true {
            let response = try await request(
                "GET", "/2013-04-01/change/\(AWSSignatureV4.encode(id))", action: "\(action): waiting for INSYNC",
                zone: zone)
            let status = Route53XML.value("Status", in: response.bodyText[...])
            if status == "INSYNC" { return }
            guard now() < deadline else {
                throw DNSProviderError(
                    provider: provider, endpoint: http.endpoint, action: "\(action): waiting for change \(id)",
                    zone: zone, detail: "still \(status ?? "not reported") after \(syncTimeout)",
                    hint: "Route 53 normally syncs within a minute; check the AWS Health Dashboard")
            }
            try await sleep(syncInterval)
        }
    }

    /// The configured hosted zone, or the longest public (then private) hosted zone whose name holds `name`.
    private func findZone(for name: DNSName) async throws -> (id: String, name: DNSName) {
        let action = "finding the hosted zone for \(name)"
        if let hostedZoneID {
            let response = try await request("GET", "/2013-04-01/hostedzone/\(hostedZoneID)", action: action)
            guard let zoneName = Route53XML.value("Name", in: response.bodyText[...]),
                let zone = try? DNSName(Self.normalised(zoneName))
            else {
                throw http.failure(
                    response, action: action, message: "the answer names no zone",
                    hint: "check hosted_zone_id and api_url")
            }
            guard name.lowercased().isSubdomain(of: zone.lowercased()) else {
                throw DNSProviderError(
                    provider: provider, endpoint: http.endpoint, action: action, zone: "\(zone) (\(hostedZoneID))",
                    detail: "\(name) is not in that zone",
                    hint: "check hosted_zone_id: it must be the zone that holds the name")
            }
            return (hostedZoneID, zone)
        }
        var next: DNSName? = name.lowercased().parent
        while let candidate = next, !candidate.labels.isEmpty {
            let response = try await request(
                "GET", "/2013-04-01/hostedzonesbyname",
                query: [("dnsname", candidate.description), ("maxitems", "10")], action: action)
            var privateMatch: String?
            for zone in Route53XML.elements("HostedZone", in: response.bodyText[...]) {
                guard let zoneName = Route53XML.value("Name", in: zone),
                    Self.normalised(zoneName) == candidate.description,
                    let rawID = Route53XML.value("Id", in: zone)
                else { continue }
                let id = rawID.hasPrefix("/hostedzone/") ? String(rawID.dropFirst("/hostedzone/".count)) : rawID
                if Route53XML.value("PrivateZone", in: zone) == "true" {
                    privateMatch = privateMatch ?? id
                } else {
                    return (id, candidate)
                }
            }
            if let privateMatch { return (privateMatch, candidate) }
            next = candidate.parent
        }
        throw DNSProviderError(
            provider: provider, endpoint: http.endpoint, action: action,
            detail: "no hosted zone in this account holds \(name)",
            hint: "check that the credentials belong to the account with the zone, or set hosted_zone_id")
    }

    /// Sends one signed request; a status other than 2xx becomes a ``DNSProviderError`` naming Route 53's error code.
    private func request(
        _ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8] = [], action: String,
        zone: String? = nil
    ) async throws -> HTTPResponseData {
        guard let base = URLComponents(string: http.endpoint), let host = base.host else {
            throw DNSProviderError(
                provider: provider, endpoint: http.endpoint, action: action, detail: "api_url is not a URL",
                hint: "check api_url")
        }
        let hostHeader = base.port.map { "\(host):\($0)" } ?? host
        let fullPath = base.path + path
        var headers = signer.sign(
            method: method, host: hostHeader, path: fullPath, query: query, body: body, date: now())
        if !body.isEmpty { headers.append(("Content-Type", "application/xml")) }
        let queryText = query.map { "\(AWSSignatureV4.encode($0.0))=\(AWSSignatureV4.encode($0.1))" }
            .joined(separator: "&")
        let url = "\(base.scheme ?? "https")://\(hostHeader)\(fullPath)" + (queryText.isEmpty ? "" : "?\(queryText)")
        let response = try await http.send(method, url, headers: headers, body: body, action: action, zone: zone)
        guard response.succeeded else {
            let text = response.bodyText[...]
            let code = Route53XML.value("Code", in: text)
            let message = Route53XML.value("Message", in: text)
            throw http.failure(
                response, action: action, zone: zone,
                message: [code, message].compactMap { $0 }.joined(separator: ": ").nilIfEmpty,
                hint: Self.hint(code: code, status: response.status))
        }
        return response
    }

    static func hint(code: String?, status: Int) -> String {
        switch code {
        case "InvalidClientTokenId", "UnrecognizedClientException":
            return "check access_key_id_file (or AWS_ACCESS_KEY_ID): AWS does not know this access key"
        case "SignatureDoesNotMatch", "IncompleteSignature":
            return "check secret_access_key_file (or AWS_SECRET_ACCESS_KEY) and the host's clock"
        case "AccessDenied", "AccessDeniedException":
            return
                "the key's IAM policy must allow route53:ListHostedZonesByName, route53:ListResourceRecordSets, route53:ChangeResourceRecordSets and route53:GetChange"
        case "NoSuchHostedZone":
            return "check hosted_zone_id"
        case "InvalidChangeBatch":
            return "Route 53 refused the change; another tool may have changed the record at the same moment"
        case "Throttling", "PriorRequestNotComplete":
            return "Route 53 is rate-limiting this account; the order is retried later"
        default:
            return status == 403 ? "check the credentials and their IAM permissions" : "check api_url and region"
        }
    }

    /// A zone or record name from Route 53: lowercased, with the trailing dot, `\052` (an escaped `*`) kept.
    static func normalised(_ name: String) -> String {
        let lower = name.lowercased()
        return lower.hasSuffix(".") ? lower : lower + "."
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
