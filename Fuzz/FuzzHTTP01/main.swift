import ChallengeSolvers
import FuzzSupport
import NIOCore
import NIOEmbedded

// The built-in http-01 responder driven with raw bytes: the connection's real handlers (HTTP/1.1 server codec with
// error handling, then the responder) on an `EmbeddedChannel`. Byte 0 picks where the bytes are cut into two reads.
//
// The first answer must be a 200 (carrying exactly a live token's key authorization), a 404 or a 400, and a 200
// needs a request for a live token's path.

enum Tokens {
    static let keyAuthorizations = [
        "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA":
            "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ",
        "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0":
            "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI",
    ]
    static let peer = try! SocketAddress(ipAddress: "192.0.2.1", port: 443)
    static let statusLines = ["HTTP/1.1 200 OK\r\n", "HTTP/1.1 404 Not Found\r\n", "HTTP/1.1 400 Bad Request\r\n"]
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP01(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Fuzz.bytes(data, size)
    guard let cutByte = input.first else { return 0 }
    let bytes = Array(input.dropFirst())
    let cut = bytes.isEmpty ? 0 : Int(cutByte) % (bytes.count + 1)

    let channel = EmbeddedChannel()
    do {
        try HTTP01Connection.configure(
            channel.pipeline.syncOperations, keyAuthorizations: Tokens.keyAuthorizations)
        try channel.connect(to: Tokens.peer).wait()
    } catch {
        fatalError("cannot set up the channel: \(error)")
    }
    for part in [bytes[..<cut], bytes[cut...]] where !part.isEmpty && channel.isActive {
        _ = try? channel.writeInbound(ByteBuffer(bytes: part))
    }
    var output: [UInt8] = []
    while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
        output += buffer.readableBytesView
    }
    _ = try? channel.finish()
    // When the responder closed the channel itself, finish() throws before running the pipeline's teardown; run
    // it here, or the channel and its pipeline keep each other alive (a leak of the harness, not of the responder).
    channel.embeddedEventLoop.run()

    guard !output.isEmpty else { return 0 }
    let text = String(decoding: output, as: UTF8.self)
    guard let status = Tokens.statusLines.first(where: { text.hasPrefix($0) }) else {
        fatalError("unexpected answer: \(text.debugDescription)")
    }
    if status == Tokens.statusLines[0] {
        // Only the first response counts: bytes after a complete request may still draw a 400 before the close.
        let parts = text.components(separatedBy: "\r\n\r\n")
        let lengthLine = parts[0].split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length: ") }
        let length = lengthLine.flatMap { Int($0.dropFirst("content-length: ".count)) } ?? -1
        // A HEAD answer has no body: what follows its head is the next answer (e.g. a 400 for trailing bytes).
        let rest = parts.dropFirst().joined(separator: "\r\n\r\n")
        let body = rest.hasPrefix("HTTP/1.1 ") ? "" : String(rest.utf8.prefix(max(0, length))) ?? ""
        Fuzz.check(
            Tokens.keyAuthorizations.values.contains { $0.utf8.count == length && (body == $0 || body.isEmpty) },
            "200 whose body is no key authorization: \(text.debugDescription)")
        let requested = String(decoding: bytes, as: UTF8.self)
        Fuzz.check(
            Tokens.keyAuthorizations.keys.contains { requested.contains("/.well-known/acme-challenge/" + $0) },
            "200 for a request that names no live token: \(requested.debugDescription)")
    }
    return 0
}

let replayed: Void = FuzzReplay.run(CommandLine.arguments, fuzzHTTP01)
