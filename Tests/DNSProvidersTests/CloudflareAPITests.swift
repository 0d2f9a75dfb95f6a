import ACMEClient
import DNSWire
import Foundation
import Testing

@testable import DNSProviders

@Suite struct CloudflareAPITests {
    static let apiURL = "https://api.cloudflare.test/client/v4"
    static let token = "cf-token-Zx81-secret"
    static let zoneID = "023e105f4ecef8ad9ca31a8372d0c353"
    static let owner = "_acme-challenge.example.com"
    static let recordsURL =
        "\(apiURL)/zones/\(zoneID)/dns_records?type=TXT&name=_acme-challenge.example.com&per_page=100"

    static func envelope(_ result: String) -> HTTPResponseData {
        .json(200, #"{"success":true,"errors":[],"messages":[],"result":\#(result)}"#)
    }

    /// A Cloudflare account with example.com (active); the challenge name holds `records` (id, content).
    static func double(records: [(String, String)]) -> ScriptedProviderTransport {
        ScriptedProviderTransport { request, _ in
            switch (request.method, request.url) {
            case ("GET", "\(apiURL)/zones?name=example.com&status=active"):
                return envelope(#"[{"id":"\#(zoneID)","name":"example.com","status":"active"}]"#)
            case ("GET", recordsURL):
                let list = records.map {
                    #"{"id":"\#($0.0)","type":"TXT","name":"_acme-challenge.example.com","content":"\#($0.1.replacingOccurrences(of: "\"", with: "\\\""))","ttl":60}"#
                }
                return envelope("[\(list.joined(separator: ","))]")
            case ("POST", "\(apiURL)/zones/\(zoneID)/dns_records"):
                return envelope(#"{"id":"new-record","content":"x"}"#)
            case ("DELETE", let url) where url.hasPrefix("\(apiURL)/zones/\(zoneID)/dns_records/"):
                return envelope(#"{"id":"\#(url.split(separator: "/").last!)"}"#)
            default:
                throw UnexpectedRequest(request: request)
            }
        }
    }

    static func api(_ transport: ScriptedProviderTransport) -> CloudflareAPI {
        CloudflareAPI(apiToken: " \(token)\n", apiURL: apiURL, transport: transport)
    }

    @Test func addPostsOneTXTRecordNamedWithoutTheTrailingDot() async throws {
        let transport = Self.double(records: [("r-keep", "keep-me")])
        try await Self.api(transport).addTXT(name: try DNSName("_acme-challenge.Example.com."), value: "v1", ttl: 30)
        #expect(
            transport.lines == [
                "GET \(Self.apiURL)/zones?name=example.com&status=active", "GET \(Self.recordsURL)",
                "POST \(Self.apiURL)/zones/\(Self.zoneID)/dns_records",
            ])
        let post = try #require(transport.requests.last)
        let body = try post.jsonObject()
        #expect(body["type"] as? String == "TXT")
        #expect(body["name"] as? String == Self.owner)
        #expect(body["content"] as? String == "v1")
        #expect(body["ttl"] as? Int == 60, "Cloudflare's smallest TTL")
        #expect(post.header("Content-Type") == "application/json")
        for request in transport.requests {
            #expect(request.header("Authorization") == "Bearer \(Self.token)")
        }
        #expect(!transport.requests.contains { $0.method == "DELETE" })
    }

    @Test func addOfAValueAlreadyThereSendsNothing() async throws {
        let transport = Self.double(records: [("r1", "\"v1\"")])
        try await Self.api(transport).addTXT(name: try DNSName(Self.owner), value: "v1", ttl: 120)
        #expect(!transport.requests.contains { $0.method == "POST" })
    }

    @Test func removeDeletesOnlyTheRecordsHoldingTheValue() async throws {
        let transport = Self.double(records: [
            ("r-keep", "keep-me"), ("r-plain", "v1"), ("r-quoted", "\"v1\""), ("r-other", "v2"),
            ("r-prefix", "v1-longer"),
        ])
        try await Self.api(transport).removeTXT(name: try DNSName(Self.owner), value: "v1")
        #expect(
            transport.requests.filter { $0.method == "DELETE" }.map(\.url) == [
                "\(Self.apiURL)/zones/\(Self.zoneID)/dns_records/r-plain",
                "\(Self.apiURL)/zones/\(Self.zoneID)/dns_records/r-quoted",
            ])

        let none = Self.double(records: [("r-keep", "keep-me")])
        try await Self.api(none).removeTXT(name: try DNSName(Self.owner), value: "v1")
        #expect(!none.requests.contains { $0.method == "DELETE" })
    }

    @Test func rejectedTokenSaysWhatToCheckWithoutTheToken() async throws {
        let transport = ScriptedProviderTransport { _, _ in
            .json(
                403,
                #"{"success":false,"errors":[{"code":10000,"message":"Authentication error for \#(Self.token)"}],"messages":[],"result":null}"#
            )
        }
        let error = try await #require(throws: DNSProviderError.self) {
            try await Self.api(transport).addTXT(name: try DNSName(Self.owner), value: "v1", ttl: 60)
        }
        #expect(error.provider == "cloudflare")
        #expect(error.status == 403)
        #expect(error.description.contains("check api_token_file"))
        #expect(error.description.contains("10000 Authentication error"))
        #expect(!error.description.contains(Self.token))
        #expect(transport.requests.count == 1)
    }

    @Test func hintsByStatusAndCode() {
        #expect(CloudflareAPI.hint(status: 401, codes: []).contains("api_token_file"))
        #expect(CloudflareAPI.hint(status: 403, codes: []).contains("Zone:Read and DNS:Edit"))
        #expect(CloudflareAPI.hint(status: 400, codes: [10001]).contains("Zone:Read and DNS:Edit"))
        #expect(CloudflareAPI.hint(status: 404, codes: []).contains("zone_id"))
        #expect(CloudflareAPI.hint(status: 500, codes: []).contains("cloudflarestatus"))
    }

    @Test func zoneIsFoundByWalkingUpAndAConfiguredZoneMustHoldTheName() async throws {
        let transport = ScriptedProviderTransport { request, _ in
            switch request.url {
            case "\(Self.apiURL)/zones?name=example.com&status=active":
                return Self.envelope(#"[{"id":"\#(Self.zoneID)","name":"example.com"}]"#)
            case "\(Self.apiURL)/zones/\(Self.zoneID)":
                return Self.envelope(#"{"id":"\#(Self.zoneID)","name":"example.com"}"#)
            default:
                return Self.envelope("[]")
            }
        }
        let zone = try await Self.api(transport).zone(for: try DNSName("_acme-challenge.a.b.example.com"))
        #expect(zone.description == "example.com.")
        #expect(
            transport.lines == [
                "GET \(Self.apiURL)/zones?name=a.b.example.com&status=active",
                "GET \(Self.apiURL)/zones?name=b.example.com&status=active",
                "GET \(Self.apiURL)/zones?name=example.com&status=active",
            ])

        var configured = Self.api(transport)
        configured.zoneID = Self.zoneID
        #expect(try await configured.zone(for: try DNSName(Self.owner)).description == "example.com.")
        let error = try await #require(throws: DNSProviderError.self) {
            try await configured.zone(for: try DNSName("_acme-challenge.example.org"))
        }
        #expect(error.hint.contains("check zone_id"))
    }
}
