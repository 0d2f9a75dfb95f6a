import ControlSocket
import Foundation
import FuzzSupport

// The control socket's request reader: `ControlLineFramer` cuts the request line out of the bytes a connection
// delivers (here in chunks whose sizes the input picks), `ControlCommand(line:)` decodes it, as `ControlServer` does.
//
// Input: byte 0 picks the chunk size (1...16, or the whole rest when 0) and byte 1 a small limit mode; the rest is
// what the client sends. Below the limit, the line must not depend on how the bytes were cut into chunks.

func frame(_ bytes: [UInt8], chunkSize: Int, limit: Int) -> Result<[UInt8]?, any Error> {
    var framer = ControlLineFramer(limit: limit)
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunkSize)
        do {
            if let line = try framer.append(bytes[offset..<end]) { return .success(line) }
        } catch {
            return .failure(error)
        }
        offset = end
    }
    return .success(framer.finish())
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControlRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Fuzz.bytes(data, size)
    guard input.count >= 2 else { return 0 }
    let chunkSize = input[0] == 0 ? max(1, input.count) : Int(input[0] % 16) + 1
    // The server's limit is 64 KiB; a small one (mode 1) lets the fuzzer reach the too-long path.
    let limit = input[1] % 2 == 1 ? 32 : 64 * 1024
    let bytes = Array(input[2...])

    let chunked = frame(bytes, chunkSize: chunkSize, limit: limit)
    let whole = frame(bytes, chunkSize: max(1, bytes.count), limit: Int.max)
    let lineLength = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
    if lineLength <= limit {
        switch (chunked, whole) {
        case (.success(let a), .success(let b)): Fuzz.check(a == b, "line depends on chunking: \(bytes)")
        default: fatalError("a line within the limit was refused: \(bytes)")
        }
    }
    guard case .success(let line?) = chunked else { return 0 }
    Fuzz.check(!line.contains(UInt8(ascii: "\n")), "the line holds a newline")
    Fuzz.check(line.count == lineLength, "the line is not everything before the first newline")

    guard let request = try? ControlCommand(line: line) else { return 0 }
    _ = request.verb.count
    // What the server decoded must be what a client would send for it.
    let encoded = try! JSONEncoder().encode(request)
    Fuzz.check((try? ControlCommand(line: [UInt8](encoded))) == request, "request does not survive encode -> decode")
    return 0
}

let replayed: Void = FuzzReplay.run(CommandLine.arguments, fuzzControlRequest)
