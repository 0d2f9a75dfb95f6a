import ChallengeSolvers
import Foundation
import Logging
import Renewal
import Synchronization
import Testing

/// A node answering the http-01 tokens other nodes placed, on a real responder pool on loopback: only where this
/// node's own specs listen (or `[store] http01_address`), never where a row in the database says.
@Suite struct HTTP01TokenMirrorTests {
    final class Acknowledged: Sendable {
        private let tokens = Mutex<[String]>([])
        func add(_ token: String) { tokens.withLock { $0.append(token) } }
        var all: [String] { tokens.withLock { $0 } }
    }

    static func token(_ name: String, on address: String) -> HTTP01TokenMirror.Token {
        HTTP01TokenMirror.Token(
            token: name, keyAuthorization: "\(name).thumbprint", domain: "\(name).fleet.test", address: address)
    }

    @Test func answersOnlyWhereThisNodesOwnSpecsListen() async throws {
        let pool = HTTP01ResponderPool()
        let acknowledged = Acknowledged()
        let mirror = HTTP01TokenMirror(
            pool: pool, address: nil, ownAddresses: { ["127.0.0.1:0"] },
            acknowledge: { acknowledged.add($0) }, logger: Logger(label: "test.mirror"))
        // "mine" is answered where this node listens too; "elsewhere" names an address no spec of this node has.
        await mirror.reconcile([Self.token("mine", on: "127.0.0.1:0"), Self.token("elsewhere", on: "127.0.0.2:0")])
        #expect(await mirror.mirroredTokens == ["mine"])
        #expect(acknowledged.all == ["mine"])
        #expect(try await pool.boundPort(on: "127.0.0.1:0") != nil)
        #expect(try await pool.boundPort(on: "127.0.0.2:0") == nil)
        // Withdrawn by the placing node: no longer answered, and the listener closes with its last token.
        await mirror.reconcile([])
        #expect(await mirror.mirroredTokens == [])
        #expect(try await pool.boundPort(on: "127.0.0.1:0") == nil)
    }

    @Test func theStoresHTTP01AddressAnswersEveryToken() async throws {
        let pool = HTTP01ResponderPool()
        let acknowledged = Acknowledged()
        let mirror = HTTP01TokenMirror(
            pool: pool, address: "127.0.0.1:0", ownAddresses: { [] },
            acknowledge: { acknowledged.add($0) }, logger: Logger(label: "test.mirror"))
        await mirror.reconcile([Self.token("a", on: "127.0.0.2:0"), Self.token("b", on: "127.0.0.3:0")])
        #expect(await mirror.mirroredTokens == ["a", "b"])
        #expect(acknowledged.all == ["a", "b"])
        #expect(try await pool.boundPort(on: "127.0.0.1:0") != nil)
        #expect(try await pool.boundPort(on: "127.0.0.2:0") == nil)
        await mirror.clear()
    }
}
