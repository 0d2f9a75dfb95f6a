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
        var framer = ControlLineFramer(limit: limit)
        for try await chunk in inbound {
            if let line = try framer.append(chunk.readableBytesView) { return line }
        }
        return framer.finish()
    }

    /// Reads lines until one is not a progress line (``ControlResponse/progress``), handing each progress message to
    /// `onProgress`; returns that line, or nil when the peer closed first. Fails with ``ReadError/timedOut`` after
    /// `timeout`.
    static func readAnswer(
        from inbound: NIOAsyncChannelInboundStream<ByteBuffer>, limit: Int, timeout: Duration,
        onProgress: @escaping @Sendable (String) -> Void
    ) async throws -> [UInt8]? {
        try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask {
                var buffer: [UInt8] = []
                for try await chunk in inbound {
                    buffer.append(contentsOf: chunk.readableBytesView)
                    while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = Array(buffer[..<newline])
                        buffer.removeSubrange(...newline)
                        if let response = try? decode(ControlResponse.self, from: line), response.progress == true {
                            onProgress(response.message)
                            continue
                        }
                        return line
                    }
                    if buffer.count > limit { throw ReadError.tooLong(limit: limit) }
                }
                return buffer.isEmpty ? nil : buffer
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw ReadError.timedOut
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
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

/// Cuts the first line out of the bytes a control connection delivers, chunk by chunk. No I/O: the server, the
/// client, tests and the fuzzer (`Fuzz/FuzzControlRequest`) share it.
package struct ControlLineFramer: Sendable {
    /// How many bytes may arrive without a newline before the line is refused.
    package let limit: Int
    private var collected: [UInt8] = []

    /// Creates a framer that refuses more than `limit` bytes without a newline.
    package init(limit: Int) {
        self.limit = limit
    }

    /// Adds one chunk; returns the line (without its newline) once a newline has arrived. Bytes after it are dropped.
    ///
    /// - Throws: a "too long" error when more than ``limit`` bytes arrived without a newline.
    package mutating func append(_ chunk: some Sequence<UInt8>) throws -> [UInt8]? {
        let start = collected.count
        collected.append(contentsOf: chunk)
        if let newline = collected[start...].firstIndex(of: UInt8(ascii: "\n")) {
            return Array(collected[..<newline])
        }
        if collected.count > limit { throw ControlLineIO.ReadError.tooLong(limit: limit) }
        return nil
    }

    /// At end of input: the bytes that arrived without a newline, or nil when nothing arrived.
    package func finish() -> [UInt8]? {
        collected.isEmpty ? nil : collected
    }
}

extension ControlCommand {
    /// Decodes one request line (without its newline) as the server does.
    ///
    /// - Throws: `DecodingError` when the line is not a JSON request object, ``ControlCommandError`` when it names
    ///   no known command.
    package init(line: [UInt8]) throws {
        self = try ControlLineIO.decode(ControlCommand.self, from: line)
    }
}
