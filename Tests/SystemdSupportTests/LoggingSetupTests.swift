import TestSupport
import Testing

@testable import SystemdSupport

#if canImport(Glibc)
    import Glibc
#endif

struct LoggingSetupTests {
    @Test func picksJournalOnlyWhenJournalStreamMatchesTheDescriptor() throws {
        let directory = try SocketDirectory()
        defer { directory.remove() }
        let fd = open(directory.path + "/stream", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        var info = stat()
        try #require(fstat(fd, &info) == 0)
        let matching = "\(info.st_dev):\(info.st_ino)"
        #expect(LoggingSetup.destination(environment: ["JOURNAL_STREAM": matching], stderrDescriptor: fd) == .journal)
        // Set but not ours (e.g. inherited by a child whose stderr is a pipe): not enough.
        let other = "\(info.st_dev):\(UInt64(info.st_ino) + 1)"
        #expect(LoggingSetup.destination(environment: ["JOURNAL_STREAM": other], stderrDescriptor: fd) == .stderr)
        #expect(LoggingSetup.destination(environment: [:], stderrDescriptor: fd) == .stderr)
        #expect(LoggingSetup.destination(environment: ["JOURNAL_STREAM": "garbage"], stderrDescriptor: fd) == .stderr)
        #expect(LoggingSetup.destination(environment: ["JOURNAL_STREAM": matching], stderrDescriptor: -1) == .stderr)
    }

    @Test func parsesJournalStream() {
        #expect(LoggingSetup.parseJournalStream("9:59520")?.device == 9)
        #expect(LoggingSetup.parseJournalStream("9:59520")?.inode == 59520)
        #expect(LoggingSetup.parseJournalStream("9") == nil)
        #expect(LoggingSetup.parseJournalStream("9:x") == nil)
        #expect(LoggingSetup.parseJournalStream("1:2:3") == nil)
    }

    @Test func fallsBackToStderrWhenTheJournalSocketCannotBeUsed() {
        let longPath = "/" + String(repeating: "x", count: 200)
        let handler = LoggingSetup.makeHandler(
            label: "t",
            identifier: "certkeeper",
            level: .info,
            destination: .journal,
            journalSocketPath: longPath
        )
        #expect(handler is StderrLogHandler)
        let journal = LoggingSetup.makeHandler(
            label: "t", identifier: "certkeeper", level: .info, destination: .journal)
        #expect(journal is JournalLogHandler)
    }
}
