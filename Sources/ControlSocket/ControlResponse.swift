/// One response on the control socket: a single JSON line such as `{"ok":true,"message":"reloaded"}`.
package struct ControlResponse: Codable, Sendable, Equatable {
    /// Whether the command succeeded; clients exit non-zero when it is `false`.
    package var ok: Bool
    /// A human-readable one-line result or error.
    package var message: String
    /// Optional command-specific data (e.g. JSON text for `status`).
    package var payload: String?
    /// True on a progress line sent before the answer (`renew --wait`); the answer is the first line without it.
    package var progress: Bool?

    /// Creates a response.
    package init(ok: Bool, message: String, payload: String? = nil, progress: Bool? = nil) {
        self.ok = ok
        self.message = message
        self.payload = payload
        self.progress = progress
    }

    /// A progress line.
    package static func progress(_ message: String) -> ControlResponse {
        ControlResponse(ok: true, message: message, progress: true)
    }
}
