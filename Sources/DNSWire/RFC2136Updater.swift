import Foundation

/// Adds and deletes single TXT records with RFC 2136 UPDATE messages, TSIG-signed when a key is given.
package struct RFC2136Updater: Sendable {
    package var server: DNSServerAddress
    package var key: TSIGKey?
    package var client: DNSClient
    /// The clock for TSIG Time Signed and response time checks.
    package var now: @Sendable () -> Date

    package init(
        server: DNSServerAddress,
        key: TSIGKey?,
        client: DNSClient = DNSClient(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.server = server
        self.key = key
        self.client = client
        self.now = now
    }

    /// Adds one TXT RR (RFC 2136 §2.5.1); other RRs at the same name are kept.
    package func add(name: DNSName, txt: String, ttl: UInt32 = 60, zone: DNSName) async throws {
        let record = DNSResourceRecord(name: name, type: .txt, recordClass: .in, ttl: ttl, rdata: .txt([txt]))
        try await send(record, zone: zone, operation: "add TXT \(name)")
    }

    /// Deletes exactly one TXT RR (RFC 2136 §2.5.4: class NONE, TTL 0, same RDATA), never the whole RRset,
    /// so a parallel validation for the same owner (the apex and its wildcard) keeps its record.
    package func delete(name: DNSName, txt: String, zone: DNSName) async throws {
        let record = DNSResourceRecord(name: name, type: .txt, recordClass: .none, ttl: 0, rdata: .txt([txt]))
        try await send(record, zone: zone, operation: "delete TXT \(name)")
    }

    /// Finds the zone that contains `name` by asking for SOA at `name`, then each parent, until the server
    /// answers with an SOA (in the answer, or in the authority section of a negative answer).
    ///
    /// - Parameters:
    ///   - server: the server to ask; defaults to the update server.
    package func findZone(for name: DNSName, server: DNSServerAddress? = nil) async throws -> DNSName {
        let server = server ?? self.server
        var candidate: DNSName? = name
        var lastError: (any Error)? = nil
        for _ in 0...name.labels.count {
            guard let current = candidate else { break }
            candidate = current.parent
            let response: DNSMessage
            do {
                response = try await client.query(current, type: .soa, server: server, recursionDesired: true)
            } catch {
                lastError = error
                continue
            }
            guard response.rcode == .noError || response.rcode == .nxDomain else { continue }
            if let soa = response.answers.first(where: { $0.type == .soa && $0.name == current }) {
                return soa.name
            }
            if let soa = response.authorities.first(where: { $0.type == .soa }), name.isSubdomain(of: soa.name) {
                return soa.name
            }
        }
        throw DNSUpdateError(
            operation: "find zone of \(name)",
            server: server,
            zone: nil,
            keyName: key?.name,
            reason: "no SOA found for \(name) or any parent" + (lastError.map { " (last error: \($0))" } ?? "")
                + "; set the zone explicitly"
        )
    }

    private func send(_ record: DNSResourceRecord, zone: DNSName, operation: String) async throws {
        guard record.name.isSubdomain(of: zone) else {
            throw DNSUpdateError(
                operation: operation,
                server: server,
                zone: zone,
                keyName: key?.name,
                reason: "\(record.name) is not inside the zone"
            )
        }
        let message = DNSMessage.update(id: UInt16.random(in: 0...UInt16.max), zone: zone, updates: [record])
        func failure(_ reason: String, rcode: DNSResponseCode? = nil, tsigError: DNSResponseCode? = nil)
            -> DNSUpdateError
        {
            DNSUpdateError(
                operation: operation,
                server: server,
                zone: zone,
                keyName: key?.name,
                rcode: rcode,
                tsigError: tsigError,
                reason: reason
            )
        }
        let response: DNSMessage
        do {
            if let key {
                let signed = try TSIG.sign(message, with: key, now: now())
                let wire = try await client.exchange(signed.wire, with: server)
                response = try TSIG.verifyResponse(wire, to: signed, now: now())
            } else {
                response = try DNSMessage(decoding: try await client.exchange(try message.encode(), with: server))
            }
        } catch let error as TSIGError {
            switch error {
            case .rejectedByServer(let tsigError, let rcode):
                throw failure("rejected with \(rcode), TSIG error \(tsigError)", rcode: rcode, tsigError: tsigError)
            case .unsigned(let rcode) where rcode != .noError:
                throw failure("rejected with \(rcode) (unsigned response)", rcode: rcode)
            default:
                throw failure("\(error)")
            }
        } catch {
            throw failure("\(error)")
        }
        guard response.rcode == .noError else {
            throw failure("rejected with \(response.rcode)", rcode: response.rcode)
        }
    }
}
