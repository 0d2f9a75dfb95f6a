/// An RR TYPE (RFC 1035 §3.2.2 and later registries); unknown values are kept as-is.
package struct DNSRecordType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    package var rawValue: UInt16
    package init(rawValue: UInt16) { self.rawValue = rawValue }

    package static let a = DNSRecordType(rawValue: 1)
    package static let ns = DNSRecordType(rawValue: 2)
    package static let cname = DNSRecordType(rawValue: 5)
    package static let soa = DNSRecordType(rawValue: 6)
    package static let txt = DNSRecordType(rawValue: 16)
    package static let aaaa = DNSRecordType(rawValue: 28)
    package static let opt = DNSRecordType(rawValue: 41)
    package static let tsig = DNSRecordType(rawValue: 250)
    package static let any = DNSRecordType(rawValue: 255)

    package var description: String {
        switch self {
        case .a: return "A"
        case .ns: return "NS"
        case .cname: return "CNAME"
        case .soa: return "SOA"
        case .txt: return "TXT"
        case .aaaa: return "AAAA"
        case .opt: return "OPT"
        case .tsig: return "TSIG"
        case .any: return "ANY"
        default: return "TYPE\(rawValue)"
        }
    }
}

/// An RR CLASS (RFC 1035 §3.2.4; NONE from RFC 2136 §2.5.4).
package struct DNSClass: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    package var rawValue: UInt16
    package init(rawValue: UInt16) { self.rawValue = rawValue }

    package static let `in` = DNSClass(rawValue: 1)
    /// Used by UPDATE to delete one RR (RFC 2136 §2.5.4).
    package static let none = DNSClass(rawValue: 254)
    /// Used by UPDATE to delete an RRset and by TSIG.
    package static let any = DNSClass(rawValue: 255)

    package var description: String {
        switch self {
        case .in: return "IN"
        case .none: return "NONE"
        case .any: return "ANY"
        default: return "CLASS\(rawValue)"
        }
    }
}

/// The header OPCODE (RFC 1035 §4.1.1, UPDATE from RFC 2136 §1).
package struct DNSOpcode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    package var rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    package static let query = DNSOpcode(rawValue: 0)
    package static let update = DNSOpcode(rawValue: 5)

    package var description: String {
        switch self {
        case .query: return "QUERY"
        case .update: return "UPDATE"
        default: return "OPCODE\(rawValue)"
        }
    }
}
