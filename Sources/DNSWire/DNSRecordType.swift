/// An RR TYPE (RFC 1035 §3.2.2 and later registries); unknown values are kept as-is.
public struct DNSRecordType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = DNSRecordType(rawValue: 1)
    public static let ns = DNSRecordType(rawValue: 2)
    public static let cname = DNSRecordType(rawValue: 5)
    public static let soa = DNSRecordType(rawValue: 6)
    public static let txt = DNSRecordType(rawValue: 16)
    public static let aaaa = DNSRecordType(rawValue: 28)
    public static let opt = DNSRecordType(rawValue: 41)
    public static let tsig = DNSRecordType(rawValue: 250)
    public static let any = DNSRecordType(rawValue: 255)

    public var description: String {
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
public struct DNSClass: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let `in` = DNSClass(rawValue: 1)
    /// Used by UPDATE to delete one RR (RFC 2136 §2.5.4).
    public static let none = DNSClass(rawValue: 254)
    /// Used by UPDATE to delete an RRset and by TSIG.
    public static let any = DNSClass(rawValue: 255)

    public var description: String {
        switch self {
        case .in: return "IN"
        case .none: return "NONE"
        case .any: return "ANY"
        default: return "CLASS\(rawValue)"
        }
    }
}

/// The header OPCODE (RFC 1035 §4.1.1, UPDATE from RFC 2136 §1).
public struct DNSOpcode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    public static let query = DNSOpcode(rawValue: 0)
    public static let update = DNSOpcode(rawValue: 5)

    public var description: String {
        switch self {
        case .query: return "QUERY"
        case .update: return "UPDATE"
        default: return "OPCODE\(rawValue)"
        }
    }
}
