import Foundation
import Testing

@testable import ControlSocket

/// The pure request reader the control server (and `Fuzz/FuzzControlRequest`) uses.
struct ControlLineFramerTests {
    private func frame(_ text: String, chunkSize: Int, limit: Int = 64) throws -> [UInt8]? {
        var framer = ControlLineFramer(limit: limit)
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunkSize)
            if let line = try framer.append(bytes[offset..<end]) { return line }
            offset = end
        }
        return framer.finish()
    }

    @Test func returnsTheFirstLineWhateverTheChunking() throws {
        for chunkSize in 1...8 {
            let line = try frame(#"{"command":"status"}"# + "\n{\"command\":\"reload\"}\n", chunkSize: chunkSize)
            #expect(line == Array(#"{"command":"status"}"#.utf8))
        }
    }

    @Test func endOfInputGivesThePartialLineOrNothing() throws {
        #expect(try frame(#"{"command":"reload"}"#, chunkSize: 3) == Array(#"{"command":"reload"}"#.utf8))
        #expect(try frame("", chunkSize: 3) == nil)
        #expect(try frame("\n", chunkSize: 1) == [])
    }

    @Test func refusesMoreThanTheLimitWithoutANewline() throws {
        #expect(throws: ControlLineIO.ReadError.self) { try frame(String(repeating: "x", count: 65), chunkSize: 10) }
        #expect(try frame(String(repeating: "x", count: 64), chunkSize: 10)?.count == 64)
    }

    @Test func decodesARequestLineAsTheServerDoes() throws {
        let request = try ControlCommand(line: Array(#"{"command":"renew","name":"www","force":true}"#.utf8))
        #expect(request == .renew(name: "www", force: true))
        #expect(
            try ControlCommand(line: Array(#"{"command":"renew","name":"www"}"#.utf8))
                == .renew(name: "www", force: false))
        #expect(try ControlCommand(line: Array(#"{"command":"status"}"#.utf8)) == .status)
        #expect(
            try ControlCommand(line: Array(#"{"command":"renew","name":"www","wait":true}"#.utf8))
                == .renewWaiting(name: "www", force: false))
        #expect(
            try ControlCommand(line: Array(#"{"command":"renew","name":"www","force":true,"wait":false}"#.utf8))
                == .renew(name: "www", force: true))
        #expect(throws: DecodingError.self) { try ControlCommand(line: Array("status".utf8)) }
        #expect(throws: ControlCommandError.unknown("rotate")) {
            try ControlCommand(line: Array(#"{"command":"rotate"}"#.utf8))
        }
        #expect(throws: ControlCommandError.missingName(command: "renew")) {
            try ControlCommand(line: Array(#"{"command":"renew"}"#.utf8))
        }
        // What the client writes is what the server reads, for every command.
        for command in [
            ControlCommand.reload, .status, .renew(name: "a.b", force: true), .renewWaiting(name: "a", force: true),
        ] {
            let line = try JSONEncoder().encode(command)
            #expect(try ControlCommand(line: Array(line)) == command)
        }
    }
}
