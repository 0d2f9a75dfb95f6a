import Foundation
import Renewal
import Testing

/// Records the batches a coalescer reloads.
private actor ReloadLog {
    var batches: [Set<String>] = []
    func record(_ units: Set<String>) { batches.append(units) }
}

@Suite struct ReloadCoalescerTests {
    private func tempJournal() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coalescer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("pending-reloads.json").path
    }

    @Test func unitsAddedByOneBatchAreReloadedOnceEach() async throws {
        let log = ReloadLog()
        let coalescer = ReloadCoalescer { units in await log.record(units) }
        await coalescer.add(["nginx.service"])
        await coalescer.add(["nginx.service", "postfix.service"])
        await coalescer.add([])
        await coalescer.flush()
        await coalescer.flush()
        #expect(await log.batches == [["nginx.service", "postfix.service"]])
    }

    @Test func aPendingReloadSurvivesACrashAndRunsAtTheNextStart() async throws {
        let journal = try tempJournal()
        // The first run installs a certificate and dies before its batch ends: nothing reloaded yet.
        let first = ReloadLog()
        let crashed = ReloadCoalescer(journal: journal) { units in await first.record(units) }
        await crashed.add(["nginx.service"])
        #expect(FileManager.default.fileExists(atPath: journal))
        #expect(await first.batches.isEmpty)

        // The next start finds the journal and reloads the unit, then forgets it.
        let second = ReloadLog()
        let restarted = ReloadCoalescer(journal: journal) { units in await second.record(units) }
        await restarted.recover()
        #expect(await second.batches == [["nginx.service"]])
        #expect(!FileManager.default.fileExists(atPath: journal))

        // Nothing left to recover a second time.
        await restarted.recover()
        #expect(await second.batches.count == 1)
    }

    @Test func theJournalIsPrivate() async throws {
        let journal = try tempJournal()
        let coalescer = ReloadCoalescer(journal: journal) { _ in }
        await coalescer.add(["nginx.service"])
        let mode = try FileManager.default.attributesOfItem(atPath: journal)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
