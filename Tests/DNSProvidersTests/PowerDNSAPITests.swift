import ACMEClient
import DNSWire
import Foundation
import Testing

@testable import DNSProviders

@Suite struct PowerDNSAPITests {
    static let apiURL = "http://127.0.0.1:8081"
    static let server = "http://127.0.0.1:8081/api/v1/servers/localhost"
    static let apiKey = "pdns-s3cr3t-key-77"
    static let owner = "_acme-challenge.example.com."

    /// A PowerDNS server holding `zones`; `GET` of example.com. answers `zoneJSON`, `PATCH` answers `patch`.
    static func double(
        zones: Set<String> = ["example.com."], zoneJSON: String, patch: HTTPResponseData = HTTPResponseData(status: 204)
    ) -> ScriptedProviderTransport {
        ScriptedProviderTransport { request, _ in try answer(request, zones: zones, zoneJSON: zoneJSON, patch: patch) }
    }

    static func answer(
        _ request: HTTPRequestData, zones: Set<String> = ["example.com."], zoneJSON: String,
        patch: HTTPResponseData = HTTPResponseData(status: 204)
    ) throws -> HTTPResponseData {
        let listPrefix = "\(server)/zones?zone="
        if request.method == "GET", request.url.hasPrefix(listPrefix) {
            let name = String(request.url.dropFirst(listPrefix.count))
            guard zones.contains(name) else { return .json(200, "[]") }
            return .json(
                200,
                #"[{"id":"\#(name)","name":"\#(name)","kind":"Native","url":"/api/v1/servers/localhost/zones/\#(name)"}]"#
            )
        }
        if request.url == "\(server)/zones/example.com." {
            if request.method == "GET" { return .json(200, zoneJSON) }
            if request.method == "PATCH" { return patch }
        }
        throw UnexpectedRequest(request: request)
    }

    /// example.com. with a TXT RRset at the challenge name holding `values` (quoted as PowerDNS stores them).
    static func zone(values: [String], ttl: Int = 120) -> String {
        let records = values.map { #"{"content":"\"\#($0)\"","disabled":false}"# }.joined(separator: ",")
        let txt =
            values.isEmpty
            ? ""
            : #"{"name":"\#(owner)","type":"TXT","ttl":\#(ttl),"records":[\#(records)],"comments":[]},"#
        return #"""
            {"id":"example.com.","name":"example.com.","kind":"Native","serial":1,"rrsets":[\#(txt)
            {"name":"example.com.","type":"SOA","ttl":3600,"records":[{"content":"ns1.example.com. h.example.com. 1 10800 3600 604800 3600","disabled":false}],"comments":[]},
            {"name":"www.example.com.","type":"TXT","ttl":60,"records":[{"content":"\"other-name\"","disabled":false}],"comments":[]}]}
            """#
    }

    static func api(_ transport: ScriptedProviderTransport, zone: String? = nil) throws -> PowerDNSAPI {
        PowerDNSAPI(
            apiURL: apiURL, apiKey: apiKey + "\n", zone: try zone.map { try DNSName($0) }, transport: transport)
    }

    /// The one RRset of the PATCH request.
    static func patchedRRset(_ transport: ScriptedProviderTransport) throws -> [String: Any] {
        let patches = transport.requests.filter { $0.method == "PATCH" }
        try #require(patches.count == 1)
        let rrsets = try #require(try patches[0].jsonObject()["rrsets"] as? [[String: Any]])
        try #require(rrsets.count == 1)
        return rrsets[0]
    }

    static func contents(_ rrset: [String: Any]) -> [String] {
        (rrset["records"] as? [[String: Any]] ?? []).compactMap { $0["content"] as? String }
    }

    @Test func quotedAndUnquoted() {
        #expect(PowerDNSAPI.quoted("abc-_123") == "\"abc-_123\"")
        #expect(PowerDNSAPI.unquoted("\"abc\"") == "abc")
        #expect(PowerDNSAPI.unquoted("\"abc\" \"def\"") == "abcdef")
        #expect(PowerDNSAPI.unquoted(#""say \"hi\"""#) == #"say "hi""#)
        #expect(PowerDNSAPI.unquoted(#""back\\slash""#) == #"back\slash"#)
        #expect(PowerDNSAPI.unquoted(PowerDNSAPI.quoted("round-trip")) == "round-trip")
        #expect(PowerDNSAPI.unquoted("") == "")
    }

    @Test func addKeepsTheExistingValueAndReplacesTheRRsetWithBoth() async throws {
        let transport = Self.double(zoneJSON: Self.zone(values: ["keep-me"]))
        try await Self.api(transport).addTXT(name: try DNSName(Self.owner), value: "new-value", ttl: 60)
        #expect(
            transport.lines == [
                "GET \(Self.server)/zones?zone=example.com.", "GET \(Self.server)/zones/example.com.",
                "PATCH \(Self.server)/zones/example.com.",
            ])
        let rrset = try Self.patchedRRset(transport)
        #expect(rrset["changetype"] as? String == "REPLACE")
        #expect(rrset["name"] as? String == Self.owner)
        #expect(rrset["type"] as? String == "TXT")
        #expect(rrset["ttl"] as? Int == 120, "the RRset's TTL is kept")
        #expect(Self.contents(rrset) == ["\"keep-me\"", "\"new-value\""])
        #expect((rrset["records"] as? [[String: Any]])?.allSatisfy { $0["disabled"] as? Bool == false } == true)
        for request in transport.requests {
            #expect(request.header("X-API-Key") == Self.apiKey, "the key is sent trimmed")
        }
        let patch = try #require(transport.requests.last)
        #expect(patch.header("Content-Type") == "application/json")
    }

    @Test func addToAnEmptyNameUsesTheGivenTTLAndAnExistingValueIsNotAddedTwice() async throws {
        let empty = Self.double(zoneJSON: Self.zone(values: []))
        try await Self.api(empty).addTXT(name: try DNSName(Self.owner), value: "v1", ttl: 42)
        let rrset = try Self.patchedRRset(empty)
        #expect(rrset["changetype"] as? String == "REPLACE")
        #expect(rrset["ttl"] as? Int == 42)
        #expect(Self.contents(rrset) == ["\"v1\""])

        let present = Self.double(zoneJSON: Self.zone(values: ["keep-me", "v1"]))
        try await Self.api(present).addTXT(name: try DNSName(Self.owner), value: "v1", ttl: 60)
        #expect(present.requests.filter { $0.method == "PATCH" }.isEmpty)
    }

    @Test func removingTheLastValueDeletesTheRRset() async throws {
        let transport = Self.double(zoneJSON: Self.zone(values: ["v1"]))
        try await Self.api(transport).removeTXT(name: try DNSName(Self.owner), value: "v1")
        let rrset = try Self.patchedRRset(transport)
        #expect(rrset["changetype"] as? String == "DELETE")
        #expect(rrset["name"] as? String == Self.owner)
        #expect(rrset["type"] as? String == "TXT")
        #expect(Self.contents(rrset) == [])
    }

    @Test func removingOneValueReplacesTheRRsetWithTheRest() async throws {
        let transport = Self.double(zoneJSON: Self.zone(values: ["keep-me", "v1", "v2"], ttl: 300))
        try await Self.api(transport).removeTXT(name: try DNSName(Self.owner), value: "v1")
        let rrset = try Self.patchedRRset(transport)
        #expect(rrset["changetype"] as? String == "REPLACE")
        #expect(rrset["ttl"] as? Int == 300)
        #expect(Self.contents(rrset) == ["\"keep-me\"", "\"v2\""])

        let absent = Self.double(zoneJSON: Self.zone(values: ["keep-me"]))
        try await Self.api(absent).removeTXT(name: try DNSName(Self.owner), value: "v1")
        #expect(absent.requests.filter { $0.method == "PATCH" }.isEmpty, "nothing to remove: no change sent")
    }

    @Test func unauthorizedSaysWhatToCheckWithoutTheKey() async throws {
        let transport = ScriptedProviderTransport { _, _ in
            .json(401, #"{"error":"Unauthorized: bad api-key \#(Self.apiKey)"}"#)
        }
        let error = try await #require(throws: DNSProviderError.self) {
            try await Self.api(transport).addTXT(name: try DNSName(Self.owner), value: "v1", ttl: 60)
        }
        #expect(error.status == 401)
        #expect(error.provider == "powerdns")
        #expect(error.endpoint == Self.apiURL)
        #expect(error.description.contains("check api_key_file"))
        #expect(error.description.contains("finding the zone for \(Self.owner)"))
        #expect(error.description.contains("[redacted]"))
        #expect(!error.description.contains(Self.apiKey))
        #expect(!"\(error)".contains(Self.apiKey))
        #expect(transport.requests.count == 1, "a 401 is not retried")
    }

    @Test func zoneIsFoundByWalkingUpTheParents() async throws {
        let transport = Self.double(zones: ["example.com.", "com."], zoneJSON: Self.zone(values: []))
        let zone = try await Self.api(transport).zone(for: try DNSName("_acme-challenge.www.Sub.Example.com"))
        #expect(zone.description == "example.com.")
        #expect(
            transport.lines == [
                "GET \(Self.server)/zones?zone=www.sub.example.com.", "GET \(Self.server)/zones?zone=sub.example.com.",
                "GET \(Self.server)/zones?zone=example.com.",
            ])

        let deeper = Self.double(zones: ["sub.example.com.", "example.com."], zoneJSON: "{}")
        #expect(
            try await Self.api(deeper).zone(for: try DNSName("_acme-challenge.sub.example.com")).description
                == "sub.example.com.")
        #expect(deeper.lines == ["GET \(Self.server)/zones?zone=sub.example.com."])

        let none = Self.double(zones: [], zoneJSON: "{}")
        let error = try await #require(throws: DNSProviderError.self) {
            try await Self.api(none).zone(for: try DNSName("_acme-challenge.example.org"))
        }
        #expect(error.detail.contains("has no zone that holds _acme-challenge.example.org."))
        #expect(error.hint.contains("create the zone"))
        #expect(none.lines.count == 2)
    }

    @Test func configuredZoneIsAskedForAloneAndMustHoldTheName() async throws {
        let transport = Self.double(zones: ["example.com."], zoneJSON: Self.zone(values: []))
        // The spec's zone as the config parser gives it: lowercased, without the trailing dot.
        let zone = try await Self.api(transport, zone: "example.com").zone(for: try DNSName(Self.owner))
        #expect(zone.description == "example.com.")
        #expect(transport.lines == ["GET \(Self.server)/zones?zone=example.com."])

        let error = try await #require(throws: DNSProviderError.self) {
            try await Self.api(transport, zone: "example.com").zone(for: try DNSName("_acme-challenge.example.org"))
        }
        #expect(error.hint.contains("check the spec's zone"))
    }

    @Test func serverErrorIsRetriedOnAFreshConnection() async throws {
        let transport = ScriptedProviderTransport { request, call in
            if request.url.hasSuffix("zones?zone=example.com."), call == 0 {
                return .json(500, #"{"error":"database is locked"}"#)
            }
            return try Self.answer(request, zoneJSON: Self.zone(values: ["keep-me"]))
        }
        // PowerDNSAPI.init takes no sleep; the ProviderHTTP it holds does.
        var api = try Self.api(transport)
        let sleeps = SleepRecorder()
        api.http.sleep = sleeps.sleep
        try await api.addTXT(name: try DNSName(Self.owner), value: "v1", ttl: 60)
        #expect(sleeps.sleeps == [.milliseconds(500)])
        #expect(
            transport.requests.map { "\($0.method) \($0.url) \($0.freshConnection)" }.prefix(2) == [
                "GET \(Self.server)/zones?zone=example.com. false", "GET \(Self.server)/zones?zone=example.com. true",
            ])
        #expect(Self.contents(try Self.patchedRRset(transport)) == ["\"keep-me\"", "\"v1\""])
    }

    @Test func persistentServerErrorGivesUpAfterThreeAttempts() async throws {
        let transport = ScriptedProviderTransport { _, _ in .json(503, #"{"error":"busy"}"#) }
        var api = try Self.api(transport)
        let sleeps = SleepRecorder()
        api.http.sleep = sleeps.sleep
        let error = try await #require(throws: DNSProviderError.self) {
            try await api.zone(for: try DNSName(Self.owner))
        }
        #expect(error.status == 503)
        #expect(error.detail == "busy")
        #expect(error.hint == "check the PowerDNS server's log")
        #expect(transport.requests.count == 3)
        #expect(sleeps.sleeps == [.milliseconds(500), .milliseconds(1000)])
    }

    @Test func droppedConnectionIsRetriedAndARefusedOneReported() async throws {
        let transport = ScriptedProviderTransport { request, call in
            if call == 0 {
                throw HTTPTransportError(kind: .connectionReset, url: request.url, message: "reset by peer")
            }
            return try Self.answer(request, zoneJSON: "{}")
        }
        var api = try Self.api(transport)
        let sleeps = SleepRecorder()
        api.http.sleep = sleeps.sleep
        #expect(try await api.zone(for: try DNSName(Self.owner)).description == "example.com.")
        #expect(transport.requests.count == 2)

        let failing = ScriptedProviderTransport { request, _ in
            throw HTTPTransportError(kind: .tls, url: request.url, message: "certificate for \(Self.apiKey)")
        }
        var broken = try Self.api(failing)
        broken.http.sleep = sleeps.sleep
        let error = try await #require(throws: DNSProviderError.self) {
            try await broken.zone(for: try DNSName(Self.owner))
        }
        #expect(error.status == nil)
        #expect(error.hint.contains("api_url"))
        #expect(!error.description.contains(Self.apiKey))
        #expect(failing.requests.count == 1, "a TLS failure is not retried")
    }

    /// A change that meets a server error is tried again from the read: the second PATCH follows a second GET of the
    /// zone, never a PATCH alone (the first may have gone through before its answer was lost).
    @Test func aFailedChangeIsRetriedFromTheReadNotResentAlone() async throws {
        let transport = ScriptedProviderTransport { request, call in
            if request.method == "PATCH", call == 0 { return .json(500, #"{"error":"database is locked"}"#) }
            return try Self.answer(request, zoneJSON: Self.zone(values: ["keep-me"]))
        }
        var api = try Self.api(transport)
        let sleeps = SleepRecorder()
        api.http.sleep = sleeps.sleep
        try await api.addTXT(name: try DNSName(Self.owner), value: "new-value", ttl: 60)
        let sequence = transport.requests.compactMap { request -> String? in
            guard request.url.hasSuffix("/zones/example.com.") else { return nil }
            return request.method == "PATCH" ? "patch" : "read"
        }
        #expect(sequence == ["read", "patch", "read", "patch"], "\(sequence)")
        #expect(sleeps.sleeps == [.milliseconds(500)])
    }
}
