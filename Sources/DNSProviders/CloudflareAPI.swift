import ACMEClient
import DNSWire
import Foundation

/// Cloudflare API v4 with a scoped API token (`Authorization: Bearer`).
///
/// Each TXT value is its own DNS record there: adding creates one record, removing deletes only the records whose
/// content is this value (found by type, name and content), so other TXT records at the name are never touched.
/// Every request shape is in this file (the test double follows the same published reference).
package struct CloudflareAPI: DNSProviderAPI {
    package let provider = "cloudflare"
    package var http: ProviderHTTP
    /// nil finds the zone by name.
    package var zoneID: String?
    private var token: String

    package init(apiToken: String, zoneID: String? = nil, apiURL: String, transport: any HTTPTransport) {
        let token = apiToken.trimmingCharacters(in: .whitespacesAndNewlines)
        self.http = ProviderHTTP(transport: transport, provider: "cloudflare", endpoint: apiURL, secrets: [token])
        self.zoneID = zoneID
        self.token = token
    }

    /// Cloudflare's envelope: `{"success": ..., "errors": [{"code": ..., "message": ...}], "result": ...}`.
    private struct Envelope<Result: Decodable>: Decodable {
        var success: Bool
        var errors: [Message]?
        var result: Result?
    }

    private struct Message: Decodable {
        var code: Int?
        var message: String?
    }

    private struct Zone: Decodable {
        var id: String
        var name: String
    }

    private struct Record: Decodable {
        var id: String
        var content: String
    }

    private struct NewRecord: Encodable {
        var type = "TXT"
        var name: String
        var content: String
        var ttl: UInt32
        var comment = "certkeeper dns-01"
    }

    private var headers: [(String, String)] { [("Authorization", "Bearer \(token)"), ("Accept", "application/json")] }

    package func zone(for name: DNSName) async throws -> DNSName {
        try await findZone(for: name).name
    }

    package func addTXT(name: DNSName, value: String, ttl: UInt32) async throws {
        let action = "adding TXT \(value) at \(name)"
        try await http.retryingChange {
            let zone = try await findZone(for: name)
            let existing = try await records(named: name, value: value, zone: zone, action: action)
            guard existing.isEmpty else { return }
            let body = try JSONEncoder().encode(
                NewRecord(name: Self.plain(name), content: value, ttl: max(ttl, 60)))
            do {
                let _: Record = try await call(
                    "POST", "/zones/\(zone.id)/dns_records", body: Array(body), action: action, zone: zone)
            } catch let error as DNSProviderError where error.detail.hasPrefix("\(Self.identicalRecordExists) ") {
                // A create whose answer was lost went through after all: the record is there.
                return
            }
        }
    }

    package func removeTXT(name: DNSName, value: String) async throws {
        let action = "deleting TXT \(value) at \(name)"
        try await http.retryingChange {
            let zone = try await findZone(for: name)
            for record in try await records(named: name, value: value, zone: zone, action: action) {
                let _: IgnoredResult = try await call(
                    "DELETE", "/zones/\(zone.id)/dns_records/\(Self.segment(record.id))", action: action, zone: zone)
            }
        }
    }

    /// Cloudflare's error code for "An identical record already exists."
    static let identicalRecordExists = 81058

    private struct IgnoredResult: Decodable {}

    /// The TXT records at `name` whose content is `value` (Cloudflare may show it quoted).
    private func records(named name: DNSName, value: String, zone: (id: String, name: DNSName), action: String)
        async throws -> [Record]
    {
        let query = "type=TXT&name=\(Self.segment(Self.plain(name)))&per_page=100"
        let all: [Record] = try await call(
            "GET", "/zones/\(zone.id)/dns_records?\(query)", action: action, zone: zone)
        return all.filter { $0.content == value || $0.content == "\"\(value)\"" }
    }

    /// The configured zone id (its name read once), or the longest active zone whose name holds `name`.
    private func findZone(for name: DNSName) async throws -> (id: String, name: DNSName) {
        let action = "finding the zone for \(name)"
        if let zoneID {
            let zone: Zone = try await call("GET", "/zones/\(Self.segment(zoneID))", action: action, zone: nil)
            guard let zoneName = try? DNSName(zone.name), name.lowercased().isSubdomain(of: zoneName.lowercased())
            else {
                throw DNSProviderError(
                    provider: provider, endpoint: http.endpoint, action: action, zone: "\(zone.name) (\(zoneID))",
                    detail: "\(name) is not in that zone",
                    hint: "check zone_id: it must be the zone that holds the name")
            }
            return (zoneID, zoneName)
        }
        var next: DNSName? = name.lowercased().parent
        while let candidate = next, !candidate.labels.isEmpty {
            let zones: [Zone] = try await call(
                "GET", "/zones?name=\(Self.segment(Self.plain(candidate)))&status=active", action: action, zone: nil)
            if let zone = zones.first(where: { $0.name.lowercased() == Self.plain(candidate) }) {
                return (zone.id, candidate)
            }
            next = candidate.parent
        }
        throw DNSProviderError(
            provider: provider, endpoint: http.endpoint, action: action,
            detail: "no active zone the token can see holds \(name)",
            hint: "give the token Zone:Read and DNS:Edit on the zone (My Profile → API Tokens), or set zone_id")
    }

    private func call<Result: Decodable>(
        _ method: String, _ path: String, body: [UInt8] = [], action: String, zone: (id: String, name: DNSName)?
    ) async throws -> Result {
        let zoneLabel = zone.map { "\($0.name) (\($0.id))" }
        var requestHeaders = headers
        if !body.isEmpty { requestHeaders.append(("Content-Type", "application/json")) }
        let response = try await http.send(
            method, http.endpoint + path, headers: requestHeaders, body: body, action: action, zone: zoneLabel)
        let envelope = try? JSONDecoder().decode(Envelope<Result>.self, from: Data(response.body))
        guard response.succeeded, let envelope, envelope.success, let result = envelope.result else {
            let messages = (envelope?.errors ?? []).map { "\($0.code.map { "\($0) " } ?? "")\($0.message ?? "")" }
            let codes = Set((envelope?.errors ?? []).compactMap(\.code))
            throw http.failure(
                response, action: action, zone: zoneLabel,
                message: messages.isEmpty ? nil : messages.joined(separator: "; "),
                hint: Self.hint(status: response.status, codes: codes))
        }
        return result
    }

    static func hint(status: Int, codes: Set<Int>) -> String {
        if status == 401 || codes.contains(10000) || codes.contains(9109) || codes.contains(6003) {
            return "check api_token_file (or api_token_credential): Cloudflare does not accept this token"
        }
        if status == 403 || codes.contains(10001) {
            return "the token needs Zone:Read and DNS:Edit permission on this zone"
        }
        if status == 404 || codes.contains(7003) || codes.contains(1001) {
            return "check zone_id and api_url"
        }
        return "see https://www.cloudflarestatus.com if this persists"
    }

    /// A name as Cloudflare writes it: lowercase, no trailing dot.
    static func plain(_ name: DNSName) -> String { String(name.lowercased().description.dropLast()) }

    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private static let allowed = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
