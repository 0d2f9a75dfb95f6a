import Logging
import TestSupport
import Testing

@testable import SystemdSupport

#if canImport(Glibc)
    import Glibc
#endif

struct JournalLogHandlerTests {
    private func logger(socketPath: String) -> Logger {
        var logger = Logger(label: "test") { label in
            JournalLogHandler(label: label, identifier: "certkeeper", logLevel: .trace, socketPath: socketPath)
        }
        logger.logLevel = .trace
        return logger
    }

    @Test func writesNativeEntryWithMappedFields() throws {
        let directory = try SocketDirectory()
        defer { directory.remove() }
        let journal = try TestSocket(path: directory.path + "/journal")
        var logger = logger(socketPath: journal.path)
        logger[metadataKey: "ca"] = "https://acme.example/dir"
        let line: UInt = #line + 1
        logger.warning(
            "certificate renewed",
            metadata: [
                "cert": "www", "not_after": "2027-01-01T00:00:00Z", "domains": ["example.com", "www.example.com"],
                "account": "le-prod", "cert-id": "x", "message_id": "5CA94438-2831-439C-B962-A460BBE32497",
            ]
        )
        let received = try journal.receive()
        #expect(received.passedDescriptor == nil)
        let entry = try #require(JournalEntry.decode(received.bytes))
        #expect(entry["MESSAGE"] == "certificate renewed")
        #expect(entry["PRIORITY"] == "4")
        #expect(entry["SYSLOG_IDENTIFIER"] == "certkeeper")
        #expect(entry["CODE_FILE"]?.hasSuffix("JournalLogHandlerTests.swift") == true)
        #expect(entry["CODE_LINE"] == String(line))
        #expect(entry["CODE_FUNC"] == "writesNativeEntryWithMappedFields()")
        #expect(entry["MESSAGE_ID"] == "5ca944382831439cb962a460bbe32497")
        #expect(entry["CERTKEEPER_CERT"] == "www")
        #expect(entry["CERTKEEPER_NOT_AFTER"] == "2027-01-01T00:00:00Z")
        #expect(entry["CERTKEEPER_DOMAINS"] == "example.com,www.example.com")
        #expect(entry["CERTKEEPER_CA"] == "https://acme.example/dir")
        #expect(entry["CERTKEEPER_ACCOUNT"] == "le-prod")
        #expect(entry["CERTKEEPER_CERT_ID"] == "x")
        #expect(entry["CERTKEEPER_MESSAGE_ID"] == nil)
        // Every field name is valid for journald: [A-Z0-9_], not starting with "_".
        for field in entry.fields {
            #expect(!field.name.hasPrefix("_"))
            #expect(
                field.name.utf8.allSatisfy { (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F })
        }
        // Plain values use KEY=value framing on the wire.
        #expect(String(decoding: received.bytes, as: UTF8.self).hasPrefix("MESSAGE=certificate renewed\nPRIORITY=4\n"))
    }

    @Test func multiLineMessageUsesBinaryLengthFraming() throws {
        let directory = try SocketDirectory()
        defer { directory.remove() }
        let journal = try TestSocket(path: directory.path + "/journal")
        logger(socketPath: journal.path).error("order failed\ndetail: rejectedIdentifier")
        let bytes = try journal.receive().bytes
        let message = Array("order failed\ndetail: rejectedIdentifier".utf8)
        let expectedPrefix: [UInt8] =
            Array("MESSAGE\n".utf8) + [UInt8(message.count), 0, 0, 0, 0, 0, 0, 0] + message + [0x0A]
        #expect(Array(bytes.prefix(expectedPrefix.count)) == expectedPrefix)
        let entry = try #require(JournalEntry.decode(bytes))
        #expect(entry["MESSAGE"] == "order failed\ndetail: rejectedIdentifier")
        #expect(entry["PRIORITY"] == "3")
    }

    @Test func invalidMessageIDBecomesAPrefixedField() throws {
        let handler = JournalLogHandler(label: "t", socketPath: "/nonexistent/socket")
        let event = LogEvent(
            level: .info,
            message: "m",
            metadata: ["message_id": "not-an-id"],
            source: nil,
            file: "f.swift",
            function: "g()",
            line: 1
        )
        let entry = handler.entry(for: event)
        #expect(entry["MESSAGE_ID"] == nil)
        #expect(entry["CERTKEEPER_MESSAGE_ID"] == "not-an-id")
    }

    @Test func oversizedEntryIsPassedAsSealedMemfd() throws {
        let directory = try SocketDirectory()
        defer { directory.remove() }
        let journal = try TestSocket(path: directory.path + "/journal")
        // 1 MiB; hosts differ in their datagram limit, so the handler is told the limit is 64 KiB.
        let big = String(repeating: "0123456789abcdef", count: 64 * 1024)
        let handler = JournalLogHandler(label: "t", socketPath: journal.path, maxDatagramBytes: 64 * 1024)
        Logger(label: "t") { _ in handler }.info("\(big)", metadata: ["cert": "big"])
        let received = try journal.receive()
        let descriptor = try #require(received.passedDescriptor)
        defer { close(descriptor) }
        #expect(received.bytes.isEmpty)
        let entry = try #require(JournalEntry.decode(readAll(descriptor: descriptor)))
        #expect(entry["MESSAGE"] == big)
        #expect(entry["CERTKEEPER_CERT"] == "big")
        let fGetSeals: Int32 = 1024 + 10
        #expect(fcntl(descriptor, fGetSeals) == 0x1 | 0x2 | 0x4 | 0x8)
    }

    @Test func truncationCutsLongValuesAtCharacterBoundaries() {
        let long = String(repeating: "é", count: 100)  // 200 bytes
        let entry = JournalEntry(fields: [.init("MESSAGE", long), .init("PRIORITY", "6")])
        let cut = JournalLogHandler.truncated(entry, limit: 51)
        let message = cut["MESSAGE"] ?? ""
        #expect(message == String(repeating: "é", count: 25) + " … [truncated, 200 bytes]")
        #expect(cut["PRIORITY"] == "6")
    }

    @Test func prioritiesFollowSyslogLevels() {
        let expected: [(Logger.Level, Int)] = [
            (.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
        ]
        for (level, priority) in expected {
            #expect(JournalLogHandler.priority(for: level) == priority)
        }
    }

    @Test func fieldNamesAreSanitized() {
        #expect(JournalEntry.fieldName(for: "not_after", prefix: "CERTKEEPER_") == "CERTKEEPER_NOT_AFTER")
        #expect(JournalEntry.fieldName(for: "order.url-2", prefix: "CERTKEEPER_") == "CERTKEEPER_ORDER_URL_2")
        #expect(JournalEntry.fieldName(for: "ünï", prefix: "X_") == "X__N_")
        #expect(JournalEntry.fieldName(for: String(repeating: "a", count: 100), prefix: "P_").utf8.count == 64)
    }

    @Test func encodingRoundTripsRepeatedAndBinaryFields() {
        let entry = JournalEntry(fields: [
            .init("A", "1"), .init("A", "2"), .init("B", "x\ny\n"), .init("C", ""), .init("D", "a=b"),
        ])
        #expect(JournalEntry.decode(entry.encoded()) == entry)
        #expect(JournalEntry.decode(Array("NOEQUALS".utf8)) == nil)
    }
}
