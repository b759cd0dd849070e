/**
 * The state table against dynalite: atomic per-minute counts under concurrency, conditional marks and
 * watermarks, unique check report seconds, the OK claim, the tick lease, payload marks and configuration items.
 */
import {
  decideSecond,
  MAX_OCCURRED_AT_AHEAD_SECONDS,
  PAYLOAD_MARK_SECONDS,
  StateStore,
} from "../../../../functions/shared/state";
import { stateTableFixture } from "./support";

const table = stateTableFixture();
const freshStore = table.freshStore;

const MIN = 60;
const H0 = 1_700_000_000 - (1_700_000_000 % 3600); // an hour boundary, epoch s
describe("per-minute counts", () => {
  test("one UpdateItem per hour touched, whatever the number of minutes, and the SDK honours AWS_ENDPOINT_URL_DYNAMODB", async () => {
    const store = await freshStore();
    const counts = new Map([
      [H0 + 5 * MIN, 3],
      [H0 + 6 * MIN, 1],
      [H0 + 59 * MIN, 2],
      [H0 + 3600, 7], // the next hour
    ]);
    expect(await store.addMinuteCounts("errors", counts)).toBe(2);
    expect(table.calls().filter((c) => c.op === "updateItem")).toHaveLength(2);
    const view = await store.readRule("errors", H0);
    expect([...view.minutes]).toEqual([
      [H0 + 5 * MIN, { count: 3 }],
      [H0 + 6 * MIN, { count: 1 }],
      [H0 + 59 * MIN, { count: 2 }],
      [H0 + 3600, { count: 7 }],
    ]);
    expect(view.state).toEqual({});
  });

  test("50 concurrent writers of the same minutes sum exactly (atomic ADD)", async () => {
    const store = await freshStore();
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.addMinuteCounts(
          "errors",
          new Map([
            [H0, 1],
            [H0 + MIN, i],
          ]),
        ),
      ),
    );
    const view = await store.readRule("errors", H0);
    expect(view.minutes.get(H0)).toEqual({ count: 50 });
    expect(view.minutes.get(H0 + MIN)).toEqual({ count: (49 * 50) / 2 });
  });

  test("the read covers the hours from `from` on and the state item, not other rules", async () => {
    const store = await freshStore();
    await store.addMinuteCounts("a", new Map([[H0 - 3600, 1]]));
    await store.addMinuteCounts("a", new Map([[H0, 2]]));
    await store.addMinuteCounts("b", new Map([[H0, 5]]));
    await store.recordMatch("a", (H0 + 30) * 1000);
    const view = await store.readRule("a", H0 + 10 * MIN);
    expect([...view.minutes]).toEqual([[H0, { count: 2 }]]);
    expect(view.state).toEqual({ lastMatchAt: (H0 + 30) * 1000 });
  });

  test("marks are conditional on the count Mackerel accepted; a late match leaves its minute unmarked", async () => {
    const store = await freshStore();
    await store.addMinuteCounts(
      "errors",
      new Map([
        [H0, 2],
        [H0 + MIN, 3],
      ]),
    );
    // A late match arrives for the first minute after the tick read it.
    await store.addMinuteCounts("errors", new Map([[H0, 1]]));
    const marked = await store.markPosted("errors", [
      { minute: H0, value: 2 },
      { minute: H0 + MIN, value: 3 },
      { minute: H0 + 2 * MIN, value: 0 },
    ]);
    expect(marked).toBe(1);
    const view = await store.readRule("errors", H0);
    expect(view.minutes.get(H0)).toEqual({ count: 3 }); // unmarked: re-posted with its new total
    expect(view.minutes.get(H0 + MIN)).toEqual({ count: 3, posted: 3 });
    expect(view.minutes.has(H0 + 2 * MIN)).toBe(false);
  });

  test("the watermark moves only from the value the writer saw", async () => {
    const store = await freshStore();
    expect(await store.advanceWatermark("errors", undefined, H0)).toBe(true);
    expect(await store.advanceWatermark("errors", undefined, H0 + MIN)).toBe(false);
    const racing = await Promise.all([
      store.advanceWatermark("errors", H0, H0 + MIN),
      store.advanceWatermark("errors", H0, H0 + 2 * MIN),
    ]);
    expect(racing.filter(Boolean)).toHaveLength(1);
  });
});

describe("check report seconds (Mackerel ignores a second report with the same occurredAt, or an older one)", () => {
  test("decideSecond: free second, next second for a status change, bounded look-ahead for the same status", () => {
    expect(decideSecond({}, "CRITICAL", 100)).toEqual({ occurredAt: 100 });
    expect(decideSecond({ reportedAt: 99, reportedStatus: "CRITICAL" }, "CRITICAL", 100)).toEqual({ occurredAt: 100 });
    expect(decideSecond({ reportedAt: 100, reportedStatus: "OK" }, "CRITICAL", 100)).toEqual({ occurredAt: 101 });
    expect(decideSecond({ reportedAt: 100, reportedStatus: "CRITICAL" }, "CRITICAL", 100)).toEqual({ occurredAt: 101 });
    expect(
      decideSecond({ reportedAt: 100 + MAX_OCCURRED_AT_AHEAD_SECONDS, reportedStatus: "CRITICAL" }, "CRITICAL", 100),
    ).toEqual({ skipped: "same-second" });
    // A status change is never skipped, even far ahead.
    expect(decideSecond({ reportedAt: 110, reportedStatus: "OK" }, "WARNING", 100)).toEqual({ occurredAt: 111 });
    // Rate-limited statuses (UNKNOWN of a rule that cannot run): skipped while the last one is recent.
    expect(decideSecond({ reportedAt: 50, reportedStatus: "UNKNOWN" }, "UNKNOWN", 100, 3600)).toEqual({
      skipped: "recently-reported",
    });
    expect(decideSecond({ reportedAt: 50, reportedStatus: "UNKNOWN" }, "UNKNOWN", 4000, 3600)).toEqual({
      occurredAt: 4000,
    });
  });

  test("the uncontended claim is one request and records the match", async () => {
    const store = await freshStore();
    const claim = await store.claimReport("errors", { status: "CRITICAL", nowSec: H0, lastMatchAt: H0 * 1000 - 5 });
    expect(claim).toEqual({ occurredAt: H0, previous: {} });
    expect(table.calls()).toHaveLength(1);
    expect(await store.getRuleState("errors")).toEqual({
      lastMatchAt: H0 * 1000 - 5,
      reportedAt: H0,
      reportedStatus: "CRITICAL",
    });
  });

  test("20 concurrent claims in one second: distinct seconds, none older than a previous one, the rest skipped, lastMatchAt = max", async () => {
    const store = await freshStore();
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.claimReport("errors", { status: "CRITICAL", nowSec: H0, lastMatchAt: H0 * 1000 - 1000 + i }),
      ),
    );
    const seconds = claims.flatMap((c) => (c.occurredAt === undefined ? [] : [c.occurredAt]));
    expect(new Set(seconds).size).toBe(seconds.length);
    expect(Math.min(...seconds)).toBe(H0);
    expect(Math.max(...seconds)).toBeLessThanOrEqual(H0 + MAX_OCCURRED_AT_AHEAD_SECONDS);
    expect(seconds.length).toBe(1 + MAX_OCCURRED_AT_AHEAD_SECONDS);
    for (const claim of claims) {
      if (claim.occurredAt === undefined) expect(claim.skipped).toBe("same-second");
    }
    const state = await store.getRuleState("errors");
    expect(state.lastMatchAt).toBe(H0 * 1000 - 1000 + 19);
    expect(state.reportedAt).toBe(Math.max(...seconds));
  });

  test("an older match never moves lastMatchAt back, and a skipped report still records a newer match", async () => {
    const store = await freshStore();
    await store.claimReport("errors", { status: "CRITICAL", nowSec: H0, lastMatchAt: 5_000 });
    await store.claimReport("errors", { status: "CRITICAL", nowSec: H0, lastMatchAt: 4_000 });
    expect((await store.getRuleState("errors")).lastMatchAt).toBe(5_000);
    await store.claimReport("errors", { status: "CRITICAL", nowSec: H0, lastMatchAt: 4_500 });
    await store.claimReport("errors", { status: "CRITICAL", nowSec: H0, lastMatchAt: 9_000 }); // skipped (3rd+ in H0)
    expect((await store.getRuleState("errors")).lastMatchAt).toBe(9_000);
  });

  test("OK is claimed once, only when quiet, and a match after the read defeats it", async () => {
    const store = await freshStore();
    await store.claimReport("errors", { status: "CRITICAL", nowSec: H0, lastMatchAt: H0 * 1000 });
    const seen = await store.getRuleState("errors");
    // Not quiet yet.
    expect(await store.claimRecovery("errors", seen, H0 + 60, H0 * 1000 - 1)).toBeUndefined();
    // Two ticks racing: one wins.
    const racing = await Promise.all([
      store.claimRecovery("errors", seen, H0 + 600, H0 * 1000),
      store.claimRecovery("errors", seen, H0 + 600, H0 * 1000),
    ]);
    expect(racing.filter((r) => r !== undefined)).toEqual([H0 + 600]);
    expect(await store.getRuleState("errors")).toMatchObject({ reportedStatus: "OK", reportedAt: H0 + 600 });
    // Already OK: nothing to claim.
    expect(
      await store.claimRecovery("errors", await store.getRuleState("errors"), H0 + 700, H0 * 1000),
    ).toBeUndefined();

    // A new match between the tick's read and its claim.
    await store.claimReport("errors", { status: "CRITICAL", nowSec: H0 + 800, lastMatchAt: (H0 + 790) * 1000 });
    const before = await store.getRuleState("errors");
    await store.recordMatch("errors", (H0 + 1000) * 1000);
    expect(await store.claimRecovery("errors", before, H0 + 2000, (H0 + 900) * 1000)).toBeUndefined();
  });

  test("a claim whose report could not be sent is released", async () => {
    const store = await freshStore();
    await store.claimReport("errors", { status: "CRITICAL", nowSec: H0, lastMatchAt: 1 });
    const seen = await store.getRuleState("errors");
    const at = await store.claimRecovery("errors", seen, H0 + 600, 1);
    await store.releaseClaim("errors", { occurredAt: at!, status: "OK" }, seen);
    expect(await store.getRuleState("errors")).toMatchObject({ reportedStatus: "CRITICAL", reportedAt: H0 });
  });
});

describe("the tick lease", () => {
  test("one holder at a time; it expires; the holder can release it early", async () => {
    let now = 1_000_000;
    const store = await freshStore({ now: () => now });
    const racing = await Promise.all([
      store.acquireLease("tick", "a", now + 60_000),
      store.acquireLease("tick", "b", now + 60_000),
    ]);
    expect(racing.filter(Boolean)).toHaveLength(1);
    const holder = racing[0] ? "a" : "b";
    const other = holder === "a" ? "b" : "a";
    expect(await store.acquireLease("tick", other, now + 60_000)).toBe(false);
    now += 60_001;
    expect(await store.acquireLease("tick", other, now + 60_000)).toBe(true);
    await store.releaseLease("tick", holder); // not the holder any more: no effect
    expect(await store.acquireLease("tick", holder, now + 60_000)).toBe(false);
    await store.releaseLease("tick", other);
    expect(await store.acquireLease("tick", holder, now + 60_000)).toBe(true);
  });
});

describe("payload marks, configuration items, and errors other than a failed condition", () => {
  test("a payload is marked once across concurrent deliveries; only its owner unmarks it; the mark expires in 7 h", async () => {
    const store = await freshStore();
    const marks = await Promise.all(["r1", "r2", "r3", "r4"].map((owner) => store.markPayload("abc", owner, H0)));
    expect(marks.filter(Boolean)).toHaveLength(1);
    const owner = `r${marks.indexOf(true) + 1}`;
    const { Item: item } = await table.api().getItem({
      TableName: store.tableName,
      Key: { pk: { S: "payload#abc" }, sk: { S: "counted" } },
      ConsistentRead: true,
    });
    expect(item).toMatchObject({ countedBy: { S: owner }, expiresAt: { N: String(H0 + PAYLOAD_MARK_SECONDS) } });
    expect(PAYLOAD_MARK_SECONDS).toBe(7 * 3600);

    await store.unmarkPayload("abc", owner === "r1" ? "r2" : "r1"); // not the owner: no effect
    expect(await store.markPayload("abc", "r9", H0)).toBe(false);
    await store.unmarkPayload("abc", owner);
    expect(await store.markPayload("abc", "r9", H0)).toBe(true);
    expect(await store.markPayload("other", "r9", H0)).toBe(true); // marks are per payload
  });

  test("a configuration item that does not exist reads as undefined", async () => {
    const store = await freshStore();
    expect(await store.readConfig("log_rules")).toBeUndefined();
  });

  test("a conditional write fails loudly when DynamoDB refuses it for another reason (no table)", async () => {
    const store = new StateStore({ tableName: "no-such-table", api: table.api() });
    await expect(store.markPayload("abc", "r1", H0)).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(store.acquireLease("tick", "a", 1)).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(store.recordMatch("errors", 1)).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });
});
