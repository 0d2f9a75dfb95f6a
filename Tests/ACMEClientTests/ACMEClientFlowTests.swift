import ACMEClient
import ACMECrypto
import ACMEModels
import Crypto
import Foundation
import Testing

@Suite struct ACMEClientFlowTests {
    static let account = "https://ca.test/acct/1"

    static func client(_ transport: ScriptedTransport, _ recorder: SleepRecorder = SleepRecorder()) -> ACMEClient {
        ACMEClient(directoryURL: "\(ScriptedTransport.base)/dir", transport: transport, sleeper: recorder.sleeper)
    }

    static func order(_ status: String, certificate: Bool = false) -> String {
        """
        {"status":"\(status)","expires":"2016-01-20T14:09:07.99Z","identifiers":[{"type":"dns","value":"a.test"}],
         "authorizations":["https://ca.test/authz/1"],"finalize":"https://ca.test/order/1/finalize"
         \(certificate ? #","certificate":"https://ca.test/cert/1""# : ""),"replaces":"abc.def","profile":"classic"}
        """
    }

    @Test func directoryIsCachedAndIgnoresUnknownKeys() async throws {
        let transport = ScriptedTransport { _, _ in throw URLError(.badURL) }
        let client = Self.client(transport)
        let directory = try await client.directory()
        _ = try await client.directory()
        #expect(directory.renewalInfo == "https://ca.test/ari")
        #expect(directory.meta?.profiles == ["classic": "default"])
        #expect(transport.requests.filter { $0.url.hasSuffix("/dir") }.count == 1)
        await client.forgetDirectory()
        _ = try await client.directory()
        #expect(transport.requests.filter { $0.url.hasSuffix("/dir") }.count == 2)
    }

    @Test func newOrderThenPostAsGetAndChallengeResponse() async throws {
        let transport = ScriptedTransport { request, _ in
            switch request.url {
            case "https://ca.test/new-order":
                return ScriptedTransport.json(
                    201, Self.order("pending"), headers: [("Location", "https://ca.test/order/1")])
            case "https://ca.test/order/1":
                return ScriptedTransport.json(200, Self.order("ready"))
            case "https://ca.test/chall/1":
                return ScriptedTransport.json(
                    200, #"{"type":"http-01","url":"https://ca.test/chall/1","status":"pending","token":"t1"}"#)
            default: throw URLError(.badURL)
            }
        }
        let client = Self.client(transport)
        let key = try SigningKey.generate(.ecdsaP256)
        let (url, order) = try await client.newOrder(
            accountURL: Self.account,
            key: key,
            identifiers: ["a.test", "192.0.2.1"],
            replaces: "abc.def",
            profile: "classic"
        )
        #expect(url == "https://ca.test/order/1")
        #expect(order.status == .pending)
        #expect(order.expires == Date(timeIntervalSince1970: 1_453_298_947.99))
        #expect(order.profile == "classic")
        let created = try DecodedJWS(transport.posts[0].body)
        #expect(created.header["kid"] == .string(Self.account))
        #expect(created.header["jwk"] == nil)
        #expect(
            created.payloadText
                == #"{"identifiers":[{"type":"dns","value":"a.test"},{"type":"ip","value":"192.0.2.1"}],"profile":"classic","replaces":"abc.def"}"#
        )

        let fetched = try await client.fetchOrder(url: url, accountURL: Self.account, key: key)
        #expect(fetched.status == .ready)
        #expect(try DecodedJWS(transport.posts[1].body).payloadB64 == "")

        let challenge = try await client.respond(
            toChallenge: "https://ca.test/chall/1", accountURL: Self.account, key: key)
        #expect(challenge.token == "t1")
        #expect(try DecodedJWS(transport.posts[2].body).payloadText == "{}")
    }

    @Test func pollingStartsFastThenBacksOffTowardsRetryAfterAndTimesOut() async throws {
        let authz: @Sendable (String) -> String = { status in
            #"{"identifier":{"type":"dns","value":"a.test"},"status":"\#(status)","challenges":[]}"#
        }
        let transport = ScriptedTransport { _, call in
            switch call {
            case 0: return ScriptedTransport.json(200, authz("pending"), headers: [("Retry-After", "5")])
            case 1: return ScriptedTransport.json(200, authz("pending"))
            default: return ScriptedTransport.json(200, authz("valid"))
            }
        }
        let recorder = SleepRecorder()
        let key = try SigningKey.generate(.ecdsaP256)
        let result = try await Self.client(transport, recorder)
            .pollAuthorization(
                url: "https://ca.test/authz/1", accountURL: Self.account, key: key, timeout: .seconds(60))
        #expect(result.status == .valid)
        // The CA's Retry-After is waited; without one, the next poll comes after tens of milliseconds.
        #expect(recorder.sleeps == [.seconds(5), .milliseconds(100)])
        #expect(
            (0..<9).map { ACMEClient.pollDelay(poll: $0, retryAfter: nil) } == [
                .milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
                .milliseconds(1600), .milliseconds(3200), .seconds(5), .seconds(5),
            ])
        #expect(ACMEClient.pollDelay(poll: 0, retryAfter: .seconds(3)) == .seconds(3))
        #expect(ACMEClient.pollDelay(poll: 20, retryAfter: .seconds(3600)) == .seconds(30))
        #expect(ACMEClient.pollDelay(poll: 0, retryAfter: .zero) == .seconds(1))

        let stuck = ScriptedTransport { _, _ in ScriptedTransport.json(200, Self.order("processing")) }
        let recorder2 = SleepRecorder()
        await #expect {
            try await Self.client(stuck, recorder2).pollOrder(
                url: "https://ca.test/order/1",
                accountURL: Self.account,
                key: key,
                until: [.valid],
                timeout: .seconds(3),
                waitFirst: true
            )
        } throws: { error in
            guard case ACMEClientError.timeout(_, "processing", let waited) = error else { return false }
            return waited == .milliseconds(1550)
        }
        // Waited first (50 ms), then 100 ... 800 ms: the next wait (1.6 s) would pass the 3 s timeout.
        #expect(
            recorder2.sleeps == [
                .milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
            ])
        #expect(stuck.posts.count == 5)

        let done = ScriptedTransport { _, _ in ScriptedTransport.json(200, Self.order("invalid")) }
        let invalid = try await Self.client(done).pollOrder(
            url: "https://ca.test/order/1",
            accountURL: Self.account,
            key: key,
            until: [.valid],
            timeout: .seconds(3)
        )
        #expect(invalid.status == .invalid)
    }

    @Test func downloadParsesAlternateLinks() async throws {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        let transport = ScriptedTransport { request, _ in
            #expect(request.header("Accept") == "application/pem-certificate-chain")
            return HTTPResponseData(
                status: 200,
                headers: [
                    ("Content-Type", "application/pem-certificate-chain; charset=utf-8"),
                    (
                        "Link",
                        #"<https://ca.test/dir>;rel="index", <https://ca.test/cert/1/alternate/1>;rel="alternate""#
                    ),
                    ("link", #"</cert/1/alternate/2>; rel="alternate""#),
                ],
                body: Array(pem.utf8)
            )
        }
        let result = try await Self.client(transport)
            .downloadCertificate(
                url: "https://ca.test/cert/1", accountURL: Self.account, key: try .generate(.ecdsaP256))
        #expect(result.pem == pem)
        #expect(result.alternates == ["https://ca.test/cert/1/alternate/1", "https://ca.test/cert/1/alternate/2"])
    }

    @Test func renewalInfoIsAnUnauthenticatedGet() async throws {
        let transport = ScriptedTransport { request, call in
            #expect(request.method == "GET")
            #expect(request.url == "https://ca.test/ari/aYhb.AIdl")
            let end = call == 0 ? "2025-01-03T00:00:00Z" : "2025-01-01T00:00:00Z"
            return ScriptedTransport.json(
                200,
                #"{"suggestedWindow":{"start":"2025-01-02T00:00:00Z","end":"\#(end)"},"explanationURL":"https://ca.test/why"}"#,
                headers: [("Retry-After", "21600")]
            )
        }
        let client = Self.client(transport)
        let (info, retryAfter) = try await client.renewalInfo(certID: "aYhb.AIdl")
        #expect(info?.suggestedWindow.start == ACMEJSON.parseRFC3339("2025-01-02T00:00:00Z"))
        #expect(info?.explanationURL == "https://ca.test/why")
        #expect(retryAfter == .seconds(21600))
        let (invalid, _) = try await client.renewalInfo(certID: "aYhb.AIdl")
        #expect(invalid == nil)

        let noARI = ScriptedTransport(
            directoryJSON: #"{"newNonce":"n","newAccount":"a","newOrder":"o","revokeCert":"r","keyChange":"k"}"#
        ) {
            _, _ in throw URLError(.badURL)
        }
        await #expect {
            try await Self.client(noARI).renewalInfo(certID: "x.y")
        } throws: { error in
            guard case ACMEClientError.notSupported = error else { return false }
            return true
        }
    }

    @Test func keyChangeNestsAJWSSignedByTheNewKey() async throws {
        let transport = ScriptedTransport { _, _ in HTTPResponseData(status: 200) }
        let oldKey = try SigningKey.generate(.ecdsaP256)
        let newKey = try SigningKey.generate(.ecdsaP256)
        try await Self.client(transport).changeKey(accountURL: Self.account, oldKey: oldKey, newKey: newKey)
        let outer = try DecodedJWS(transport.posts[0].body)
        #expect(outer.header["kid"] == .string(Self.account))
        #expect(outer.header["url"] == "https://ca.test/key-change")
        let inner = try DecodedJWS(Array(outer.payloadText.utf8))
        #expect(inner.header["jwk"] == newKey.publicJWK.jsonValue)
        #expect(inner.header["url"] == "https://ca.test/key-change")
        #expect(inner.header["nonce"] == nil)
        #expect(inner.header["kid"] == nil)
        let payload = try ACMEJSON.decode(JSONValue.self, from: Array(inner.payloadText.utf8))
        #expect(payload == ["account": .string(Self.account), "oldKey": oldKey.publicJWK.jsonValue])

        guard case .p256(let newPrivate) = newKey else { return }
        guard case .object(let innerObject) = try ACMEJSON.decode(JSONValue.self, from: Array(outer.payloadText.utf8)),
            let protected = innerObject["protected"]?.stringValue, let payloadB64 = innerObject["payload"]?.stringValue,
            let signatureText = innerObject["signature"]?.stringValue, let signature = Base64URL.decode(signatureText)
        else {
            Issue.record("inner JWS malformed")
            return
        }
        let valid = newPrivate.publicKey.isValidSignature(
            try P256.Signing.ECDSASignature(rawRepresentation: signature),
            for: Array("\(protected).\(payloadB64)".utf8)
        )
        #expect(valid)

        let conflict = ScriptedTransport { _, _ in
            ScriptedTransport.problem(409, "malformed", "key in use", headers: [("Location", "https://ca.test/acct/7")])
        }
        await #expect {
            try await Self.client(conflict).changeKey(accountURL: Self.account, oldKey: oldKey, newKey: newKey)
        } throws: { error in
            guard case ACMEClientError.keyInUse(_, "https://ca.test/acct/7") = error else { return false }
            return true
        }
    }

    @Test func linkHeaderForms() {
        let values = [
            #"<https://a/1>;rel="alternate",<https://a/2>; rel=alternate"#,
            #"<https://a/3>;rel="up", <https://a/4>;title="x,y";rel="alternate index""#,
        ]
        #expect(
            LinkHeader.targets(rel: "alternate", in: values, base: "https://a/") == [
                "https://a/1", "https://a/2", "https://a/4",
            ])
        #expect(LinkHeader.targets(rel: "up", in: values, base: "https://a/") == ["https://a/3"])
    }
}
