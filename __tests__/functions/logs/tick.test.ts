/**
 * The tick end to end, from the BUILT logs and check zips, against dynalite and the strict local Mackerel
 * server: concurrent logs invocations → exactly the summed per-minute counts in Mackerel after the tick, one
 * point per rule per minute, zeros for quiet minutes; overlapping ticks never post twice; a late event is
 * re-posted as a correction; catch-up never reaches past 24 hours; the heartbeat; recovery OK once after the
 * quiet period.
 *
 * Time: event timestamps are data (minutes in the past). Only the recovery scenario moves the functions'
 * clock, with the test-only preload `__tests__/fault/support/fake-clock.cjs` (NODE_OPTIONS=--require, never
 * bundled; the module sets NODE_OPTIONS itself, so it cannot be set in a deployment).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HEARTBEAT_METRIC } from "../../../functions/logs/tick";
import { lastClosedMinute, oldestPostableMinute } from "../../../functions/logs/tick-plan";
import { type DynamoApi, StateStore } from "../../../functions/shared/state";
import type { LocalLambda } from "../../../scripts/local/lambda-runner";
import { makeSubscriptionEvent, textLine } from "./fixtures";
import { createWorld, FAKE_CLOCK_PRELOAD, minutesAgo, SERVICE, type World } from "./world";

const RULES = [
  { name: "errors", include: ["\\tERROR\\t"], recover_after_minutes: 10 },
  { name: "quiet", include: ["never-matches-zz9"] },
  { name: "catchup", include: ["never-matches-zz8"] },
  { name: "broken", include: ["(?=x)x"] },
];

function testStore(world: World, tableName: string): StateStore {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const api: DynamoApi = {
    getItem: (input) => world.dynamo.client.send(new sdk.GetItemCommand(input as any)) as any,
    updateItem: (input) => world.dynamo.client.send(new sdk.UpdateItemCommand(input as any)) as any,
    query: (input) => world.dynamo.client.send(new sdk.QueryCommand(input as any)) as any,
  };
  /* eslint-enable @typescript-eslint/no-explicit-any */
  return new StateStore({ tableName, api });
}

const nowSec = () => Math.floor(Date.now() / 1000);

describe("counts, overlapping ticks, corrections, catch-up, heartbeat", () => {
  let world: World;
  let table: string;
  let store: StateStore;
  let logsContainers: LocalLambda[];
  let check: LocalLambda;
  let base: number;

  const points = (rule: string) =>
    world.mackerel.serviceMetrics(SERVICE).filter((m) => m.name === `logs.${rule}.count`);
  const writes = (rule: string, time: number) =>
    world.mackerel.writeCount("serviceMetric", { service: SERVICE, name: `logs.${rule}.count`, time });

  beforeAll(async () => {
    world = await createWorld();
    table = await world.newTable();
    store = testStore(world, table);
    logsContainers = await Promise.all(Array.from({ length: 4 }, () => world.startLogs({ table, rules: RULES })));
    check = await world.startCheck({ table, rules: RULES });
    base = minutesAgo(12);
  });
  afterAll(() => world.stop());

  test("20 concurrent invocations over the same minutes → exactly the summed counts after the tick, one point per minute, zeros when quiet", async () => {
    const M = (n: number) => base + n * 60_000;
    const invocation = (i: number) =>
      makeSubscriptionEvent({
        logGroup: `/aws/lambda/app-${i % 3}`,
        logStream: `2026/01/01/[$LATEST]stream-${i}`,
        events: [
          ...Array.from({ length: i + 1 }, (_, k) => ({
            message: textLine("ERROR", `a ${i}.${k}`),
            timestamp: M(0) + k,
          })),
          { message: textLine("INFO", "fine"), timestamp: M(0) + 500 },
          { message: textLine("ERROR", "b1"), timestamp: M(1) + i },
          { message: textLine("ERROR", "b2"), timestamp: M(1) + 30_000 + i },
          ...Array.from({ length: i % 3 }, (_, k) => ({ message: textLine("ERROR", "c"), timestamp: M(3) + k })),
          { message: textLine("ERROR", "d"), timestamp: M(6) + 59_999 },
        ],
      });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => logsContainers[i % 4]!.invokeOrThrow(invocation(i))),
    );
    for (const result of results) expect(result).toMatchObject({ outcome: "processed", countFailures: [] });

    const closedBefore = lastClosedMinute(nowSec());
    const tick = await check.invokeOrThrow({ tick: {} });
    const closedAfter = lastClosedMinute(nowSec());
    expect(tick).toMatchObject({ outcome: "ticked", heartbeat: true });

    const expected = new Map([
      [M(0) / 1000, 210], // 1 + 2 + ... + 20
      [M(1) / 1000, 40],
      [M(3) / 1000, 19], // (0 + 1 + 2) × 6 + 0 + 1
      [M(6) / 1000, 20],
    ]);
    const errors = points("errors");
    const last = errors.at(-1)!.time;
    expect(last).toBeGreaterThanOrEqual(closedBefore);
    expect(last).toBeLessThanOrEqual(closedAfter);
    // Every minute from the first match to the last closed one, once, zero when quiet.
    expect(errors.map((p) => p.time)).toEqual(
      Array.from({ length: (last - M(0) / 1000) / 60 + 1 }, (_, k) => M(0) / 1000 + k * 60),
    );
    for (const p of errors) {
      expect([p.time, p.value]).toEqual([p.time, expected.get(p.time) ?? 0]);
      expect(writes("errors", p.time)).toBe(1);
    }
    // A rule that never matched posts one zero per closed minute from its first tick on.
    expect(points("quiet")).toEqual([{ service: SERVICE, name: "logs.quiet.count", time: last, value: 0 }]);
    // A rule that cannot run posts no counts; it is UNKNOWN instead, reported once (by the first logs container
    // or the tick, whichever came first: the state table rate-limits it across functions).
    expect(points("broken")).toEqual([]);
    const unknown = world.mackerel.checkReports().filter((r) => r.name === "broken");
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ status: "UNKNOWN" });

    // The heartbeat, on the module's host (the same host the reports attach to).
    const [host] = world.mackerel.hosts();
    expect(world.mackerel.hostMetrics(host!.id).filter((m) => m.name === HEARTBEAT_METRIC)).toEqual([
      { hostId: host!.id, name: HEARTBEAT_METRIC, time: expect.any(Number), value: 1 },
    ]);
    // The buckets are marked with what Mackerel accepted, and the watermark is the last closed minute.
    const view = await store.readRule("errors", M(0) / 1000 - 3600);
    expect(view.minutes.get(M(0) / 1000)).toEqual({ count: 210, posted: 210 });
    expect(view.state.flushedThrough).toBe(last);
  });

  test("overlapping ticks: one runs, the others skip; nothing is posted twice", async () => {
    const second = await world.startCheck({ table, rules: RULES });
    const third = await world.startCheck({ table, rules: RULES });
    const heartbeatsBefore = world.mackerel.requests.filter((r) => r.path === "/api/v0/tsdb").length;
    const outcomes = await Promise.all([check, second, third].map((c) => c.invokeOrThrow({ tick: {} })));
    const ran = outcomes.filter((o) => (o as { outcome: string }).outcome === "ticked");
    const skipped = outcomes.filter((o) => (o as { outcome: string }).outcome === "skipped");
    expect(ran.length).toBeGreaterThanOrEqual(1);
    expect(ran.length + skipped.length).toBe(3);
    // Sequential ticks right after: only minutes closed since are new.
    await check.invokeOrThrow({ tick: {} });
    await second.invokeOrThrow({ tick: {} });
    for (const rule of ["errors", "quiet"]) {
      for (const p of points(rule)) expect(writes(rule, p.time)).toBe(1);
    }
    // Each tick that ran posted one heartbeat; the skipped ones none.
    const heartbeatPosts = world.mackerel.requests.filter((r) => r.path === "/api/v0/tsdb").length - heartbeatsBefore;
    expect(heartbeatPosts).toBe(ran.length + 2);
    expect(world.mackerel.counter("replaced.serviceMetrics")).toBe(0);
  });

  test("a late event after its minute was flushed: the minute is re-posted with its new total", async () => {
    const minute = base / 1000;
    await logsContainers[0]!.invokeOrThrow(
      makeSubscriptionEvent({
        logStream: "late-stream",
        events: [{ message: textLine("ERROR", "late"), timestamp: base + 42_000 }],
      }),
    );
    await check.invokeOrThrow({ tick: {} });
    expect(points("errors").find((p) => p.time === minute)).toMatchObject({ value: 211 });
    expect(writes("errors", minute)).toBe(2);
    // The other minutes are untouched.
    for (const p of points("errors")) if (p.time !== minute) expect(writes("errors", p.time)).toBe(1);
  });

  test("catch-up after two days without a tick: nothing older than 24 hours is posted", async () => {
    const catchupTable = await world.newTable();
    const catchupStore = testStore(world, catchupTable);
    const now = nowSec();
    const oldest = oldestPostableMinute(now);
    await catchupStore.advanceWatermark("catchup", undefined, Math.floor(now / 60) * 60 - 2 * 86_400);
    // Counts written directly (the logs function itself never stores minutes older than 24 h).
    await catchupStore.addMinuteCounts(
      "catchup",
      new Map([
        [oldest - 3600, 5],
        [oldest + 120, 3],
      ]),
    );
    world.mackerel.reset();
    const checker = await world.startCheck({ table: catchupTable, rules: RULES });
    const tick = (await checker.invokeOrThrow({ tick: {} })) as { expiredMinutes: number; outcome: string };
    expect(tick.outcome).toBe("ticked");
    const posted = points("catchup");
    expect(Math.min(...posted.map((p) => p.time))).toBeGreaterThanOrEqual(oldest);
    expect(posted.find((p) => p.time === oldest + 120)).toMatchObject({ value: 3 });
    expect(posted.length).toBeGreaterThan(1400);
    expect(tick.expiredMinutes).toBeGreaterThanOrEqual(24 * 60 - 20);
    expect(world.mackerel.counter("ignored.serviceMetricsTooOld")).toBe(0);
  });
});

describe("recovery: OK once after the quiet period", () => {
  let world: World;
  let clockDir: string;
  let clockFile: string;
  let offsetMs = 0;
  const setOffset = (ms: number) => {
    offsetMs = ms;
    writeFileSync(clockFile, String(ms));
  };

  beforeAll(async () => {
    clockDir = mkdtempSync(join(tmpdir(), "tick-clock-"));
    clockFile = join(clockDir, "offset");
    writeFileSync(clockFile, "0");
    world = await createWorld({ now: () => Date.now() + offsetMs });
  });
  afterAll(async () => {
    await world.stop();
    rmSync(clockDir, { recursive: true, force: true });
  });

  test("an alert opened by a match closes with one OK after recover_after_minutes of quiet, and reopens on a new match", async () => {
    const table = await world.newTable();
    const clockEnv = { NODE_OPTIONS: `--require ${FAKE_CLOCK_PRELOAD}`, FAULT_CLOCK_FILE: clockFile };
    const logs = await world.startLogs({ table, rules: RULES, env: clockEnv });
    const check = await world.startCheck({ table, rules: RULES, env: clockEnv });
    const reports = () => world.mackerel.checkReports().filter((r) => r.name === "errors");

    // Exactly 2 minutes ago, not a minute boundary (minutesAgo): from a boundary up to a minute earlier, the
    // quiet time at the second tick below reached 10 minutes when the test started late in a minute.
    await logs.invokeOrThrow(
      makeSubscriptionEvent({ events: [{ message: textLine("ERROR", "boom"), timestamp: Date.now() - 2 * 60_000 }] }),
    );
    expect(world.mackerel.openAlerts().map((a) => [a.checkName, a.status])).toContainEqual(["errors", "CRITICAL"]);

    // Quiet for about 2, then 9 minutes: not yet.
    expect(await check.invokeOrThrow({ tick: {} })).toMatchObject({ recovered: [] });
    setOffset(7 * 60_000);
    expect(await check.invokeOrThrow({ tick: {} })).toMatchObject({ recovered: [] });
    expect(reports().map((r) => r.status)).toEqual(["CRITICAL"]);

    // Quiet for 12 minutes: one OK, the alert closes.
    setOffset(10 * 60_000);
    expect(await check.invokeOrThrow({ tick: {} })).toMatchObject({ recovered: ["errors"] });
    expect(reports().map((r) => r.status)).toEqual(["CRITICAL", "OK"]);
    expect(reports()[1]!.message).toMatch(/No matching log event for at least 10 minutes/);
    expect(world.mackerel.openAlerts().filter((a) => a.checkName === "errors")).toEqual([]);
    expect(
      world.mackerel
        .alertEvents()
        .filter((e) => e.checkName === "errors")
        .map((e) => e.type),
    ).toEqual(["open", "close"]);

    // Later ticks post no second OK.
    setOffset(11 * 60_000);
    await check.invokeOrThrow({ tick: {} });
    setOffset(13 * 60_000);
    await check.invokeOrThrow({ tick: {} });
    expect(reports().map((r) => r.status)).toEqual(["CRITICAL", "OK"]);

    // A new match reopens the alert; the next tick does not close it.
    await logs.invokeOrThrow(
      makeSubscriptionEvent({
        logStream: "again",
        events: [{ message: textLine("ERROR", "again"), timestamp: Date.now() + offsetMs - 30_000 }],
      }),
    );
    expect(await check.invokeOrThrow({ tick: {} })).toMatchObject({ recovered: [] });
    expect(reports().map((r) => r.status)).toEqual(["CRITICAL", "OK", "CRITICAL"]);
    expect(world.mackerel.openAlerts().map((a) => [a.checkName, a.status])).toContainEqual(["errors", "CRITICAL"]);
  });
});
