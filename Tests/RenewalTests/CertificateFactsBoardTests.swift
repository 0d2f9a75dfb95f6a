import CertkeeperConfig
import Foundation
import Testing

@testable import Renewal

/// The daemon's memory of each certificate's facts.
@Suite struct CertificateFactsBoardTests {
    /// The address of a string's UTF-8 storage (nil for a short string, held inline).
    static func storage(_ text: String?) -> UnsafeRawPointer? {
        guard var text else { return nil }
        return text.withUTF8 { UnsafeRawPointer($0.baseAddress) }
    }

    /// Every certificate from one CA names the same root: the board keeps that name once, not once per certificate.
    @Test func certificatesNamingOneRootHoldOneCopyOfTheName() throws {
        let board = CertificateFactsBoard()
        let (a, b) = (makeSpec("a"), makeSpec("b"))
        // Built separately, as reading each installed chain builds it.
        let root = { "CN=" + ["Example", "Root", "CA", "X1", "for", "tests"].joined(separator: " ") }
        let (firstRoot, secondRoot) = (root(), root())
        #expect(Self.storage(firstRoot) != Self.storage(secondRoot))
        board.record(a, CertificateFacts(notAfter: nil, chainRoot: firstRoot, state: nil))
        board.record(b, CertificateFacts(notAfter: nil, chainRoot: secondRoot, state: nil))
        let first = try #require(board.facts(for: a)?.chainRoot)
        let second = try #require(board.facts(for: b)?.chainRoot)
        #expect(first == root() && second == root())
        #expect(Self.storage(first) != nil && Self.storage(first) == Self.storage(second))
        // Another root is its own string; facts recorded anew keep their root.
        board.record(b, CertificateFacts(notAfter: nil, chainRoot: "CN=Another Root For The Tests", state: nil))
        #expect(board.facts(for: b)?.chainRoot == "CN=Another Root For The Tests")
        #expect(board.facts(for: a)?.chainRoot == root())
    }

    /// Beyond the limit of shared names (a CA answering with a new root each time) each is kept as it came.
    @Test func rootNamesBeyondTheLimitAreKeptAsTheyCame() {
        let board = CertificateFactsBoard()
        let count = CertificateFactsBoard.maxRootNames + 10
        for index in 0..<count {
            board.record(
                makeSpec("c\(index)"),
                CertificateFacts(notAfter: nil, chainRoot: "CN=Root number \(index) of many roots", state: nil))
        }
        for index in 0..<count {
            #expect(board.facts(for: makeSpec("c\(index)"))?.chainRoot == "CN=Root number \(index) of many roots")
        }
        #expect(board.count == count)
    }
}
