import ACMEClient
import Foundation
import Synchronization
import Testing

/// A provider API double as an ``HTTPTransport``: records every request and answers from `route`.
final class ScriptedProviderTransport: HTTPTransport {
    /// `route` gets the request and how many times its method and URL were asked before (0-based).
    typealias Route = @Sendable (HTTPRequestData, Int) throws -> HTTPResponseData

    private let state = Mutex<(requests: [HTTPRequestData], calls: [String: Int])>(([], [:]))
    private let route: Route

    init(route: @escaping Route) { self.route = route }

    var requests: [HTTPRequestData] { state.withLock { $0.requests } }

    /// `METHOD URL` of every request, in order.
    var lines: [String] { requests.map { "\($0.method) \($0.url)" } }

    func send(_ request: HTTPRequestData) async throws -> HTTPResponseData {
        let call = state.withLock { state -> Int in
            state.requests.append(request)
            let key = "\(request.method) \(request.url)"
            let call = state.calls[key, default: 0]
            state.calls[key] = call + 1
            return call
        }
        return try route(request, call)
    }

}

extension HTTPResponseData {
    static func json(_ status: Int, _ body: String) -> HTTPResponseData {
        HTTPResponseData(status: status, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
    }

    static func xml(_ status: Int, _ body: String) -> HTTPResponseData {
        HTTPResponseData(status: status, headers: [("Content-Type", "text/xml")], body: Array(body.utf8))
    }
}

/// An unexpected request reached the double.
struct UnexpectedRequest: Error, CustomStringConvertible {
    var request: HTTPRequestData
    var description: String { "unexpected \(request.method) \(request.url)" }
}

/// Records the pauses asked for instead of pausing.
final class SleepRecorder: Sendable {
    private let box = Mutex<[Duration]>([])
    var sleeps: [Duration] { box.withLock { $0 } }
    var sleep: @Sendable (Duration) async throws -> Void {
        { [self] duration in self.box.withLock { $0.append(duration) } }
    }
}

/// A wall clock the test moves by hand; its `sleep` moves it instead of waiting, and is recorded.
final class TestClock: Sendable {
    private let box: Mutex<(now: Date, sleeps: [Duration])>
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { box = Mutex((start, [])) }
    func advance(by seconds: TimeInterval) { box.withLock { $0.now = $0.now.addingTimeInterval(seconds) } }
    var sleeps: [Duration] { box.withLock { $0.sleeps } }
    var now: @Sendable () -> Date { { [self] in self.box.withLock { $0.now } } }
    var sleep: @Sendable (Duration) async throws -> Void {
        { [self] duration in
            self.box.withLock {
                $0.sleeps.append(duration)
                $0.now = $0.now.addingTimeInterval(Double(duration.components.seconds))
            }
        }
    }
}

extension HTTPRequestData {
    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object.
    func jsonObject() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }
}
