import CertkeeperConfig
import Foundation
import Renewal
import Testing

/// The scheduling rules without tasks or a clock: `now` is an argument.
@Suite struct SchedulePlanTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func plan(_ names: [String], due: [String: TimeInterval], maxConcurrent: Int = 8) -> SchedulePlan {
        var plan = SchedulePlan(maxConcurrent: maxConcurrent)
        let specs = names.map { makeSpec($0) }
        let toPlan = plan.apply(specs: specs, maxConcurrent: maxConcurrent, replanWaiting: false, now: start)
        #expect(toPlan.map(\.name) == names)
        for spec in toPlan { plan.planned(spec, due: start.addingTimeInterval(due[spec.name] ?? 0)) }
        return plan
    }

    @Test func startsWhatIsDueEarliestFirstUpToTheLimitAndNeverTwice() {
        var plan = plan(["a", "b", "c", "d"], due: ["a": 30, "b": 10, "c": 20, "d": 500], maxConcurrent: 2)
        #expect(plan.nextWake == start.addingTimeInterval(10))
        let early = plan.startDue(now: start.addingTimeInterval(5))
        #expect(early.isEmpty)
        let first = plan.startDue(now: start.addingTimeInterval(40))
        #expect(first.map(\.spec.name) == ["b", "c"])
        // Full: no wake-up until an attempt ends, and nothing more starts.
        #expect(plan.nextWake == nil)
        let full = plan.startDue(now: start.addingTimeInterval(40))
        #expect(full.isEmpty)
        // A renew for a certificate in flight only marks it; it is not started twice.
        let marked = plan.renewNow("b", force: true, now: start.addingTimeInterval(41))
        #expect(marked)
        let again = plan.startDue(now: start.addingTimeInterval(41))
        #expect(again.isEmpty)
        plan.finished(makeSpec("b"), next: start.addingTimeInterval(86_400), now: start.addingTimeInterval(42))
        // Both are due: `a` since 30 s, the forced renew of `b` since it ended (42 s); one slot is free.
        let next = plan.startDue(now: start.addingTimeInterval(42))
        #expect(next.map(\.spec.name) == ["a"])
        plan.finished(makeSpec("c"), next: start.addingTimeInterval(86_400), now: start.addingTimeInterval(43))
        let forced = plan.startDue(now: start.addingTimeInterval(43))
        #expect(forced.map(\.spec.name) == ["b"] && forced.first?.force == true)
        let unknown = plan.renewNow("zzz", force: false, now: start)
        #expect(!unknown)
    }

    @Test func reloadsAddRemoveAndReplan() {
        var plan = plan(["a", "b"], due: ["a": 100, "b": 200])
        let toPlan = plan.apply(
            specs: [makeSpec("b"), makeSpec("c")], maxConcurrent: 8, replanWaiting: false, now: start)
        #expect(toPlan.map(\.name) == ["c"])
        plan.planned(makeSpec("c"), due: start)
        #expect(plan.snapshot.map(\.spec.name) == ["b", "c"])
        #expect(plan.nextWake == start)
        // An edited spec is planned again; an unchanged one keeps its time.
        let edited = makeSpec("b", domains: ["b2.example.test"])
        let replanned = plan.apply(specs: [edited, makeSpec("c")], maxConcurrent: 8, replanWaiting: false, now: start)
        #expect(replanned.map(\.name) == ["b"])
        #expect(plan.entries["b"]?.due == nil && plan.entries["c"]?.due == start)
    }

    @Test func aSpecRemovedWhileInFlightIsDroppedWhenItEndsUnlessItCameBack() {
        var plan = plan(["a", "b"], due: [:])
        let both = plan.startDue(now: start)
        #expect(both.count == 2)
        _ = plan.apply(specs: [], maxConcurrent: 8, replanWaiting: false, now: start)
        _ = plan.apply(specs: [makeSpec("b")], maxConcurrent: 8, replanWaiting: false, now: start)
        plan.finished(makeSpec("a"), next: start.addingTimeInterval(60), now: start)
        plan.finished(makeSpec("b"), next: start.addingTimeInterval(60), now: start)
        #expect(plan.snapshot.map(\.spec.name) == ["b"])
        #expect(plan.entries["b"]?.due == start.addingTimeInterval(60))
    }

    @Test func aRenewDuringPlanningKeepsTheEarlierTime() {
        var plan = SchedulePlan(maxConcurrent: 4)
        let spec = makeSpec("a")
        _ = plan.apply(specs: [spec], maxConcurrent: 4, replanWaiting: false, now: start)
        let asked = plan.renewNow("a", force: false, now: start)
        #expect(asked)
        plan.planned(spec, due: start.addingTimeInterval(30 * 86_400))
        #expect(plan.entries["a"]?.due == start)
    }

    @Test func aReloadRetriesWhatWaitedForIt() {
        var plan = plan(["a", "b"], due: ["b": 50])
        let parked = plan.startDue(now: start)
        #expect(parked.map(\.spec.name) == ["a"])
        plan.finished(makeSpec("a"), next: .distantFuture, now: start)
        #expect(plan.nextWake == start.addingTimeInterval(50))
        _ = plan.apply(specs: [makeSpec("a"), makeSpec("b")], maxConcurrent: 8, replanWaiting: true, now: start)
        let retried = plan.startDue(now: start)
        #expect(retried.map(\.spec.name) == ["a"] && retried.first?.force == true)
    }

    @Test func stuckAttemptsAreSeen() {
        var plan = plan(["a"], due: [:])
        _ = plan.startDue(now: start)
        #expect(!plan.hasStuckAttempt(now: start.addingTimeInterval(59), stuckAfter: 60))
        #expect(plan.hasStuckAttempt(now: start.addingTimeInterval(60), stuckAfter: 60))
        plan.finished(makeSpec("a"), next: start.addingTimeInterval(86_400), now: start.addingTimeInterval(61))
        #expect(!plan.hasStuckAttempt(now: start.addingTimeInterval(1000), stuckAfter: 60))
    }

    @Test func aDueTimeMovedOrASpecChangedOrRemovedNeverStartsFromItsOldTime() {
        var plan = plan(["a", "b", "c"], due: ["a": 10, "b": 20, "c": 30])
        // a: moved earlier by a renew.
        _ = plan.renewNow("a", force: false, now: start.addingTimeInterval(5))
        #expect(plan.nextDue?.name == "a" && plan.nextDue?.due == start.addingTimeInterval(5))
        // b: its spec changes, so its old time (20) no longer counts until it is planned again.
        let changed = makeSpec("b", domains: ["b.example.org"])
        _ = plan.apply(specs: [makeSpec("a"), changed], maxConcurrent: 8, replanWaiting: false, now: start)
        // c was removed by that reload.
        let started = plan.startDue(now: start.addingTimeInterval(100))
        #expect(started.map(\.spec.name) == ["a"])
        #expect(plan.nextDue == nil)
        plan.planned(changed, due: start.addingTimeInterval(200))
        #expect(plan.nextDue?.name == "b" && plan.nextDue?.due == start.addingTimeInterval(200))
    }

    @Test func tenThousandCertificatesStartInDueOrderWithinTheLimit() {
        let names = (0..<10_000).map { "c\($0)" }
        var due: [String: TimeInterval] = [:]
        for (index, name) in names.enumerated() { due[name] = Double((index * 7919) % 10_000) }
        var plan = plan(names, due: due, maxConcurrent: 8)
        var order: [String] = []
        var now = start
        while order.count < names.count {
            let started = plan.startDue(now: start.addingTimeInterval(10_000))
            #expect(!started.isEmpty && started.count <= 8 && plan.inFlightCount <= 8)
            if started.isEmpty { break }
            for item in started {
                order.append(item.spec.name)
                now = now.addingTimeInterval(1)
                plan.finished(item.spec, next: start.addingTimeInterval(1_000_000), now: now)
            }
        }
        #expect(order.count == names.count && Set(order).count == names.count)
        let dueTimes = order.map { due[$0]! }
        #expect(dueTimes == dueTimes.sorted())
        #expect(plan.nextDue?.due == start.addingTimeInterval(1_000_000))
    }
}
