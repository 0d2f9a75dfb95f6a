/// The client's only I/O seam: sends one HTTP request and returns the response, without following redirects.
///
/// Implementations throw ``HTTPTransportError`` for failures below HTTP so the client can tell transient faults
/// (refused, reset, timed out) from permanent ones. A test double:
///
/// ```swift
/// final class ScriptedTransport: HTTPTransport {
///     func send(_ request: HTTPRequestData) async throws -> HTTPResponseData {
///         HTTPResponseData(status: 200, headers: [("Replay-Nonce", "abc")], body: [])
///     }
/// }
/// ```
package protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the response, whatever its status.
    func send(_ request: HTTPRequestData) async throws -> HTTPResponseData
}
