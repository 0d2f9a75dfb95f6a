import CertStore
import CertkeeperConfig
import Foundation
import Renewal
import Testing

@Suite struct StatusReportTests {
    let day: TimeInterval = 86_400

    /// Five certificates in five situations: valid, failing in backoff, waiting for a reload, renewing, new.
    @Test func reportShowsEveryCertificatesNextActionErrorAndBackoff() async throws {
        let h = try MaintainerHarness()
        let now = h.clock.now()
        let valid = h.spec("valid")
        let failing = h.spec("failing")
        let waiting = h.spec("waiting")
        let renewing = h.spec("renewing")
        let fresh = h.spec("fresh")
        try h.installExisting(for: valid, notBefore: now.addingTimeInterval(-day), lifetime: 90 * day)
        try h.installExisting(for: renewing, notBefore: now.addingTimeInterval(-80 * day), lifetime: 90 * day)
        try await h.stateStore.save(CertificateState(name: "valid", nextCheck: now.addingTimeInterval(59 * day)))
        try await h.stateStore.save(
            CertificateState(
                name: "failing",
                backoff: Backoff(
                    failures: 2, transientFailures: 0, lastError: "newOrder: rateLimited: too many certificates",
                    lastErrorType: "urn:ietf:params:acme:error:rateLimited", lastFailure: now,
                    retryAt: now.addingTimeInterval(600)),
                nextCheck: now.addingTimeInterval(600)))
        try await h.stateStore.save(
            CertificateState(
                name: "waiting",
                backoff: Backoff(
                    failures: 1, transientFailures: 0, lastError: "EAB key refused", lastErrorType: nil,
                    lastFailure: now, retryAt: nil),
                nextCheck: .distantFuture))
        let configuration = Configuration(
            configDirectory: "/etc/certkeeper", defaults: DaemonDefaults(), cas: [:], accounts: [:],
            certificates: Dictionary(
                uniqueKeysWithValues: [valid, failing, waiting, renewing, fresh].map { ($0.name, $0) }))
        let entries = [
            RenewalScheduler.Entry(spec: valid, due: now.addingTimeInterval(59 * day)),
            RenewalScheduler.Entry(spec: failing, due: now.addingTimeInterval(600)),
            RenewalScheduler.Entry(spec: waiting, due: .distantFuture),
            RenewalScheduler.Entry(spec: renewing, due: now, inFlight: true),
            RenewalScheduler.Entry(spec: fresh, due: nil),
        ]
        let report = await StatusReport.build(
            configuration: configuration, stateDirectory: h.stateDirectory, stateStore: h.stateStore,
            scheduler: entries, rejectedSpecs: ["broken"], now: now)
        #expect(report.live)
        let rows = Dictionary(uniqueKeysWithValues: report.certificates.map { ($0.name, $0) })
        #expect(report.certificates.map(\.name) == ["failing", "fresh", "renewing", "valid", "waiting"])

        let v = try #require(rows["valid"])
        #expect(v.nextAction == "renew" && v.nextActionAt == now.addingTimeInterval(59 * day))
        #expect(v.domains == valid.domains && v.ca == "fake" && v.account == "default")
        #expect(v.notAfter.map { abs($0.timeIntervalSince(now.addingTimeInterval(89 * day))) < 1 } == true)
        #expect(v.lastError == nil && v.failureCount == 0 && v.backoffUntil == nil)

        let f = try #require(rows["failing"])
        #expect(f.nextAction == "retry" && f.nextActionAt == now.addingTimeInterval(600))
        #expect(f.failureCount == 2 && f.backoffUntil == now.addingTimeInterval(600))
        #expect(f.lastError == "newOrder: rateLimited: too many certificates" && f.notAfter == nil)

        let w = try #require(rows["waiting"])
        #expect(w.nextAction == "wait for config change or reload" && w.nextActionAt == nil)
        #expect(w.lastError == "EAB key refused" && w.failureCount == 1)

        let r = try #require(rows["renewing"])
        #expect(r.nextAction == "renewing" && r.inFlight && r.notAfter != nil)

        let n = try #require(rows["fresh"])
        #expect(n.nextAction == "order" && n.notAfter == nil && !n.inFlight)

        #expect(report.rejectedSpecs == ["broken"])
        #expect(
            report.summaryLine(now: now)
                == "2 certificates valid, 1 renewing, 2 failing, 1 spec(s) rejected, next: failing in 10m 0s")

        let table = report.table(now: now)
        #expect(table.contains("[2 failure(s)] newOrder: rateLimited: too many certificates"))
        #expect(table.contains("wait for config change or reload"))
        #expect(table.contains("broken"))

        // `status --json` round-trips every field.
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let decoded = try decoder.decode(StatusReport.self, from: encoder.encode(report))
        #expect(decoded.certificates.map(\.nextAction) == report.certificates.map(\.nextAction))
        #expect(decoded.certificates.first { $0.name == "failing" }?.backoffUntil == now.addingTimeInterval(600))
    }

    /// With ARI the next look at a certificate is a renewalInfo question, hours away, while its renewal is planned
    /// weeks later: status names the check and shows the planned time apart (both used to read "renew").
    @Test func anARICheckBeforeThePlannedRenewalIsShownApartFromIt() async throws {
        let h = try MaintainerHarness()
        let now = h.clock.now()
        let watched = h.spec("watched")
        let plain = h.spec("plain")
        for spec in [watched, plain] {
            try h.installExisting(for: spec, notBefore: now.addingTimeInterval(-day), lifetime: 90 * day)
        }
        let renewAt = now.addingTimeInterval(59 * day)
        try await h.stateStore.save(
            CertificateState(
                name: "watched",
                ari: ARIAdvice(
                    windowStart: renewAt, windowEnd: renewAt.addingTimeInterval(day),
                    askAgainAt: now.addingTimeInterval(6 * 3600)),
                schedule: RenewalSchedule(serial: "01", renewAt: renewAt), nextCheck: now.addingTimeInterval(6 * 3600)))
        try await h.stateStore.save(
            CertificateState(
                name: "plain", schedule: RenewalSchedule(serial: "02", renewAt: renewAt), nextCheck: renewAt))
        // Revoked: looked at now, long before its renewal time, and not for ARI: it is an order, shown as renew.
        let revoked = h.spec("revoked")
        try h.installExisting(for: revoked, notBefore: now.addingTimeInterval(-day), lifetime: 90 * day)
        try await h.stateStore.save(
            CertificateState(
                name: "revoked", schedule: RenewalSchedule(serial: "03", renewAt: renewAt), nextCheck: now,
                revokedSerial: "03"))
        let report = await StatusReport.build(
            configuration: Configuration(
                configDirectory: "/c", defaults: DaemonDefaults(), cas: [:], accounts: [:],
                certificates: ["watched": watched, "plain": plain, "revoked": revoked]),
            stateDirectory: h.stateDirectory, stateStore: h.stateStore, now: now)
        let rows = Dictionary(uniqueKeysWithValues: report.certificates.map { ($0.name, $0) })
        let w = try #require(rows["watched"])
        #expect(w.nextAction == "check ARI" && w.nextActionAt == now.addingTimeInterval(6 * 3600))
        #expect(w.renewAt == renewAt)
        let p = try #require(rows["plain"])
        #expect(p.nextAction == "renew" && p.nextActionAt == renewAt && p.renewAt == renewAt)
        #expect(rows["revoked"]?.nextAction == "renew" && rows["revoked"]?.nextActionAt == now)
        let table = report.table(now: now)
        #expect(table.contains("RENEW AT"))
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("watched") && $0.contains("check ARI") })
    }

    @Test func offlineReportUsesStateFiles() async throws {
        let h = try MaintainerHarness()
        let now = h.clock.now()
        let spec = h.spec("www")
        try await h.stateStore.save(
            CertificateState(
                name: "www",
                backoff: Backoff(
                    failures: 1, transientFailures: 0, lastError: "boom", lastErrorType: nil, lastFailure: now,
                    retryAt: now.addingTimeInterval(60)),
                nextCheck: now.addingTimeInterval(60)))
        let report = await StatusReport.build(
            configuration: Configuration(
                configDirectory: "/c", defaults: DaemonDefaults(), cas: [:], accounts: [:], certificates: ["www": spec]),
            stateDirectory: h.stateDirectory, stateStore: h.stateStore, now: now)
        #expect(!report.live)
        #expect(report.certificates.first?.nextAction == "retry")
        #expect(report.certificates.first?.backoffUntil == now.addingTimeInterval(60))
        #expect(report.summaryLine(now: now) == "0 certificates valid, 1 failing, next: www in 1m 0s")
        #expect(report.summaryLine(now: now.addingTimeInterval(120)).hasSuffix("next: www in now"))
    }

    /// The status line (rebuilt after every change) reads a certificate's files once, not at every line: an attempt
    /// records what it ends with, a certificate not seen yet is read once, and one waiting for its first attempt
    /// is not read at all. With 10,000 specs every line had read 10,000 state files and parsed 10,000 certificates.
    @Test func liveReportReadsEachCertificateOnceAndAttemptsKeepItCurrent() async throws {
        let h = try MaintainerHarness()
        let now = h.clock.now()
        let board = h.maintainer.facts
        let adopted = h.spec("adopted")
        let known = h.spec("known")
        let waiting = h.spec("waiting")
        for spec in [adopted, known, waiting] {
            try h.installExisting(for: spec, notBefore: now.addingTimeInterval(-day), lifetime: 90 * day)
        }
        try await h.stateStore.save(CertificateState(name: "known", nextCheck: now.addingTimeInterval(59 * day)))
        // An attempt (here the adoption of what is installed) records its outcome.
        let next = await h.maintainer.process(adopted, force: false)
        #expect(board.facts(for: adopted)?.notAfter.map { abs($0.timeIntervalSince(now + 89 * day)) < 1 } == true)
        #expect(board.facts(for: adopted)?.nextCheck == next)
        #expect(board.count == 1)

        let configuration = Configuration(
            configDirectory: "/c", defaults: DaemonDefaults(), cas: [:], accounts: [:],
            certificates: Dictionary(uniqueKeysWithValues: [adopted, known, waiting].map { ($0.name, $0) }))
        let entries = [
            RenewalScheduler.Entry(spec: adopted, due: next),
            RenewalScheduler.Entry(spec: known, due: now.addingTimeInterval(59 * day)),
            RenewalScheduler.Entry(spec: waiting, due: now),
        ]
        func line(_ configuration: Configuration) async -> StatusReport {
            await StatusReport.live(
                configuration: configuration, facts: board, stateDirectory: h.stateDirectory,
                stateStore: h.stateStore, scheduler: entries, rejectedSpecs: [], now: now)
        }
        let first = await line(configuration)
        // "known" was read once; "waiting" is due now and its attempt will record it: not read.
        #expect(board.count == 2)
        #expect(board.facts(for: waiting) == nil)
        #expect(first.summaryLine(now: now).hasPrefix("2 certificates valid"))

        // What is on disk changes behind the daemon's back: the line keeps what it knew ...
        let failed = CertificateState(
            name: "known",
            backoff: Backoff(
                failures: 3, transientFailures: 0, lastError: "boom", lastErrorType: nil, lastFailure: now,
                retryAt: now.addingTimeInterval(60)),
            nextCheck: now.addingTimeInterval(60))
        try await h.stateStore.save(failed)
        #expect(await line(configuration).certificates.first { $0.name == "known" }?.failureCount == 0)
        // ... while `certkeeper status` reads the disk ...
        let full = await StatusReport.build(
            configuration: configuration, stateDirectory: h.stateDirectory, stateStore: h.stateStore,
            scheduler: entries, now: now)
        #expect(full.certificates.first { $0.name == "known" }?.failureCount == 3)
        // ... and an edited spec is read again.
        let edited = h.spec("known", domains: ["other.example.test"])
        var editedConfiguration = configuration
        editedConfiguration.certificates["known"] = edited
        let afterEdit = await line(editedConfiguration)
        #expect(afterEdit.certificates.first { $0.name == "known" }?.failureCount == 3)
        #expect(board.facts(for: edited)?.lastError == "boom")

        // A removed certificate is forgotten.
        editedConfiguration.certificates["adopted"] = nil
        _ = await line(editedConfiguration)
        #expect(board.facts(for: adopted) == nil)
    }

    @Test func humanIntervals() {
        #expect(StatusReport.humanInterval(0) == "now")
        #expect(StatusReport.humanInterval(42) == "42s")
        #expect(StatusReport.humanInterval(3 * 3600 + 120) == "3h 2m")
        #expect(StatusReport.humanInterval(3 * 86_400 + 4 * 3600) == "3d 4h")
    }
}
