import NIOCore
import NIOHTTP1

/// The handlers the built-in http-01 responder puts on each accepted connection: the HTTP/1.1 server codec (with
/// its error handler, which answers 400 to malformed requests) and ``HTTP01RequestHandler``.
package enum HTTP01Connection {
    /// Adds the codec and the responder serving `table`; ``HTTP01ResponderPool`` calls this for every connection.
    static func configure(
        _ pipeline: ChannelPipeline.SynchronousOperations,
        table: ResponderTable<HTTP01Response>
    ) throws {
        try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
        try pipeline.addHandler(HTTP01RequestHandler(table: table))
    }

    /// The same handlers serving fixed tokens (token -> key authorization), for driving the responder without a
    /// socket, e.g. through an `EmbeddedChannel` (tests, `Fuzz/FuzzHTTP01`).
    package static func configure(
        _ pipeline: ChannelPipeline.SynchronousOperations,
        keyAuthorizations: [String: String]
    ) throws {
        let table = ResponderTable<HTTP01Response>()
        for (token, keyAuthorization) in keyAuthorizations {
            _ = table.insert(token, HTTP01Response(keyAuthorization: keyAuthorization, domain: ""))
        }
        try configure(pipeline, table: table)
    }
}
