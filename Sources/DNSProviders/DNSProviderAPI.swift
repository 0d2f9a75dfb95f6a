import DNSWire

/// One DNS provider's HTTP API, as the dns-01 solver needs it: find the zone, add and remove one TXT value.
///
/// Both changes keep every other value of the RRset (another challenge for the same name, an operator's own
/// record). ``MemoryDNSProviderAPI`` is the in-memory twin.
package protocol DNSProviderAPI: Sendable {
    /// `powerdns`, `route53` or `cloudflare`, as in the spec.
    var provider: String { get }
    /// The zone that holds `name`, as the provider knows it.
    func zone(for name: DNSName) async throws -> DNSName
    /// Adds `value` to the TXT records at `name`; nothing when it is already there.
    func addTXT(name: DNSName, value: String, ttl: UInt32) async throws
    /// Removes `value` from the TXT records at `name`, leaving the others; nothing when it is not there.
    func removeTXT(name: DNSName, value: String) async throws
}

/// The zone among `zones` that holds `name`: the longest one `name` lies in.
package func closestZone(for name: DNSName, among zones: [DNSName]) -> DNSName? {
    zones.filter { name.lowercased().isSubdomain(of: $0.lowercased()) }.max { $0.labels.count < $1.labels.count }
}
