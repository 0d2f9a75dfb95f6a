import ACMEClient
import DNSWire
import Foundation

/// The PowerDNS Authoritative HTTP API (`/api/v1`, PowerDNS 4.x): zones listed by name, TXT RRsets changed with
/// `PATCH` (`changetype` `REPLACE`, or `DELETE` when the last value goes).
///
/// PowerDNS replaces a whole RRset at once, so a change reads the zone's RRset first and writes it back with one value
/// more or less; other values (and their `disabled` flags) are kept as they were.
package struct PowerDNSAPI: DNSProviderAPI {
    package let provider = "powerdns"
    package var http: ProviderHTTP
    package var serverID: String
    /// The zone to use; nil finds it among the server's zones.
    package var zoneName: DNSName?
    private var apiKey: String

    /// - Parameters:
    ///   - apiURL: The base URL without `/api/v1`, e.g. `http://127.0.0.1:8081`.
    package init(
        apiURL: String, serverID: String = "localhost", apiKey: String, zone: DNSName? = nil,
        transport: any HTTPTransport
    ) {
        let key = apiKey.trimmingCharacters(in: .whitespacesAndNewlines)
        self.http = ProviderHTTP(transport: transport, provider: "powerdns", endpoint: apiURL, secrets: [key])
        self.serverID = serverID
        self.zoneName = zone
        self.apiKey = key
    }

    private struct Zone: Decodable {
        var id: String
        var name: String
        var url: String?
        var rrsets: [RRset]?
    }

    private struct RRset: Codable {
        var name: String
        var type: String
        var ttl: UInt32?
        var changetype: String?
        var records: [Record]
    }

    private struct Record: Codable, Equatable {
        var content: String
        var disabled: Bool
    }

    private struct Patch: Encodable { var rrsets: [RRset] }

    private var serverURL: String {
        "\(http.endpoint)/api/v1/servers/\(Self.pathSegment(serverID))"
    }

    private var headers: [(String, String)] { [("X-API-Key", apiKey), ("Accept", "application/json")] }

    package func zone(for name: DNSName) async throws -> DNSName {
        try await findZone(for: name).name
    }

    package func addTXT(name: DNSName, value: String, ttl: UInt32) async throws {
        try await http.retryingChange { try await add(name: name, value: value, ttl: ttl) }
    }

    package func removeTXT(name: DNSName, value: String) async throws {
        try await http.retryingChange { try await remove(name: name, value: value) }
    }

    private func add(name: DNSName, value: String, ttl: UInt32) async throws {
        try await change(name: name, action: "adding TXT \(value) at \(name)") { records in
            let quoted = Self.quoted(value)
            guard !records.contains(where: { $0.content == quoted }) else { return false }
            records.append(Record(content: quoted, disabled: false))
            return true
        } ttl: {
            $0 ?? ttl
        }
    }

    private func remove(name: DNSName, value: String) async throws {
        try await change(name: name, action: "deleting TXT \(value) at \(name)") { records in
            let before = records.count
            records.removeAll { Self.unquoted($0.content) == value }
            return records.count != before
        } ttl: {
            $0 ?? 60
        }
    }

    /// Reads the TXT RRset at `name`, lets `edit` change its records, and writes it back when `edit` returns true.
    private func change(
        name: DNSName, action: String, edit: (inout [Record]) -> Bool, ttl: (UInt32?) -> UInt32
    ) async throws {
        let zone = try await findZone(for: name)
        let zoneText = zone.name.description
        let response = try await http.send("GET", zone.url, headers: headers, action: action, zone: zoneText)
        guard response.succeeded else {
            throw failure(response, action: action, zone: zoneText)
        }
        let content: Zone
        do {
            content = try JSONDecoder().decode(Zone.self, from: Data(response.body))
        } catch {
            throw http.failure(
                response, action: action, zone: zoneText, message: "the zone's JSON is not what PowerDNS sends",
                hint: "check that api_url points at the PowerDNS API")
        }
        let owner = name.lowercased().description
        let existing = content.rrsets?.first { $0.type == "TXT" && $0.name.lowercased() == owner }
        var records = existing?.records ?? []
        guard edit(&records) else { return }
        let rrset =
            records.isEmpty
            ? RRset(name: owner, type: "TXT", ttl: nil, changetype: "DELETE", records: [])
            : RRset(name: owner, type: "TXT", ttl: ttl(existing?.ttl), changetype: "REPLACE", records: records)
        let body = try JSONEncoder().encode(Patch(rrsets: [rrset]))
        let patched = try await http.send(
            "PATCH", zone.url, headers: headers + [("Content-Type", "application/json")], body: Array(body),
            action: action, zone: zoneText)
        guard patched.succeeded else {
            throw failure(patched, action: action, zone: zoneText)
        }
    }

    /// The configured zone, or the longest of the server's zones that holds `name` (asked one candidate at a time
    /// with `?zone=`, so a server with many zones is not listed whole).
    private func findZone(for name: DNSName) async throws -> (name: DNSName, url: String) {
        let action = "finding the zone for \(name)"
        var candidates: [DNSName] = []
        if let zoneName {
            candidates = [zoneName.lowercased()]
        } else {
            var next: DNSName? = name.lowercased().parent
            while let candidate = next, !candidate.labels.isEmpty {
                candidates.append(candidate)
                next = candidate.parent
            }
        }
        for candidate in candidates {
            let url = "\(serverURL)/zones?zone=\(Self.queryValue(candidate.description))"
            let response = try await http.send("GET", url, headers: headers, action: action)
            guard response.succeeded else { throw failure(response, action: action, zone: nil) }
            guard let zones = try? JSONDecoder().decode([Zone].self, from: Data(response.body)) else {
                throw http.failure(
                    response, action: action, message: "the answer is not the JSON list of zones PowerDNS sends",
                    hint: "check that api_url points at the PowerDNS API (without /api/v1)")
            }
            if let zone = zones.first(where: { $0.name.lowercased() == candidate.description }) {
                guard name.lowercased().isSubdomain(of: candidate) else { break }
                return (candidate, "\(serverURL)/zones/\(Self.pathSegment(zone.id))")
            }
        }
        let missing = zoneName.map { "has no zone \($0) (the spec's zone)" } ?? "has no zone that holds \(name)"
        throw DNSProviderError(
            provider: provider, endpoint: http.endpoint, action: action,
            detail: "server \(serverID) \(missing)",
            hint: zoneName == nil
                ? "create the zone on the server, or set zone = \"...\" to the zone that holds this name"
                : "check the spec's zone: it must exist on server \(serverID) and hold \(name)")
    }

    private func failure(_ response: HTTPResponseData, action: String, zone: String?) -> DNSProviderError {
        var message: String?
        if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let error = object["error"] as? String
        {
            message = error
        }
        let hint: String
        switch response.status {
        case 401, 403:
            hint = "check api_key_file (or api_key_credential): it must hold the server's api-key"
        case 404:
            hint = "check api_url and server_id (\(serverID)): the API answered that the server or zone does not exist"
        case 422:
            hint = "PowerDNS refused the change; check the zone's settings (kind, DNSSEC) and the record"
        default:
            hint = "check the PowerDNS server's log"
        }
        return http.failure(response, action: action, zone: zone, message: message, hint: hint)
    }

    /// A TXT value as PowerDNS stores it: in double quotes (the challenge values are base64url, nothing to escape).
    static func quoted(_ value: String) -> String { "\"\(value)\"" }

    /// The value of a one-string TXT record in presentation form; several strings are joined.
    static func unquoted(_ content: String) -> String {
        var result = ""
        var inside = false
        var escaped = false
        for character in content {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" && inside {
                escaped = true
            } else if character == "\"" {
                inside.toggle()
            } else if inside {
                result.append(character)
            }
        }
        return result
    }

    /// A URL path segment: PowerDNS ids are names ending in a dot; anything outside [A-Za-z0-9._-] is escaped.
    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? text
    }

    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? text
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
