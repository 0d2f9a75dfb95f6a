import ACMEClient
import Crypto
import DNSWire
import Foundation
import Testing

@testable import DNSProviders

@Suite struct Route53APITests {
    static let base = "https://route53.amazonaws.com/2013-04-01"
    static let secret = "r53-SECRET-wJalrXUtnFEMI/K7MDENG"
    static let credentials = AWSSignatureV4.Credentials(accessKeyID: "AKIDROUTE53TEST", secretAccessKey: secret)
    static let owner = "_acme-challenge.example.com."
    static let listURL = "\(base)/hostedzone/Z0123/rrset?name=_acme-challenge.example.com.&type=TXT&maxitems=1"

    static let zones = """
        <?xml version="1.0"?>
        <ListHostedZonesByNameResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><HostedZones>\
        <HostedZone><Id>/hostedzone/ZPRIVATE</Id><Name>example.com.</Name><Config><PrivateZone>true</PrivateZone>\
        </Config></HostedZone>\
        <HostedZone><Id>/hostedzone/Z0123</Id><Name>example.com.</Name><Config><PrivateZone>false</PrivateZone>\
        </Config></HostedZone>\
        <HostedZone><Id>/hostedzone/ZNET</Id><Name>example.net.</Name><Config><PrivateZone>false</PrivateZone>\
        </Config></HostedZone>\
        </HostedZones><DNSName>example.com.</DNSName><IsTruncated>false</IsTruncated><MaxItems>10</MaxItems>\
        </ListHostedZonesByNameResponse>
        """

    /// The record sets from `_acme-challenge.example.com.` on: the TXT set holding `values`, when any, then www.
    static func recordSets(_ values: [String], ttl: Int = 300) -> String {
        let txt =
            values.isEmpty
            ? ""
            : "<ResourceRecordSet><Name>\(owner)</Name><Type>TXT</Type><TTL>\(ttl)</TTL><ResourceRecords>"
                + values.map { "<ResourceRecord><Value>&quot;\($0)&quot;</Value></ResourceRecord>" }.joined()
                + "</ResourceRecords></ResourceRecordSet>"
        return """
            <?xml version="1.0"?>
            <ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ResourceRecordSets>\
            \(txt)<ResourceRecordSet><Name>www.example.com.</Name><Type>TXT</Type><TTL>60</TTL><ResourceRecords>\
            <ResourceRecord><Value>"not-this-one"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>\
            </ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>1</MaxItems></ListResourceRecordSetsResponse>
            """
    }

    static func changeStatus(_ status: String) -> String {
        """
        <?xml version="1.0"?>
        <GetChangeResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo><Id>/change/C1</Id>\
        <Status>\(status)</Status><SubmittedAt>2026-01-01T00:00:00.000Z</SubmittedAt></ChangeInfo></GetChangeResponse>
        """
    }

    /// Route 53 with example.com. (Z0123); the change stays PENDING for `pendingPolls` GetChange calls.
    static func double(values: [String], ttl: Int = 300, pendingPolls: Int = 0) -> ScriptedProviderTransport {
        ScriptedProviderTransport { request, call in
            switch (request.method, request.url) {
            case ("GET", "\(base)/hostedzonesbyname?dnsname=example.com.&maxitems=10"):
                return .xml(200, zones)
            case ("GET", listURL):
                return .xml(200, recordSets(values, ttl: ttl))
            case ("POST", "\(base)/hostedzone/Z0123/rrset/"):
                return .xml(
                    200,
                    "<ChangeResourceRecordSetsResponse><ChangeInfo><Id>/change/C1</Id><Status>PENDING</Status>"
                        + "</ChangeInfo></ChangeResourceRecordSetsResponse>")
            case ("GET", "\(base)/change/C1"):
                return .xml(200, changeStatus(call < pendingPolls ? "PENDING" : "INSYNC"))
            default:
                throw UnexpectedRequest(request: request)
            }
        }
    }

    static func api(
        _ transport: ScriptedProviderTransport, clock: TestClock, syncTimeout: Duration = .seconds(180)
    ) -> Route53API {
        Route53API(
            credentials: credentials, transport: transport, syncTimeout: syncTimeout, now: clock.now,
            sleep: clock.sleep)
    }

    /// Action, TTL and values of the one ChangeResourceRecordSets request.
    static func change(_ transport: ScriptedProviderTransport) throws -> (
        action: String?, ttl: String?, values: [String]
    ) {
        let posts = transport.requests.filter { $0.method == "POST" }
        try #require(posts.count == 1)
        let text = posts[0].bodyText[...]
        let set = try #require(Route53XML.elements("ResourceRecordSet", in: text).first)
        #expect(Route53XML.value("Name", in: set) == owner)
        #expect(Route53XML.value("Type", in: set) == "TXT")
        return (
            Route53XML.value("Action", in: text), Route53XML.value("TTL", in: set),
            Route53XML.elements("Value", in: set).map(Route53XML.decode)
        )
    }

    @Test func addUpsertsTheExistingValuesPlusTheNewOneAndWaitsForINSYNC() async throws {
        let clock = TestClock()
        let transport = Self.double(values: ["keep-me"], pendingPolls: 2)
        try await Self.api(transport, clock: clock).addTXT(name: try DNSName(Self.owner), value: "v1", ttl: 60)
        let change = try Self.change(transport)
        #expect(change.action == "UPSERT")
        #expect(change.ttl == "300", "the RRset's TTL is kept")
        #expect(change.values == ["\"keep-me\"", "\"v1\""])
        #expect(
            transport.lines == [
                "GET \(Self.base)/hostedzonesbyname?dnsname=example.com.&maxitems=10", "GET \(Self.listURL)",
                "POST \(Self.base)/hostedzone/Z0123/rrset/", "GET \(Self.base)/change/C1", "GET \(Self.base)/change/C1",
                "GET \(Self.base)/change/C1",
            ], "the public zone Z0123 is chosen over the private one")
        #expect(clock.sleeps == [.seconds(2), .seconds(2)])
        let post = try #require(transport.requests.first { $0.method == "POST" })
        #expect(post.header("Content-Type") == "application/xml")
        #expect(
            post.header("X-Amz-Content-Sha256")
                == SHA256.hash(data: post.body).map { String(format: "%02x", $0) }.joined())
        for request in transport.requests {
            #expect(request.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDROUTE53TEST/") == true)
            #expect(!request.headers.contains { $0.1.contains(Self.secret) })
        }
        // Each request is signed when it is sent: the polls follow the clock the pauses moved.
        #expect(
            transport.requests.map { $0.header("X-Amz-Date") ?? "" } == [
                "20270115T080000Z", "20270115T080000Z", "20270115T080000Z", "20270115T080000Z", "20270115T080002Z",
                "20270115T080004Z",
            ])
    }

    @Test func addToAnAbsentNameUsesTheGivenTTLAndAValueAlreadyThereSendsNothing() async throws {
        let empty = Self.double(values: [])
        try await Self.api(empty, clock: TestClock()).addTXT(name: try DNSName(Self.owner), value: "v1", ttl: 61)
        let change = try Self.change(empty)
        #expect(change.action == "UPSERT")
        #expect(change.ttl == "61")
        #expect(change.values == ["\"v1\""], "www.example.com.'s value is not taken for this name's")

        let present = Self.double(values: ["v1"])
        try await Self.api(present, clock: TestClock()).addTXT(name: try DNSName(Self.owner), value: "v1", ttl: 60)
        #expect(!present.requests.contains { $0.method == "POST" })
    }

    @Test func removingTheLastValueDeletesTheRRsetWithItsExactValues() async throws {
        let transport = Self.double(values: ["v1"], ttl: 77)
        try await Self.api(transport, clock: TestClock()).removeTXT(name: try DNSName(Self.owner), value: "v1")
        let change = try Self.change(transport)
        #expect(change.action == "DELETE")
        #expect(change.ttl == "77")
        #expect(change.values == ["\"v1\""])
    }

    @Test func removingOneValueUpsertsTheRest() async throws {
        let transport = Self.double(values: ["keep-me", "v1"])
        try await Self.api(transport, clock: TestClock()).removeTXT(name: try DNSName(Self.owner), value: "v1")
        let change = try Self.change(transport)
        #expect(change.action == "UPSERT")
        #expect(change.values == ["\"keep-me\""])

        let absent = Self.double(values: ["keep-me"])
        try await Self.api(absent, clock: TestClock()).removeTXT(name: try DNSName(Self.owner), value: "v1")
        #expect(!absent.requests.contains { $0.method == "POST" })
    }

    @Test func aChangeThatStaysPendingTimesOut() async throws {
        let clock = TestClock()
        let transport = Self.double(values: [], pendingPolls: .max)
        let api = Self.api(transport, clock: clock, syncTimeout: .seconds(10))
        let error = try await #require(throws: DNSProviderError.self) {
            try await api.addTXT(name: try DNSName(Self.owner), value: "v1", ttl: 60)
        }
        #expect(error.provider == "route53")
        #expect(error.action.contains("waiting for change C1"))
        #expect(error.detail.hasPrefix("still PENDING after "))
        #expect(error.zone == "example.com. (Z0123)")
        // Polled at 0, 2, 4, 6, 8 and 10 s of the test clock; no real time passed.
        #expect(transport.lines.filter { $0.hasSuffix("/change/C1") }.count == 6)
        #expect(clock.sleeps == Array(repeating: .seconds(2), count: 5))
    }

    static func errorXML(_ code: String, _ message: String) -> String {
        """
        <?xml version="1.0"?>
        <ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type>\
        <Code>\(code)</Code><Message>\(message)</Message></Error><RequestId>r-1</RequestId></ErrorResponse>
        """
    }

    @Test func errorCodesMapToWhatToCheckAndTheSecretIsNeverShown() async throws {
        let transport = ScriptedProviderTransport { _, _ in
            .xml(
                403,
                Self.errorXML(
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match; secret \(Self.secret) and token FQoGtoken"))
        }
        var credentials = Self.credentials
        credentials.sessionToken = "FQoGtoken"
        let api = Route53API(
            credentials: credentials, transport: transport, now: TestClock().now, sleep: { _ in })
        let error = try await #require(throws: DNSProviderError.self) {
            try await api.addTXT(name: try DNSName(Self.owner), value: "v1", ttl: 60)
        }
        #expect(error.status == 403)
        #expect(error.description.contains("SignatureDoesNotMatch: The request signature we calculated"))
        #expect(error.description.contains("secret_access_key_file"))
        #expect(!error.description.contains(Self.secret))
        #expect(!error.description.contains("FQoGtoken"))
        #expect(transport.requests.first?.header("X-Amz-Security-Token") == "FQoGtoken")

        let unknownKey = ScriptedProviderTransport { _, _ in
            .xml(403, Self.errorXML("InvalidClientTokenId", "The security token included in the request is invalid."))
        }
        let keyError = try await #require(throws: DNSProviderError.self) {
            try await Self.api(unknownKey, clock: TestClock()).zone(for: try DNSName(Self.owner))
        }
        #expect(keyError.hint.contains("access_key_id_file"))

        #expect(Route53API.hint(code: "AccessDenied", status: 403).contains("route53:ChangeResourceRecordSets"))
        #expect(Route53API.hint(code: "NoSuchHostedZone", status: 404) == "check hosted_zone_id")
        #expect(Route53API.hint(code: "PriorRequestNotComplete", status: 400).contains("rate-limiting"))
        #expect(Route53API.hint(code: nil, status: 403) == "check the credentials and their IAM permissions")
        #expect(Route53API.hint(code: nil, status: 400) == "check api_url and region")
    }

    @Test func configuredHostedZoneMustHoldTheName() async throws {
        let transport = ScriptedProviderTransport { request, _ in
            guard request.url == "\(Self.base)/hostedzone/ZCONF" else { throw UnexpectedRequest(request: request) }
            return .xml(
                200,
                "<GetHostedZoneResponse><HostedZone><Id>/hostedzone/ZCONF</Id><Name>Example.com</Name></HostedZone>"
                    + "<DelegationSet><NameServers><NameServer>ns-1.awsdns-00.com</NameServer></NameServers>"
                    + "</DelegationSet></GetHostedZoneResponse>")
        }
        let api = Route53API(
            credentials: Self.credentials, hostedZoneID: "ZCONF", transport: transport, now: TestClock().now,
            sleep: { _ in })
        #expect(try await api.zone(for: try DNSName(Self.owner)).description.lowercased() == "example.com.")
        let error = try await #require(throws: DNSProviderError.self) {
            try await api.zone(for: try DNSName("_acme-challenge.example.org"))
        }
        #expect(error.hint.contains("check hosted_zone_id"))
    }

    @Test func anotherEndpointKeepsItsPortAndPathInTheURLAndTheSignedHost() async throws {
        let transport = ScriptedProviderTransport { request, _ in
            .xml(
                200,
                "<ListHostedZonesByNameResponse><HostedZones><HostedZone><Id>/hostedzone/Z9</Id>"
                    + "<Name>example.com.</Name></HostedZone></HostedZones></ListHostedZonesByNameResponse>")
        }
        let api = Route53API(
            credentials: Self.credentials, apiURL: "http://127.0.0.1:5000/r53", transport: transport,
            now: TestClock().now, sleep: { _ in })
        #expect(try await api.zone(for: try DNSName(Self.owner)).description == "example.com.")
        #expect(
            transport.lines == [
                "GET http://127.0.0.1:5000/r53/2013-04-01/hostedzonesbyname?dnsname=example.com.&maxitems=10"
            ])
        let expected = AWSSignatureV4(credentials: Self.credentials, region: "us-east-1", service: "route53").sign(
            method: "GET", host: "127.0.0.1:5000", path: "/r53/2013-04-01/hostedzonesbyname",
            query: [("dnsname", "example.com."), ("maxitems", "10")], body: [], date: TestClock().now())
        #expect(transport.requests.first?.header("Authorization") == expected.first { $0.0 == "Authorization" }?.1)
    }
}
