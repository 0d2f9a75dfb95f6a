/// The RDATA of one resource record, decoded for the types certkeeper needs.
package enum DNSRData: Sendable, Hashable {
    /// An IPv4 address (4 bytes).
    case a([UInt8])
    /// An IPv6 address (16 bytes, RFC 3596).
    case aaaa([UInt8])
    case ns(DNSName)
    /// The canonical name an alias points to (RFC 1035 §3.3.1).
    case cname(DNSName)
    case soa(SOAData)
    /// One or more character-strings (RFC 1035 §3.3.14); each is at most 255 bytes.
    case txt([String])
    case tsig(TSIGRecord)
    /// Any other type, or empty RDATA (as in RFC 2136 "delete RRset"), kept as raw bytes.
    case raw([UInt8])

    /// The SOA fields (RFC 1035 §3.3.13).
    package struct SOAData: Sendable, Hashable {
        package var mname: DNSName
        package var rname: DNSName
        package var serial: UInt32
        package var refresh: UInt32
        package var retry: UInt32
        package var expire: UInt32
        package var minimum: UInt32

        package init(
            mname: DNSName,
            rname: DNSName,
            serial: UInt32,
            refresh: UInt32,
            retry: UInt32,
            expire: UInt32,
            minimum: UInt32
        ) {
            self.mname = mname
            self.rname = rname
            self.serial = serial
            self.refresh = refresh
            self.retry = retry
            self.expire = expire
            self.minimum = minimum
        }
    }

    /// Encodes the RDATA (without RDLENGTH); names are written uncompressed.
    package func encode() throws -> [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .a(let address):
            guard address.count == 4 else {
                throw DNSWireError.unencodable(reason: "A address of \(address.count) bytes")
            }
            out = address
        case .aaaa(let address):
            guard address.count == 16 else {
                throw DNSWireError.unencodable(reason: "AAAA address of \(address.count) bytes")
            }
            out = address
        case .ns(let name), .cname(let name):
            out = name.wire
        case .soa(let soa):
            out = soa.mname.wire + soa.rname.wire
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { out.appendU32(value) }
        case .txt(let strings):
            guard !strings.isEmpty else { throw DNSWireError.unencodable(reason: "TXT with no character-string") }
            for string in strings {
                let bytes = Array(string.utf8)
                guard bytes.count <= 255 else {
                    throw DNSWireError.unencodable(reason: "TXT character-string of \(bytes.count) bytes (at most 255)")
                }
                out.append(UInt8(bytes.count))
                out.append(contentsOf: bytes)
            }
        case .tsig(let record):
            out = record.encode()
        case .raw(let bytes):
            out = bytes
        }
        return out
    }

    /// Decodes `length` bytes of RDATA of `type` at the reader's position (names may be compressed).
    static func decode(type: DNSRecordType, length: Int, from reader: inout DNSWireReader) throws -> DNSRData {
        let start = reader.offset
        let end = start + length
        guard end <= reader.bytes.count else { throw DNSWireError.truncated(offset: start) }
        if length == 0 {
            return .raw([])
        }
        let rdata: DNSRData
        switch type {
        case .a:
            guard length == 4 else {
                throw DNSWireError.badRData(type: type, offset: start, reason: "length \(length)")
            }
            rdata = .a(try reader.take(4))
        case .aaaa:
            guard length == 16 else {
                throw DNSWireError.badRData(type: type, offset: start, reason: "length \(length)")
            }
            rdata = .aaaa(try reader.take(16))
        case .ns:
            rdata = .ns(try reader.name())
        case .cname:
            rdata = .cname(try reader.name())
        case .soa:
            let mname = try reader.name()
            let rname = try reader.name()
            rdata = .soa(
                SOAData(
                    mname: mname,
                    rname: rname,
                    serial: try reader.u32(),
                    refresh: try reader.u32(),
                    retry: try reader.u32(),
                    expire: try reader.u32(),
                    minimum: try reader.u32()
                )
            )
        case .txt:
            var strings: [String] = []
            while reader.offset < end {
                let count = Int(try reader.u8())
                guard reader.offset + count <= end else {
                    throw DNSWireError.badRData(type: type, offset: reader.offset, reason: "string overruns RDLENGTH")
                }
                strings.append(String(decoding: try reader.take(count), as: UTF8.self))
            }
            rdata = .txt(strings)
        case .tsig:
            rdata = .tsig(try TSIGRecord.decode(from: &reader, end: end))
        default:
            rdata = .raw(try reader.take(length))
        }
        guard reader.offset == end else {
            throw DNSWireError.badRData(type: type, offset: start, reason: "RDLENGTH \(length) does not match content")
        }
        return rdata
    }
}
