/// An RFC 2136 update or zone lookup that failed. Names the server, the zone and the TSIG key, never the secret.
package struct DNSUpdateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was being done, e.g. `add TXT _acme-challenge.example.test.`.
    package var operation: String
    package var server: DNSServerAddress
    package var zone: DNSName?
    package var keyName: DNSName?
    /// The response RCODE when the server answered.
    package var rcode: DNSResponseCode?
    /// The TSIG Error field (BADSIG, BADKEY, BADTIME) when the server rejected the signature.
    package var tsigError: DNSResponseCode?
    package var reason: String

    package init(
        operation: String,
        server: DNSServerAddress,
        zone: DNSName?,
        keyName: DNSName?,
        rcode: DNSResponseCode? = nil,
        tsigError: DNSResponseCode? = nil,
        reason: String
    ) {
        self.operation = operation
        self.server = server
        self.zone = zone
        self.keyName = keyName
        self.rcode = rcode
        self.tsigError = tsigError
        self.reason = reason
    }

    package var description: String {
        var text = "DNS update (\(operation)) at server \(server)"
        if let zone { text += ", zone \(zone)" }
        text += keyName.map { ", TSIG key \($0)" } ?? ", no TSIG key"
        text += ": \(reason)"
        if let hint { text += "; \(hint)" }
        return text
    }

    private var hint: String? {
        switch (tsigError, rcode) {
        case (.badSig?, _): return "check that the TSIG secret matches the server's key"
        case (.badKey?, _): return "check the key name and algorithm configured on the server"
        case (.badTime?, _): return "check the clocks of this host and the DNS server"
        case (_, .refused?), (_, .notAuth?):
            return "check the server's update-policy/allow-update for this key and zone, and that it is primary"
        case (_, .notZone?): return "the record is outside the zone; check the zone setting"
        default: return nil
        }
    }
}
