import ACMEClient
import ACMECrypto
import ACMEModels
import Foundation
import Testing

@Suite struct ACMEClientRetryTests {
    static func client(_ transport: ScriptedTransport, _ recorder: SleepRecorder) -> ACMEClient {
        ACMEClient(directoryURL: "\(ScriptedTransport.base)/dir", transport: transport, sleeper: recorder.sleeper)
    }

    static let accountJSON =
        #"{"status":"valid","contact":["mailto:a@example.org"],"orders":"https://ca.test/acct/1/orders"}"#

    @Test func badNonceIsRetriedWithTheErrorsNonce() async throws {
        let transport = ScriptedTransport { request, call in
            guard request.url == "https://ca.test/new-acct" else { throw URLError(.badURL) }
            if call == 0 {
                return ScriptedTransport.problem(400, "badNonce", "stale", headers: [("Replay-Nonce", "fromError")])
            }
            return ScriptedTransport.json(201, Self.accountJSON, headers: [("Location", "https://ca.test/acct/1")])
        }
        let recorder = SleepRecorder()
        let key = try SigningKey.generate(.ecdsaP256)
        let result = try await Self.client(transport, recorder).newAccount(key: key, contact: ["mailto:a@example.org"])
        #expect(result.created)
        #expect(result.url == "https://ca.test/acct/1")
        #expect(result.account.status == .valid)
        let posts = transport.posts
        #expect(posts.count == 2)
        let first = try DecodedJWS(posts[0].body)
        let second = try DecodedJWS(posts[1].body)
        #expect(first.header["nonce"]?.stringValue?.hasPrefix("head-") == true)
        #expect(second.header["nonce"] == "fromError")
        #expect(second.header["url"] == "https://ca.test/new-acct")
        #expect(second.header["jwk"] == key.publicJWK.jsonValue)
        #expect(second.header["kid"] == nil)
        #expect(second.payloadText == #"{"contact":["mailto:a@example.org"],"termsOfServiceAgreed":true}"#)
        #expect(posts[1].header("Content-Type") == "application/jose+json")
        #expect(posts[1].header("Content-Length") == String(posts[1].body.count))
        #expect(posts[1].header("User-Agent")?.isEmpty == false)
        #expect(recorder.sleeps.isEmpty)
    }

    @Test func aNonceFromNewNonceIsUsedOnce() async throws {
        // Responses without a usable Replay-Nonce force a HEAD newNonce before each POST; each such nonce is
        // sent once (sending it twice costs a badNonce round trip at a real CA).
        let transport = ScriptedTransport { _, _ in
            ScriptedTransport.json(
                200, Self.accountJSON,
                headers: [("Location", "https://ca.test/acct/1"), ("Replay-Nonce", "not a nonce!")])
        }
        let client = Self.client(transport, SleepRecorder())
        let key = try SigningKey.generate(.ecdsaP256)
        _ = try await client.newAccount(key: key, contact: ["mailto:a@example.org"])
        _ = try await client.newAccount(key: key, contact: ["mailto:a@example.org"])
        let nonces = try transport.posts.map { try DecodedJWS($0.body).header["nonce"]?.stringValue }
        #expect(nonces.count == 2)
        #expect(Set(nonces).count == 2)
        #expect(transport.requests.filter { $0.url == "https://ca.test/nonce" }.count == 2)
    }

    @Test func badNonceRetriesAreBounded() async throws {
        let transport = ScriptedTransport { _, _ in ScriptedTransport.problem(400, "badNonce", "again") }
        let recorder = SleepRecorder()
        await #expect {
            try await Self.client(transport, recorder).newAccount(key: try .generate(.ecdsaP256))
        } throws: { error in
            (error as? ACMEProblem)?.type == .badNonce
        }
        #expect(transport.posts.count == 1 + FailureClassifier.maxBadNonceRetries)
    }

    @Test func badNonceIsRetriedForThirtySecondsNotAFixedCount() async throws {
        // A CA that rejects every nonce and takes one second per request: retries stop once 30 s have passed since
        // the request was first sent, well before the count cap; after the first four they pause a little.
        let clock = SteppingClock(step: 0)
        let transport = ScriptedTransport { _, _ in
            clock.advance(by: 1)
            return ScriptedTransport.problem(400, "badNonce", "again")
        }
        let recorder = SleepRecorder()
        let client = ACMEClient(
            directoryURL: "\(ScriptedTransport.base)/dir", transport: transport, sleeper: recorder.sleeper,
            now: clock.now)
        let key = try SigningKey.generate(.ecdsaP256)
        let started = clock.now()
        await #expect {
            try await client.newAccount(key: key)
        } throws: { error in
            (error as? ACMEProblem)?.type == .badNonce
        }
        #expect(clock.now().timeIntervalSince(started) == 30)
        #expect(transport.posts.count == 30)
        #expect(recorder.sleeps.first == .milliseconds(50))
        #expect(recorder.sleeps.allSatisfy { $0 <= .seconds(1) })
    }

    @Test func serverErrorsAreRetriedWithBoundedBackoff() async throws {
        let transport = ScriptedTransport { _, _ in ScriptedTransport.problem(500, "serverInternal", "boom") }
        let recorder = SleepRecorder()
        await #expect {
            try await Self.client(transport, recorder).newAccount(key: try .generate(.ecdsaP256))
        } throws: { error in
            let problem = error as? ACMEProblem
            return problem?.type == .serverInternal && problem?.status == 500
                && "\(error)".contains("https://ca.test/new-acct")
        }
        #expect(transport.posts.count == 1 + FailureClassifier.maxTransientRetries)
        #expect(
            recorder.sleeps == [
                .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8),
            ])
    }

    @Test func serverErrorThenSuccess() async throws {
        let transport = ScriptedTransport { _, call in
            call == 0
                ? HTTPResponseData(status: 502, body: Array("bad gateway".utf8))
                : ScriptedTransport.json(200, Self.accountJSON, headers: [("Location", "https://ca.test/acct/9")])
        }
        let recorder = SleepRecorder()
        let result = try await Self.client(transport, recorder).newAccount(key: try .generate(.ecdsaP256))
        #expect(!result.created)
        #expect(result.url == "https://ca.test/acct/9")
        #expect(recorder.sleeps == [.milliseconds(250)])
    }

    @Test func shortRateLimitIsWaitedOutLongOneSurfaces() async throws {
        let short = ScriptedTransport { _, call in
            call == 0
                ? ScriptedTransport.problem(429, "rateLimited", "slow down", headers: [("Retry-After", "3")])
                : ScriptedTransport.json(201, Self.accountJSON, headers: [("Location", "https://ca.test/acct/2")])
        }
        let recorder = SleepRecorder()
        _ = try await Self.client(short, recorder).newAccount(key: try .generate(.ecdsaP256))
        #expect(recorder.sleeps == [.seconds(3)])

        let long = ScriptedTransport { _, _ in
            ScriptedTransport.problem(429, "rateLimited", "too many", headers: [("Retry-After", "3600")])
        }
        let recorder2 = SleepRecorder()
        await #expect {
            try await Self.client(long, recorder2).newAccount(key: try .generate(.ecdsaP256))
        } throws: { error in
            let problem = error as? ACMEProblem
            return problem?.type == .rateLimited && problem?.retryAfter == .seconds(3600)
        }
        #expect(long.posts.count == 1)
        #expect(recorder2.sleeps.isEmpty)
    }

    @Test func transientTransportErrorsAreRetried() async throws {
        let transport = ScriptedTransport { request, call in
            if call < 2 {
                throw HTTPTransportError(kind: .connectionRefused, url: request.url, message: "refused")
            }
            return ScriptedTransport.json(201, Self.accountJSON, headers: [("Location", "https://ca.test/acct/3")])
        }
        let recorder = SleepRecorder()
        _ = try await Self.client(transport, recorder).newAccount(key: try .generate(.ecdsaP256))
        #expect(recorder.sleeps == [.milliseconds(250), .milliseconds(500)])
        // Each retry goes out on a new connection, and signs again with another nonce.
        #expect(transport.posts.map(\.freshConnection) == [false, true, true])
        let nonces = try transport.posts.map { try DecodedJWS($0.body).header["nonce"]?.stringValue }
        #expect(Set(nonces).count == 3)

        let dead = ScriptedTransport { request, _ in
            throw HTTPTransportError(kind: .tls, url: request.url, message: "bad certificate")
        }
        await #expect {
            try await Self.client(dead, SleepRecorder()).newAccount(key: try .generate(.ecdsaP256))
        } throws: { error in
            guard case ACMEClientError.transport(let inner, attempts: 1) = error else { return false }
            return inner.kind == .tls
        }
    }

    @Test func aDroppedConnectionIsRetriedAtOnceOnANewOneThenBacksOff() async throws {
        let transport = ScriptedTransport { request, call in
            if call < 3 {
                throw HTTPTransportError(kind: .connectionReset, url: request.url, message: "remoteConnectionClosed")
            }
            return ScriptedTransport.json(201, Self.accountJSON, headers: [("Location", "https://ca.test/acct/4")])
        }
        let recorder = SleepRecorder()
        _ = try await Self.client(transport, recorder).newAccount(key: try .generate(.ecdsaP256))
        #expect(recorder.sleeps == [.zero, .milliseconds(500), .seconds(1)])
        #expect(transport.posts.map(\.freshConnection) == [false, true, true, true])
    }

    @Test func problemDocumentsAreTyped() async throws {
        let body = """
            {"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"Error creating new order",
             "subproblems":[{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"forbidden",
               "identifier":{"type":"dns","value":"bad.example"}}]}
            """
        let transport = ScriptedTransport { _, _ in
            HTTPResponseData(
                status: 400, headers: [("Content-Type", "application/problem+json")], body: Array(body.utf8))
        }
        await #expect {
            try await Self.client(transport, SleepRecorder())
                .newOrder(
                    accountURL: "https://ca.test/acct/1", key: try .generate(.ecdsaP256), identifiers: ["bad.example"])
        } throws: { error in
            guard let problem = error as? ACMEProblem else { return false }
            return problem.type == .rejectedIdentifier && problem.status == 400
                && problem.subproblems?.first?.identifier == .dns("bad.example")
                && problem.description.contains("bad.example: rejectedIdentifier: forbidden")
        }

        let unknown = ScriptedTransport { _, _ in ScriptedTransport.problem(403, "agreementRequired", "agree first") }
        await #expect {
            try await Self.client(unknown, SleepRecorder()).newAccount(key: try .generate(.ecdsaP256))
        } throws: { error in
            (error as? ACMEProblem)?.type.rawValue == "urn:ietf:params:acme:error:agreementRequired"
        }

        let plain = ScriptedTransport { _, _ in HTTPResponseData(status: 404, body: Array("nope".utf8)) }
        await #expect {
            try await Self.client(plain, SleepRecorder()).newAccount(key: try .generate(.ecdsaP256))
        } throws: { error in
            guard case ACMEClientError.unexpectedStatus(let url, 404, "nope") = error else { return false }
            return url == "https://ca.test/new-acct"
        }
    }

    @Test func retryAfterParsesSecondsAndHTTPDates() throws {
        let now = try #require(RetryAfter.parseHTTPDate("Wed, 21 Oct 2015 07:27:00 GMT"))
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        #expect(RetryAfter.parse(" 0 ", now: now) == .zero)
        #expect(RetryAfter.parse("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == .seconds(60))
        #expect(RetryAfter.parse("Wednesday, 21-Oct-15 07:29:00 GMT", now: now) == .seconds(120))
        #expect(RetryAfter.parse("Wed, 21 Oct 2015 07:00:00 GMT", now: now) == .zero)
        #expect(RetryAfter.parse("soon", now: now) == nil)
        #expect(RetryAfter.parse("-5", now: now) == nil)
    }
}
