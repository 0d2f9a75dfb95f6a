/// A DNS RCODE (RFC 1035, RFC 2136 §2.2) or a TSIG Error value (RFC 8945 §4.2), printed with its mnemonic.
public struct DNSResponseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let noError = DNSResponseCode(rawValue: 0)
    public static let formErr = DNSResponseCode(rawValue: 1)
    public static let servFail = DNSResponseCode(rawValue: 2)
    public static let nxDomain = DNSResponseCode(rawValue: 3)
    public static let notImp = DNSResponseCode(rawValue: 4)
    public static let refused = DNSResponseCode(rawValue: 5)
    public static let yxDomain = DNSResponseCode(rawValue: 6)
    public static let yxRRSet = DNSResponseCode(rawValue: 7)
    public static let nxRRSet = DNSResponseCode(rawValue: 8)
    /// Not authoritative for the zone; also the RCODE of every TSIG failure.
    public static let notAuth = DNSResponseCode(rawValue: 9)
    public static let notZone = DNSResponseCode(rawValue: 10)
    public static let badSig = DNSResponseCode(rawValue: 16)
    public static let badKey = DNSResponseCode(rawValue: 17)
    public static let badTime = DNSResponseCode(rawValue: 18)
    public static let badTrunc = DNSResponseCode(rawValue: 22)

    /// The mnemonic, e.g. `NOTAUTH`, or `RCODE<n>`.
    public var name: String {
        switch rawValue {
        case 0: return "NOERROR"
        case 1: return "FORMERR"
        case 2: return "SERVFAIL"
        case 3: return "NXDOMAIN"
        case 4: return "NOTIMP"
        case 5: return "REFUSED"
        case 6: return "YXDOMAIN"
        case 7: return "YXRRSET"
        case 8: return "NXRRSET"
        case 9: return "NOTAUTH"
        case 10: return "NOTZONE"
        case 16: return "BADSIG"
        case 17: return "BADKEY"
        case 18: return "BADTIME"
        case 22: return "BADTRUNC"
        default: return "RCODE\(rawValue)"
        }
    }

    public var description: String { "\(name)(\(rawValue))" }
}
