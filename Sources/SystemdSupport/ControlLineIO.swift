import NIOCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Reading and writing one JSON line on a control connection, with a deadline.
enum ControlLineIO {
    /// Errors while reading a line.
    enum ReadError: Error {
        case tooLong(limit: Int)
        case timedOut
    }

    /// Reads up to the first newline (or EOF). `nil` if the peer closed without sending anything.
    static func readLine(
        from inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
        limit: Int
    ) async throws -> [UInt8]? {
        var collected: [UInt8] = []
        for try await chunk in inbound {
            collected.append(contentsOf: chunk.readableBytesView)
            if let newline = collected.firstIndex(of: UInt8(ascii: "\n")) {
                return Array(collected[..<newline])
            }
            if collected.count > limit { throw ReadError.tooLong(limit: limit) }
        }
        return collected.isEmpty ? nil : collected
    }

    /// Reads a line, failing with ``ReadError/timedOut`` after `timeout`.
    static func readLine(
        from inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
        limit: Int,
        timeout: Duration
    ) async throws -> [UInt8]? {
        try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask { try await readLine(from: inbound, limit: limit) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw ReadError.timedOut
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Encodes a value as one JSON line (no embedded newlines; JSON escapes them).
    static func encodeLine(_ value: some Encodable) throws -> ByteBuffer {
        var data = try JSONEncoder().encode(value)
        data.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: data)
    }

    /// Decodes one JSON line.
    static func decode<T: Decodable>(_ type: T.Type, from line: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(line))
    }
}
