import DNSWire
import Synchronization

/// The in-memory twin of a provider API: zones and their TXT RRsets in a dictionary, with a log of the changes.
package final class MemoryDNSProviderAPI: DNSProviderAPI {
    package let provider: String
    private let zones: [DNSName]
    private let state = Mutex<(txt: [DNSName: [String]], changes: [String])>(([:], []))

    package init(provider: String = "memory", zones: [DNSName]) {
        self.provider = provider
        self.zones = zones
    }

    /// The TXT values at `name`.
    package func txt(at name: DNSName) -> [String] { state.withLock { $0.txt[name.lowercased()] ?? [] } }

    /// Every change, in order: `add NAME VALUE`, `remove NAME VALUE`.
    package var changes: [String] { state.withLock { $0.changes } }

    package func seed(name: DNSName, values: [String]) { state.withLock { $0.txt[name.lowercased()] = values } }

    package func zone(for name: DNSName) async throws -> DNSName {
        guard let zone = closestZone(for: name, among: zones) else {
            throw DNSProviderError(
                provider: provider, endpoint: "memory", action: "finding the zone for \(name)",
                detail: "no zone holds it", hint: "add the zone")
        }
        return zone
    }

    package func addTXT(name: DNSName, value: String, ttl: UInt32) async throws {
        _ = try await zone(for: name)
        state.withLock {
            $0.changes.append("add \(name) \(value)")
            if !($0.txt[name.lowercased()] ?? []).contains(value) {
                $0.txt[name.lowercased(), default: []].append(value)
            }
        }
    }

    package func removeTXT(name: DNSName, value: String) async throws {
        _ = try await zone(for: name)
        state.withLock {
            $0.changes.append("remove \(name) \(value)")
            $0.txt[name.lowercased()]?.removeAll { $0 == value }
            if $0.txt[name.lowercased()]?.isEmpty == true { $0.txt[name.lowercased()] = nil }
        }
    }
}
