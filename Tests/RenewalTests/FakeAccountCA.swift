import ACMEClient
import ACMECrypto
import Foundation

/// A scripted ACME CA for account tests: newAccount (with GTS-like single-use EAB), onlyReturnExisting, account
/// update and keyChange. Records every POST's URL and JWS, so tests can assert what was (not) sent.
final class FakeAccountCA: HTTPTransport, @unchecked Sendable {
    static let base = "https://ca.test"
    static let directory = "\(base)/dir"

    struct Post {
        var url: String
        var header: [String: Any]
        var payload: [String: Any]
        /// The JWK thumbprint when the request carried `jwk`.
        var jwkThumbprint: String?
        var onlyReturnExisting: Bool { payload["onlyReturnExisting"] as? Bool == true }
        var eabKeyID: String? {
            guard let eab = payload["externalAccountBinding"] as? [String: Any],
                let protected = eab["protected"] as? String, let bytes = Base64URL.decode(protected),
                let header = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
            else { return nil }
            return header["kid"] as? String
        }
    }

    private let lock = NSLock()
    private var _posts: [Post] = []
    private var _requests = 0
    /// Account key thumbprint -> account URL.
    private var accounts: [String: String] = [:]
    /// EAB kid -> thumbprint it was spent by.
    private var spent: [String: String] = [:]
    /// Called before newAccount (not onlyReturnExisting) is answered.
    var beforeNewAccount: (@Sendable () async -> Void)?

    var posts: [Post] { lock.withLock { _posts } }
    var requestCount: Int { lock.withLock { _requests } }

    /// Makes `key` a registered account at the CA; returns its URL.
    @discardableResult
    func register(_ key: SigningKey, eabKeyID: String? = nil) -> String {
        lock.withLock {
            let thumbprint = key.publicJWK.thumbprint()
            let url = "\(Self.base)/acct/\(accounts.count + 1)"
            accounts[thumbprint] = url
            if let eabKeyID { spent[eabKeyID] = thumbprint }
            return url
        }
    }

    /// keyChange as the CA sees it: the account at `url` is now known by `newKey` only.
    func rekey(_ url: String, to newKey: SigningKey) {
        lock.withLock {
            accounts = accounts.filter { $0.value != url }
            accounts[newKey.publicJWK.thumbprint()] = url
        }
    }

    func send(_ request: HTTPRequestData) async throws -> HTTPResponseData {
        lock.withLock { _requests += 1 }
        switch request.url {
        case Self.directory:
            return Self.json(
                200,
                #"{"newNonce":"https://ca.test/nonce","newAccount":"https://ca.test/new-acct","newOrder":"https://ca.test/new-order","revokeCert":"https://ca.test/revoke","keyChange":"https://ca.test/key-change"}"#
            )
        case "\(Self.base)/nonce":
            return HTTPResponseData(status: 200, headers: [("Replay-Nonce", "n\(UUID().uuidString)")])
        default:
            break
        }
        let post = try Self.decode(request)
        lock.withLock { _posts.append(post) }
        if request.url == "\(Self.base)/new-acct" {
            guard let thumbprint = post.jwkThumbprint else { return Self.problem(400, "malformed", "jwk required") }
            if let url = lock.withLock({ accounts[thumbprint] }) {
                return Self.json(200, #"{"status":"valid","contact":[]}"#, headers: [("Location", url)])
            }
            if post.onlyReturnExisting { return Self.problem(400, "accountDoesNotExist", "no such account") }
            if let kid = post.eabKeyID, let owner = lock.withLock({ spent[kid] }), owner != thumbprint {
                return Self.problem(403, "unauthorized", "Unknown external account binding (EAB) key.")
            }
            await beforeNewAccount?()
            let url = lock.withLock { () -> String in
                let url = "\(Self.base)/acct/\(accounts.count + 1)"
                accounts[thumbprint] = url
                if let kid = post.eabKeyID { spent[kid] = thumbprint }
                return url
            }
            return Self.json(201, #"{"status":"valid","contact":[]}"#, headers: [("Location", url)])
        }
        if request.url.hasPrefix("\(Self.base)/acct/") {
            return Self.json(200, #"{"status":"valid","contact":[]}"#)
        }
        return Self.problem(404, "malformed", "no route for \(request.url)")
    }

    private static func decode(_ request: HTTPRequestData) throws -> Post {
        guard let outer = try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
            let protected = (outer["protected"] as? String).flatMap(Base64URL.decode),
            let header = try JSONSerialization.jsonObject(with: Data(protected)) as? [String: Any],
            let payloadText = outer["payload"] as? String, let payloadBytes = Base64URL.decode(payloadText)
        else { throw URLError(.cannotParseResponse) }
        let payload =
            payloadBytes.isEmpty
            ? [:] : (try JSONSerialization.jsonObject(with: Data(payloadBytes)) as? [String: Any] ?? [:])
        var thumbprint: String?
        if let jwk = header["jwk"] {
            let data = try JSONSerialization.data(withJSONObject: jwk)
            thumbprint = try JSONDecoder().decode(JWK.self, from: data).thumbprint()
        }
        return Post(url: request.url, header: header, payload: payload, jwkThumbprint: thumbprint)
    }

    static func json(_ status: Int, _ body: String, headers: [(String, String)] = []) -> HTTPResponseData {
        HTTPResponseData(
            status: status,
            headers: [("Content-Type", "application/json"), ("Replay-Nonce", "n\(UUID().uuidString)")] + headers,
            body: Array(body.utf8))
    }

    static func problem(_ status: Int, _ type: String, _ detail: String) -> HTTPResponseData {
        HTTPResponseData(
            status: status,
            headers: [("Content-Type", "application/problem+json"), ("Replay-Nonce", "n\(UUID().uuidString)")],
            body: Array(#"{"type":"urn:ietf:params:acme:error:\#(type)","detail":"\#(detail)"}"#.utf8))
    }
}
