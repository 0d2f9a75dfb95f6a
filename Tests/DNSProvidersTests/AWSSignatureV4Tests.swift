import ACMEClient
import Crypto
import DNSWire
import Foundation
import Testing

@testable import DNSProviders

/// The signer against AWS's own reference implementation (botocore) and against a canonical request written out by
/// hand from the SigV4 specification.
///
/// The `botocore*` literals below were produced once, offline, with botocore 1.44.8 (/tmp/motovenv/bin/python):
///
/// ```python
/// import datetime, hashlib
/// from unittest import mock
/// from botocore.auth import SigV4Auth
/// from botocore.awsrequest import AWSRequest
/// from botocore.credentials import Credentials
///
/// def sign(method, url, host, params, body, service, token=None):
///     creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
///     req = AWSRequest(method=method, url=url, params=params, data=body)
///     req.headers["host"] = host
///     req.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
///     with mock.patch("botocore.auth.get_current_datetime",
///                     return_value=datetime.datetime(2015, 8, 30, 12, 36, 0)):
///         SigV4Auth(creds, service, "us-east-1").add_auth(req)
///     return req.headers["Authorization"]
///
/// sign("GET", "https://example.amazonaws.com/", "example.amazonaws.com", [], b"", "service")
/// sign("GET", "https://route53.amazonaws.com/2013-04-01/hostedzonesbyname", "route53.amazonaws.com",
///      [("dnsname", "example.com."), ("maxitems", "10")], b"", "route53")
/// sign("GET", "https://route53.amazonaws.com/2013-04-01/hostedzone/Z0123/rrset", "route53.amazonaws.com",
///      [("name", "\\052.example.com."), ("type", "TXT"), ("maxitems", "1"), ("note", "a b/c+d=e&f~")], b"",
///      "route53")
/// sign("POST", "https://route53.amazonaws.com/2013-04-01/hostedzone/Z0123/rrset/", "route53.amazonaws.com",
///      [], AWSSignatureV4Tests.xmlBody (as bytes), "route53")
/// sign("GET", "http://127.0.0.1:5000/2013-04-01/change/C42", "127.0.0.1:5000", [], b"", "route53",
///      token="FQoGZXIvYXdzEXAMPLETOKEN")
/// sign("GET", "https://route53.amazonaws.com/2013-04-01/change/a%20b", "route53.amazonaws.com", [], b"", "route53")
/// ```
///
/// The same harness without the `X-Amz-Content-SHA256` header gives the published "get-vanilla" signature
/// 5fa00fa3...3fbf31, so it is set up as AWS signs.
@Suite struct AWSSignatureV4Tests {
    static let credentials = AWSSignatureV4.Credentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    /// 2015-08-30T12:36:00Z.
    static let date = Date(timeIntervalSince1970: 1_440_938_160)
    static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    static let xmlBody =
        #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        + #"<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch>"#
        + "<Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>_acme-challenge.example.com.</Name>"
        + "<Type>TXT</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>&quot;v&quot;</Value>"
        + "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch>"
        + "</ChangeResourceRecordSetsRequest>"

    static func authorization(_ headers: [(String, String)]) -> String? {
        headers.first { $0.0 == "Authorization" }?.1
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// The SigV4 steps written out independently of the signer: string to sign, then the HMAC key chain.
    static func signature(canonicalRequest: String, service: String, secret: String = credentials.secretAccessKey)
        -> String
    {
        let stringToSign = [
            "AWS4-HMAC-SHA256", "20150830T123600Z", "20150830/us-east-1/\(service)/aws4_request",
            hex(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        let kDate = HMAC<SHA256>.authenticationCode(
            for: Array("20150830".utf8), using: SymmetricKey(data: Array("AWS4\(secret)".utf8)))
        let kRegion = HMAC<SHA256>.authenticationCode(for: Array("us-east-1".utf8), using: SymmetricKey(data: kDate))
        let kService = HMAC<SHA256>.authenticationCode(for: Array(service.utf8), using: SymmetricKey(data: kRegion))
        let kSigning = HMAC<SHA256>.authenticationCode(
            for: Array("aws4_request".utf8), using: SymmetricKey(data: kService))
        return hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: SymmetricKey(data: kSigning)))
    }

    @Test func handWrittenChainReproducesThePublishedGetVanillaVector() {
        // aws-sig-v4-test-suite/get-vanilla: get-vanilla.creq, .sts and .authz, verbatim.
        let canonical = """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            \(Self.emptySHA256)
            """
        #expect(
            Self.hex(SHA256.hash(data: Array(canonical.utf8)))
                == "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")
        #expect(
            Self.signature(canonicalRequest: canonical, service: "service")
                == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func getVanillaWithThePayloadHashHeaderMatchesTheSpecAndBotocore() {
        let signer = AWSSignatureV4(credentials: Self.credentials, region: "us-east-1", service: "service")
        let headers = signer.sign(
            method: "GET", host: "example.amazonaws.com", path: "/", query: [], body: [], date: Self.date)
        let canonical = """
            GET
            /

            host:example.amazonaws.com
            x-amz-content-sha256:\(Self.emptySHA256)
            x-amz-date:20150830T123600Z

            host;x-amz-content-sha256;x-amz-date
            \(Self.emptySHA256)
            """
        let expected =
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
        #expect(
            Self.authorization(headers)
                == expected + Self.signature(canonicalRequest: canonical, service: "service"))
        // botocore
        #expect(
            Self.authorization(headers)
                == expected + "726c5c4879a6b4ccbbd3b24edbd6b8826d34f87450fbbf4e85546fc7ba9c1642")
        #expect(headers.first { $0.0 == "X-Amz-Date" }?.1 == "20150830T123600Z")
        #expect(headers.first { $0.0 == "X-Amz-Content-Sha256" }?.1 == Self.emptySHA256)
        // The empty path is signed as "/".
        #expect(
            Self.authorization(
                signer.sign(
                    method: "GET", host: "example.amazonaws.com", path: "", query: [], body: [], date: Self.date))
                == Self.authorization(headers))
    }

    @Test func queryParametersAreEncodedAndSortedAsAWSDoes() {
        let signer = AWSSignatureV4(credentials: Self.credentials, region: "us-east-1", service: "route53")
        // Out of order on purpose, with characters that must be percent-encoded (and one, ~, that must not).
        let headers = signer.sign(
            method: "GET", host: "route53.amazonaws.com", path: "/2013-04-01/hostedzone/Z0123/rrset",
            query: [("type", "TXT"), ("note", "a b/c+d=e&f~"), ("name", #"\052.example.com."#), ("maxitems", "1")],
            body: [], date: Self.date)
        let canonical = """
            GET
            /2013-04-01/hostedzone/Z0123/rrset
            maxitems=1&name=%5C052.example.com.&note=a%20b%2Fc%2Bd%3De%26f~&type=TXT
            host:route53.amazonaws.com
            x-amz-content-sha256:\(Self.emptySHA256)
            x-amz-date:20150830T123600Z

            host;x-amz-content-sha256;x-amz-date
            \(Self.emptySHA256)
            """
        let prefix =
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/route53/aws4_request, "
            + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
        #expect(
            Self.authorization(headers) == prefix + Self.signature(canonicalRequest: canonical, service: "route53"))
        #expect(
            Self.authorization(headers) == prefix + "badf74261d90848224f6b7efea776d88f7b9f14380d9477bcd5fa4cf8ff41868")
        #expect(AWSSignatureV4.encode("a b/c+d=e&f~") == "a%20b%2Fc%2Bd%3De%26f~")
        #expect(AWSSignatureV4.encode("é") == "%C3%A9")
    }

    /// A path as sent with an escaped character is encoded once more in the canonical request (`%20` → `%2520`).
    @Test func anEscapedPathIsEncodedAgainAsBotocoreDoes() {
        let signer = AWSSignatureV4(credentials: Self.credentials, region: "us-east-1", service: "route53")
        let headers = signer.sign(
            method: "GET", host: "route53.amazonaws.com", path: "/2013-04-01/change/a%20b", query: [], body: [],
            date: Self.date)
        #expect(
            Self.authorization(headers)
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/route53/aws4_request, "
                + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                + "Signature=8c6ed6deefad9fa2fe0d092f7b9fba200e2163280b6f22fa242c8cd8f55689a8")
    }

    @Test func hostedZonesByNameQueryMatchesBotocore() {
        let signer = AWSSignatureV4(credentials: Self.credentials, region: "us-east-1", service: "route53")
        let headers = signer.sign(
            method: "GET", host: "route53.amazonaws.com", path: "/2013-04-01/hostedzonesbyname",
            query: [("dnsname", "example.com."), ("maxitems", "10")], body: [], date: Self.date)
        #expect(
            Self.authorization(headers)
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/route53/aws4_request, "
                + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                + "Signature=2464d38f86de8e30f2f30ce1fea33e4106df5cc883d1ccf20af37371ebe0f1b6")
    }

    @Test func postWithAnXMLBodyMatchesBotocore() {
        let signer = AWSSignatureV4(credentials: Self.credentials, region: "us-east-1", service: "route53")
        let body = Array(Self.xmlBody.utf8)
        let headers = signer.sign(
            method: "POST", host: "route53.amazonaws.com", path: "/2013-04-01/hostedzone/Z0123/rrset/", query: [],
            body: body, date: Self.date)
        #expect(
            headers.first { $0.0 == "X-Amz-Content-Sha256" }?.1
                == "e23966f07dc2c361c3a0c16ada4c9d97a537ab5580f6e49ed74dc93e5427a5ac")
        #expect(
            Self.authorization(headers)
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/route53/aws4_request, "
                + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                + "Signature=51d33233a50156e5d83b7d2968ebc34d8fa39fafc51890563a4b7123fe6d93a2")
    }

    @Test func sessionTokenIsSentAndSignedAsBotocoreDoes() {
        var credentials = Self.credentials
        credentials.sessionToken = "FQoGZXIvYXdzEXAMPLETOKEN"
        let signer = AWSSignatureV4(credentials: credentials, region: "us-east-1", service: "route53")
        let headers = signer.sign(
            method: "GET", host: "127.0.0.1:5000", path: "/2013-04-01/change/C42", query: [], body: [],
            date: Self.date)
        #expect(headers.first { $0.0 == "X-Amz-Security-Token" }?.1 == "FQoGZXIvYXdzEXAMPLETOKEN")
        #expect(
            Self.authorization(headers)
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/route53/aws4_request, "
                + "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
                + "Signature=8d9a09584dfee365790353f746d256438ba2d113677a992a9f509709c4afa070")
    }

    /// End to end: the first request Route53API sends when it looks for the zone of `_acme-challenge.example.com`
    /// carries the header botocore computes for the same request.
    @Test func route53APISignsItsRequestsAsBotocore() async throws {
        let transport = ScriptedProviderTransport { request, _ in
            .xml(
                200,
                "<ListHostedZonesByNameResponse><HostedZones><HostedZone><Id>/hostedzone/Z0123</Id>"
                    + "<Name>example.com.</Name><Config><PrivateZone>false</PrivateZone></Config></HostedZone>"
                    + "</HostedZones></ListHostedZonesByNameResponse>")
        }
        let api = Route53API(
            credentials: Self.credentials, transport: transport, now: { Self.date }, sleep: { _ in })
        let zone = try await api.zone(for: try DNSName("_acme-challenge.example.com"))
        #expect(zone.description == "example.com.")
        let request = try #require(transport.requests.first)
        #expect(transport.requests.count == 1)
        #expect(
            request.url == "https://route53.amazonaws.com/2013-04-01/hostedzonesbyname?dnsname=example.com.&maxitems=10"
        )
        #expect(
            request.header("Authorization")
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/route53/aws4_request, "
                + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                + "Signature=2464d38f86de8e30f2f30ce1fea33e4106df5cc883d1ccf20af37371ebe0f1b6")
    }
}
