import Foundation
import Testing
@testable import RealtimeCore

/// A deterministic random source for ids.
private struct Counting: RandomNumberGenerator {
    var state: UInt64 = 1
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state
    }
}

@Suite("Demo jobs (pure)")
struct DemoJobsTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func planDefaultsAndOptions() throws {
        #expect(try JobPlan.parse("") == JobPlan(steps: 10, intervalMs: 300))
        #expect(try JobPlan.parse("  \n") == JobPlan())
        #expect(try JobPlan.parse("{}") == JobPlan())
        #expect(try JobPlan.parse(#"{"steps":4,"intervalMs":20,"failAt":50,"other":true}"#) == JobPlan(steps: 4, intervalMs: 20, failAt: 50))
        #expect(try JobPlan.parse(#"{"steps":null}"#, defaults: JobPlan(steps: 3)) == JobPlan(steps: 3))
        // 0 and 1 are numbers, never booleans.
        #expect(try JobPlan.parse(#"{"steps":1,"failAt":1}"#) == JobPlan(steps: 1, failAt: 1))
    }

    @Test(arguments: [
        (#"{"steps":0}"#, "steps"), (#"{"steps":101}"#, "steps"), (#"{"steps":2.5}"#, "steps"), (#"{"steps":"3"}"#, "steps"),
        (#"{"steps":true}"#, "steps"), (#"{"intervalMs":1}"#, "intervalMs"), (#"{"intervalMs":60000}"#, "intervalMs"),
        (#"{"failAt":0}"#, "failAt"), ("[1]", "body"), ("{nope", "body"), ("42", "body"),
    ])
    func badPlansNameTheField(body: String, field: String) {
        #expect(throws: JobPlan.Invalid.self) { try JobPlan.parse(body) }
        do { _ = try JobPlan.parse(body) } catch { #expect(error.field == field) }
    }

    @Test func updatesGoFromZeroToDoneAtHundred() {
        let u = JobPlan(steps: 10).updates
        #expect(u.map(\.progress) == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
        #expect(u.dropLast().allSatisfy { $0.state == .running })
        #expect(u.last?.state == .done)
        let three = JobPlan(steps: 3).updates
        #expect(three.map(\.progress) == [0, 33, 66, 100] && three.last?.state == .done)
        let one = JobPlan(steps: 1).updates
        #expect(one.map(\.progress) == [0, 100] && one.last?.state == .done)
    }

    @Test func failAtEndsTheJobFailed() {
        let u = JobPlan(steps: 10, failAt: 45).updates
        #expect(u.map(\.progress) == [0, 10, 20, 30, 40, 50])
        #expect(u.last?.state == .failed)
        #expect(!u.contains { $0.state == .done })
    }

    @Test func idsAreValidChannelSuffixes() {
        var g = Counting()
        for _ in 0..<200 {
            let id = JobID.make(using: &g)
            #expect(JobID.isValid(id))
            #expect(ChannelName("job:" + id) != nil)
        }
        #expect(!JobID.isValid("short") && !JobID.isValid("ABCDEFGHJKMN") && !JobID.isValid("abcdefghjkm!"))
    }

    @Test func statusJSONHasTheSpecFields() throws {
        let s = JobStatus(id: "abc", state: .running, progress: 40, updatedAt: t0)
        let o = try #require(try JSONSerialization.jsonObject(with: Data(s.json.text.utf8)) as? [String: Any])
        #expect(o["id"] as? String == "abc" && o["state"] as? String == "running" && o["progress"] as? Int == 40)
        #expect(o["updatedAt"] as? String == "2027-01-15T08:00:00.000Z")
        #expect(s.channel.value == "job:abc")
    }

    @Test func tableRunsAtMostMaxRunningAndQueuesTheRest() throws {
        var g = Counting()
        var table = JobTable(limits: .init(maxKept: 10, maxRunning: 2, maxQueued: 1))
        let a = try #require(table.add(plan: JobPlan(), now: t0, using: &g))
        let b = try #require(table.add(plan: JobPlan(), now: t0, using: &g))
        let c = try #require(table.add(plan: JobPlan(), now: t0, using: &g))
        let d = table.add(plan: JobPlan(), now: t0, using: &g)
        #expect(d == nil)  // 3 waiting or running: full
        let first = table.startNext(now: t0), second = table.startNext(now: t0), third = table.startNext(now: t0)
        #expect(first?.status.id == a.id && second?.status.id == b.id)
        #expect(third == nil)  // two running
        #expect(table.status(c.id)?.state == .queued)
        let aDone = table.record(id: a.id, state: .done, progress: 100, now: t0)
        #expect(aDone?.state == .done)
        #expect(table.running == 1)
        let cStarted = table.startNext(now: t0)
        #expect(cStarted?.status.id == c.id)
        let e = table.add(plan: JobPlan(), now: t0, using: &g)
        #expect(e != nil)  // room again
    }

    @Test func finishedJobsIgnoreLaterUpdates() throws {
        var g = Counting()
        var table = JobTable()
        let a = try #require(table.add(plan: JobPlan(), now: t0, using: &g))
        let early = table.record(id: a.id, state: .running, progress: 10, now: t0)
        #expect(early == nil)  // not started yet
        _ = table.startNext(now: t0)
        let clamped = table.record(id: a.id, state: .running, progress: 150, now: t0)
        #expect(clamped?.progress == 100)
        _ = table.record(id: a.id, state: .failed, progress: 20, now: t0)
        let late = table.record(id: a.id, state: .done, progress: 100, now: t0)
        #expect(late == nil)
        #expect(table.status(a.id)?.state == .failed)
        #expect(table.running == 0)
    }

    @Test func theOldestFinishedJobsAreForgottenFirst() throws {
        var g = Counting()
        var table = JobTable(limits: .init(maxKept: 4, maxRunning: 1, maxQueued: 1))
        #expect(table.limits.maxKept == 4)
        var ids: [String] = []
        for _ in 0..<4 {
            let s = try #require(table.add(plan: JobPlan(), now: t0, using: &g))
            let started = table.startNext(now: t0)
            #expect(started?.status.id == s.id)
            table.record(id: s.id, state: .done, progress: 100, now: t0)
            ids.append(s.id)
        }
        #expect(table.count == 4)
        for i in 0..<3 {
            let s = try #require(table.add(plan: JobPlan(), now: t0, using: &g))
            #expect(table.count == 4)
            #expect(table.status(ids[i]) == nil)  // evicted in finishing order
            #expect(table.status(ids[i + 1]) != nil)
            _ = table.startNext(now: t0)
            table.record(id: s.id, state: .done, progress: 100, now: t0)
        }
    }

    @Test func keptIsAlwaysMoreThanRunningAndQueued() {
        #expect(JobTable.Limits(maxKept: 2, maxRunning: 5, maxQueued: 5).maxKept == 11)
    }
}
