import Logging
import Testing

@testable import SystemdSupport

#if canImport(Glibc)
    import Glibc
#endif

struct StderrLogHandlerTests {
    /// Logs through a pipe and returns what the handler wrote.
    private func captured(_ body: (Logger) -> Void) throws -> String {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let writeEnd = fds[1]
        var logger = Logger(label: "test") { StderrLogHandler(label: $0, logLevel: .debug, fileDescriptor: writeEnd) }
        logger.logLevel = .debug
        body(logger)
        close(writeEnd)
        return String(decoding: readPipe(fds[0]), as: UTF8.self)
    }

    private func readPipe(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return out }
            out += chunk[..<count]
        }
    }

    @Test func prefixesPriorityAndAppendsSortedMetadata() throws {
        let output = try captured { logger in
            logger.error(
                "renewal failed", metadata: ["cert": "www", "ca": "https://ca.example/dir", "note": "two words"])
            logger.info("started")
            logger.debug("detail", metadata: ["domains": ["a.example", "b.example"], "empty": ""])
        }
        #expect(
            output == """
                <3>renewal failed ca=https://ca.example/dir cert=www note="two words"
                <6>started
                <7>detail domains=a.example,b.example empty=""

                """
        )
    }

    @Test func prefixesEveryLineOfMultiLineMessages() throws {
        let output = try captured { logger in
            logger.warning("first line\nsecond line\n\nfourth", metadata: ["cert": "www"])
        }
        #expect(output == "<4>first line cert=www\n<4>second line\n<4>\n<4>fourth\n")
    }

    @Test func quotesAndEscapesValues() {
        #expect(StderrLogHandler.quoted("plain") == "plain")
        #expect(StderrLogHandler.quoted("a b") == "\"a b\"")
        #expect(StderrLogHandler.quoted("say \"hi\"") == "\"say \\\"hi\\\"\"")
        #expect(StderrLogHandler.quoted("x\ny") == "\"x\\ny\"")
        #expect(StderrLogHandler.quoted("k=v") == "\"k=v\"")
        #expect(StderrLogHandler.quoted("\u{1}") == "\"\\x01\"")
    }

    @Test func noticeAndCriticalUseTheirPriorities() throws {
        let output = try captured { logger in
            logger.notice("n")
            logger.critical("c")
        }
        #expect(output == "<5>n\n<2>c\n")
    }
}
