/// A DNS RCODE (RFC 1035, RFC 2136 §2.2) or a TSIG Error value (RFC 8945 §4.2), printed with its mnemonic.
package struct DNSResponseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    package var rawValue: UInt16
    package init(rawValue: UInt16) { self.rawValue = rawValue }

    package static let noError = DNSResponseCode(rawValue: 0)
    package static let formErr = DNSResponseCode(rawValue: 1)
    package static let servFail = DNSResponseCode(rawValue: 2)
    package static let nxDomain = DNSResponseCode(rawValue: 3)
    package static let notImp = DNSResponseCode(rawValue: 4)
    package static let refused = DNSResponseCode(rawValue: 5)
    package static let yxDomain = DNSResponseCode(rawValue: 6)
    package static let yxRRSet = DNSResponseCode(rawValue: 7)
    package static let nxRRSet = DNSResponseCode(rawValue: 8)
    /// Not authoritative for the zone; also the RCODE of every TSIG failure.
    package static let notAuth = DNSResponseCode(rawValue: 9)
    package static let notZone = DNSResponseCode(rawValue: 10)
    package static let badSig = DNSResponseCode(rawValue: 16)
    package static let badKey = DNSResponseCode(rawValue: 17)
    package static let badTime = DNSResponseCode(rawValue: 18)
    package static let badTrunc = DNSResponseCode(rawValue: 22)

    /// The mnemonic, e.g. `NOTAUTH`, or `RCODE<n>`.
    package var name: String {
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

    package var description: String { "\(name)(\(rawValue))" }
}
