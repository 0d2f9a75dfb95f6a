/// Cursor over a received message; follows name compression pointers (RFC 1035 §4.1.4).
struct DNSWireReader {
    let bytes: [UInt8]
    var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws -> UInt8 {
        guard offset < bytes.count else { throw DNSWireError.truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws -> UInt16 {
        let raw = try take(2)
        return UInt16(raw[0]) << 8 | UInt16(raw[1])
    }

    mutating func u32() throws -> UInt32 {
        let raw = try take(4)
        return raw.reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func u48() throws -> UInt64 {
        let raw = try take(6)
        return raw.reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func take(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= remaining else { throw DNSWireError.truncated(offset: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// Reads a possibly compressed name; pointers must point backwards, which also rules out loops.
    mutating func name() throws -> DNSName {
        var labels: [[UInt8]] = []
        var cursor = offset
        var resumeAt: Int? = nil
        var lowestTarget = offset
        var wireLength = 1
        while true {
            guard cursor < bytes.count else { throw DNSWireError.truncated(offset: cursor) }
            let length = bytes[cursor]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    offset = resumeAt ?? cursor + 1
                    return try DNSName(labels: labels)
                }
                let start = cursor + 1
                let end = start + Int(length)
                guard end <= bytes.count else { throw DNSWireError.truncated(offset: cursor) }
                wireLength += Int(length) + 1
                guard wireLength <= 255 else { throw DNSWireError.invalidName(reason: "longer than 255 bytes") }
                labels.append(Array(bytes[start..<end]))
                cursor = end
            case 0xC0:
                guard cursor + 1 < bytes.count else { throw DNSWireError.truncated(offset: cursor) }
                let target = Int(length & 0x3F) << 8 | Int(bytes[cursor + 1])
                guard target < lowestTarget else { throw DNSWireError.badPointer(offset: cursor) }
                if resumeAt == nil { resumeAt = cursor + 2 }
                lowestTarget = target
                cursor = target
            default:
                throw DNSWireError.badPointer(offset: cursor)
            }
        }
    }
}

/// Big-endian appends for building messages (no compression).
extension Array where Element == UInt8 {
    mutating func appendU16(_ value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(value & 0xFF))
    }

    mutating func appendU32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { append(UInt8((value >> UInt32(shift)) & 0xFF)) }
    }

    mutating func appendU48(_ value: UInt64) {
        for shift in stride(from: 40, through: 0, by: -8) { append(UInt8((value >> UInt64(shift)) & 0xFF)) }
    }
}
