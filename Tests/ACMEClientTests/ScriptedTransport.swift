import ACMEClient
import ACMECrypto
import ACMEModels
import Foundation
import NIOConcurrencyHelpers

/// A fake ACME server as an ``HTTPTransport``: a directory and newNonce by default, everything else from `route`.
/// Records every request and every sleep.
final class ScriptedTransport: HTTPTransport {
    static let base = "https://ca.test"
    static let directoryJSON = """
        {"newNonce":"https://ca.test/nonce","newAccount":"https://ca.test/new-acct","newOrder":"https://ca.test/new-order",
         "revokeCert":"https://ca.test/revoke","keyChange":"https://ca.test/key-change",
         "renewalInfo":"https://ca.test/ari","meta":{"profiles":{"classic":"default"}},"iX6QLoa5x_4":"random"}
        """

    typealias Route = @Sendable (HTTPRequestData, Int) throws -> HTTPResponseData
    private let state = NIOLockedValueBox<(requests: [HTTPRequestData], nonce: Int, calls: [String: Int])>(([], 0, [:]))
    private let route: Route
    let directoryJSON: String

    /// `route` gets the request and how many times its URL was called before (0-based).
    init(directoryJSON: String = ScriptedTransport.directoryJSON, route: @escaping Route) {
        self.route = route
        self.directoryJSON = directoryJSON
    }

    var requests: [HTTPRequestData] { state.withLockedValue { $0.requests } }
    var posts: [HTTPRequestData] { requests.filter { $0.method == "POST" } }

    func send(_ request: HTTPRequestData) async throws -> HTTPResponseData {
        let (call, nonce) = state.withLockedValue { state -> (Int, Int) in
            state.requests.append(request)
            state.nonce += 1
            let call = state.calls[request.url, default: 0]
            state.calls[request.url] = call + 1
            return (call, state.nonce)
        }
        if request.url == "\(Self.base)/dir" {
            return HTTPResponseData(status: 200, body: Array(directoryJSON.utf8))
        }
        if request.url == "\(Self.base)/nonce" {
            return HTTPResponseData(status: 200, headers: [("Replay-Nonce", "head-\(nonce)")])
        }
        var response = try route(request, call)
        if response.header("Replay-Nonce") == nil { response.headers.append(("Replay-Nonce", "resp-\(nonce)")) }
        return response
    }

    static func json(_ status: Int, _ body: String, headers: [(String, String)] = []) -> HTTPResponseData {
        HTTPResponseData(
            status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(body.utf8))
    }

    static func problem(_ status: Int, _ type: String, _ detail: String, headers: [(String, String)] = [])
        -> HTTPResponseData
    {
        HTTPResponseData(
            status: status,
            headers: [("Content-Type", "application/problem+json")] + headers,
            body: Array(#"{"type":"urn:ietf:params:acme:error:\#(type)","detail":"\#(detail)"}"#.utf8)
        )
    }
}

/// Records the client's sleeps instead of sleeping.
final class SleepRecorder: Sendable {
    private let box = NIOLockedValueBox<[Duration]>([])
    var sleeps: [Duration] { box.withLockedValue { $0 } }
    var sleeper: ACMEClient.Sleeper { { [box] duration in box.withLockedValue { $0.append(duration) } } }
}

/// A decoded flattened JWS request body.
struct DecodedJWS {
    var header: [String: JSONValue]
    var payloadText: String
    var payloadB64: String

    init(_ body: [UInt8]) throws {
        guard case .object(let outer) = try ACMEJSON.decode(JSONValue.self, from: body),
            let protected = outer["protected"]?.stringValue, let payload = outer["payload"]?.stringValue,
            outer["signature"]?.stringValue != nil, outer.count == 3,
            let headerBytes = Base64URL.decode(protected),
            case .object(let header) = try ACMEJSON.decode(JSONValue.self, from: headerBytes),
            let payloadBytes = Base64URL.decode(payload)
        else { throw DecodeError() }
        self.header = header
        self.payloadB64 = payload
        self.payloadText = String(decoding: payloadBytes, as: UTF8.self)
    }

    struct DecodeError: Error {}
}

/// A wall clock that moves `step` seconds every time it is read.
final class SteppingClock: Sendable {
    private let box: NIOLockedValueBox<Date>
    private let step: TimeInterval

    init(step: TimeInterval, start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.step = step
        self.box = NIOLockedValueBox(start)
    }

    /// Moves the clock without reading it (a request that takes time).
    func advance(by seconds: TimeInterval) {
        box.withLockedValue { $0 = $0.addingTimeInterval(seconds) }
    }

    var now: @Sendable () -> Date {
        { [box, step] in
            box.withLockedValue { current in
                current = current.addingTimeInterval(step)
                return current
            }
        }
    }
}
