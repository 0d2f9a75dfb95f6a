/// One response on the control socket: a single JSON line such as `{"ok":true,"message":"reloaded"}`.
package struct ControlResponse: Codable, Sendable, Equatable {
    /// Whether the command succeeded; clients exit non-zero when it is `false`.
    package var ok: Bool
    /// A human-readable one-line result or error.
    package var message: String
    /// Optional command-specific data (e.g. JSON text for `status`).
    package var payload: String?

    /// Creates a response.
    package init(ok: Bool, message: String, payload: String? = nil) {
        self.ok = ok
        self.message = message
        self.payload = payload
    }
}
