/**
 * The logs function from its BUILT zip, against dynalite and the strict local Mackerel server: what it skips
 * (CONTROL_MESSAGE, its own log groups, corrupt payloads: logged, counted, never thrown), what it reports (one
 * check report per matching rule per invocation, redacted samples within 1024 code points), what it stores
 * (per-minute counts, the newest match), how rules that cannot run are handled, and the bounds on requests.
 */
import { gzipSync } from "node:zlib";
import type { LocalLambda } from "../../../scripts/local/lambda-runner";
import { encodeAwslogs, jsonLine, makeSubscriptionEvent, textLine } from "./fixtures";
import { createWorld, CUSTOM_IDENTIFIER, eventually, minutesAgo, OWN_LOG_GROUPS, type World } from "./world";
import { StateStore } from "../../../functions/shared/state";

const RULES = [
  {
    name: "errors",
    log_groups: ["/aws/lambda/*"],
    include: ["\\tERROR\\t", '"level":"ERROR"'],
    exclude: ["healthcheck"],
    recover_after_minutes: 10,
    max_samples: 3,
  },
  { name: "timeouts", include: ["Task timed out"], status: "WARNING", notification_interval: 30 },
  // Catastrophic backtracking on a backtracking engine; RE2 runs it in linear time.
  { name: "catastrophic", log_groups: ["/app/hostile"], include: ["^(a+)+$"] },
  // Not RE2 (Terraform's validation refuses them; a function configured without the module may still get them).
  { name: "lookahead", include: ["(?=x)x"] },
  { name: "backreference", include: ["(a)\\1"] },
];

let world: World;
let table: string;
let store: StateStore;
let logs: LocalLambda;

beforeAll(async () => {
  world = await createWorld();
  table = await world.newTable();
  store = new StateStore({ tableName: table, api: storeApi() });
  logs = await world.startLogs({ table, rules: RULES });
  // The container's first DATA_MESSAGE reports the rules that cannot run (once per container).
  await logs.invokeOrThrow(makeSubscriptionEvent({ logGroup: "/warm-up", events: [] }));
});
afterAll(() => world.stop());

/** A store for the test process itself, on the same dynalite. */
function storeApi() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
  /* eslint-disable @typescript-eslint/no-explicit-any */
  return {
    getItem: (input: any) => world.dynamo.client.send(new sdk.GetItemCommand(input)) as any,
    updateItem: (input: any) => world.dynamo.client.send(new sdk.UpdateItemCommand(input)) as any,
    query: (input: any) => world.dynamo.client.send(new sdk.QueryCommand(input)) as any,
  };
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

const reportsNamed = (name: string) => world.mackerel.checkReports().filter((r) => r.name === name);
const emfLines = (lambda: LocalLambda) =>
  lambda.logs.filter((l) => l.startsWith('{"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe("what the function skips", () => {
  test("a CONTROL_MESSAGE: no state, no Mackerel request", async () => {
    const before = { mackerel: world.mackerel.requests.length, dynamo: world.dynamo.operations.length };
    expect(await logs.invokeOrThrow(makeSubscriptionEvent({ messageType: "CONTROL_MESSAGE" }))).toEqual({
      outcome: "control",
    });
    expect(world.mackerel.requests.length).toBe(before.mackerel);
    expect(world.dynamo.operations.length).toBe(before.dynamo);
  });

  test("a DATA_MESSAGE with no events: processed, nothing matched, nothing written", async () => {
    const before = world.mackerel.requests.length;
    expect(await logs.invokeOrThrow(makeSubscriptionEvent({ events: [] }))).toMatchObject({
      outcome: "processed",
      events: 0,
      matched: {},
    });
    expect(world.mackerel.requests.length).toBe(before);
  });

  test.each(OWN_LOG_GROUPS)("events of the module's own log group %s are skipped and counted", async (group) => {
    const before = world.mackerel.checkReports().length;
    const result = await logs.invokeOrThrow(
      makeSubscriptionEvent({ logGroup: group, events: [textLine("ERROR", "would loop"), textLine("ERROR", "x")] }),
    );
    expect(result).toEqual({ outcome: "own-log-group", logGroup: group, skippedEvents: 2 });
    expect(world.mackerel.checkReports().length).toBe(before);
    await eventually(() => emfLines(logs).some((l) => l.OwnLogGroupEventsSkipped === 2));
  });

  test.each([
    ["no awslogs field", { records: [] }, "shape"],
    ["bad base64", { awslogs: { data: "not*base64!" } }, "base64"],
    ["not gzip", { awslogs: { data: Buffer.from("plain text").toString("base64") } }, "gzip"],
    ["truncated gzip", { awslogs: { data: gzipSync("{}").subarray(0, 8).toString("base64") } }, "gzip"],
    ["bad JSON", encodeAwslogs("{not json"), "json"],
    ["wrong shape", encodeAwslogs(JSON.stringify({ messageType: "DATA_MESSAGE", logGroup: 5 })), "shape"],
    [
      "an event without a message",
      encodeAwslogs(
        JSON.stringify({
          messageType: "DATA_MESSAGE",
          owner: "1",
          logGroup: "/g",
          logStream: "s",
          subscriptionFilters: [],
          logEvents: [{ id: "1", timestamp: 1 }],
        }),
      ),
      "shape",
    ],
  ])("a corrupt payload (%s) is logged with its reason, counted, and never thrown", async (_what, event, reason) => {
    const outcome = await logs.invoke(event);
    expect(outcome).toMatchObject({ ok: true, result: { outcome: "corrupt", reason } });
    const record = await eventually(() =>
      logs.jsonLogs().find((r) => r.message === "corrupt subscription payload dropped" && r.reason === reason),
    );
    expect(record).toMatchObject({ level: "ERROR", reason, detail: expect.any(String) });
    await eventually(() => emfLines(logs).some((l) => l.CorruptPayloads === 1 && l.reason === reason));
  });
});

describe("rules that match", () => {
  test("one report per rule with its status, redacted samples and the count; counts and the newest match stored", async () => {
    const t = minutesAgo(3);
    const result = await logs.invokeOrThrow(
      makeSubscriptionEvent({
        logGroup: "/aws/lambda/orders",
        events: [
          { message: textLine("INFO", "fine", 1), timestamp: t + 1_000 },
          { message: textLine("ERROR", "db down password=hunter2 for ops@example.com", 2), timestamp: t + 2_000 },
          { message: textLine("ERROR", "healthcheck failed", 3), timestamp: t + 3_000 }, // excluded
          { message: jsonLine("ERROR", "payment failed", 4), timestamp: t + 61_000 },
          {
            message: `2023-11-14T22:13:20.000Z 0f0e0d0c-89ab-4def-8123-456789abcdef Task timed out after 3.00 seconds\n`,
            timestamp: t + 62_000,
          },
        ],
      }),
    );
    expect(result).toMatchObject({
      outcome: "processed",
      events: 5,
      matched: { errors: 2, timeouts: 1 },
      reports: { posted: 2, skipped: 0 },
      countFailures: [],
    });

    const [errors] = reportsNamed("errors");
    expect(errors).toMatchObject({ status: "CRITICAL", occurredAt: expect.any(Number) });
    expect(errors!.message).toMatch(/^2 matching log events in \/aws\/lambda\/orders — first samples:\n/);
    expect(errors!.message).toContain("db down password=[REDACTED:password] for [REDACTED:email]");
    expect(errors!.message).not.toContain("hunter2");
    expect(errors!.message).toContain("payment failed");
    const [timeouts] = reportsNamed("timeouts");
    expect(timeouts).toMatchObject({ status: "WARNING", notificationInterval: 30 });
    expect(world.mackerel.openAlerts().map((a) => [a.checkName, a.status])).toEqual(
      expect.arrayContaining([
        ["errors", "CRITICAL"],
        ["timeouts", "WARNING"],
      ]),
    );
    // The reports attach to the module's host, found or registered by its custom identifier.
    const hosts = world.mackerel.hosts();
    expect(hosts).toHaveLength(1);
    expect(hosts[0]).toMatchObject({ customIdentifier: CUSTOM_IDENTIFIER });
    expect(errors!.hostId).toBe(hosts[0]!.id);

    const view = await store.readRule("errors", Math.floor(t / 1000) - 3600);
    expect([...view.minutes]).toEqual([
      [t / 1000, { count: 1 }],
      [t / 1000 + 60, { count: 1 }],
    ]);
    expect(view.state).toMatchObject({
      lastMatchAt: t + 61_000,
      reportedStatus: "CRITICAL",
      reportedAt: errors!.occurredAt,
    });
    // No metric from the logs function: the tick posts the summed counts.
    expect(world.mackerel.serviceMetrics()).toEqual([]);
  });

  test("a regex with catastrophic backtracking runs in linear time on a hostile line", async () => {
    const hostile = `${"a".repeat(16_000)}!`;
    const started = Date.now();
    const result = await logs.invokeOrThrow(
      makeSubscriptionEvent({
        logGroup: "/app/hostile",
        events: [hostile, hostile, "aaaa", hostile].map((message) => ({ message, timestamp: minutesAgo(2) })),
      }),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ outcome: "processed", matched: { catastrophic: 1 } });
  });

  test("rules RE2 cannot run are reported UNKNOWN once, with the reason; the others keep working", async () => {
    for (const name of ["lookahead", "backreference"]) {
      const reports = reportsNamed(name);
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({ status: "UNKNOWN" });
      expect(reports[0]!.message).toContain("cannot run");
      expect(reports[0]!.message).toMatch(/is not a valid RE2 regular expression: /);
      expect(reports[0]!.message).toContain(`("${name}").include[0]`);
    }
    const logged = await eventually(() => {
      const found = logs
        .jsonLogs()
        .filter((r) => r.message === "log rule cannot run: skipped, the other rules keep running");
      return found.length === 2 && found;
    });
    expect(logged.map((r) => r.rule).sort()).toEqual(["backreference", "lookahead"]);
    // A new container reports again only after the hour (the state table rate-limits across containers).
    const second = await world.startLogs({ table, rules: RULES });
    await second.invokeOrThrow(makeSubscriptionEvent({ events: [textLine("INFO", "x")] }));
    expect(reportsNamed("lookahead")).toHaveLength(1);
  });

  test("multi-byte and emoji messages near the 1024 limit: cut on code points, never inside a surrogate pair", async () => {
    const t = minutesAgo(2);
    const emoji = "🐟".repeat(700);
    const kanji = "障害が発生しました。".repeat(80);
    const result = await logs.invokeOrThrow(
      makeSubscriptionEvent({
        logGroup: "/aws/lambda/emoji",
        events: [textLine("ERROR", emoji), textLine("ERROR", kanji), textLine("ERROR", `🐟${"x".repeat(1020)}`)].map(
          (message, i) => ({ message, timestamp: t + i }),
        ),
      }),
    );
    expect(result).toMatchObject({ reports: { posted: 1 } });
    const report = reportsNamed("errors").at(-1)!;
    const codePoints = [...report.message];
    expect(codePoints.length).toBeLessThanOrEqual(1024);
    expect(report.message).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    expect(report.message).toContain("🐟🐟");
    expect(report.message).toContain("障害が発生しました");
  });
});

describe("bounds", () => {
  test("10,000 events: exact counts, one report per rule, DynamoDB requests bounded by rules × hours, not events", async () => {
    // Three minutes across the start of an hour at least 10 minutes back: every rule touches two hour items.
    const hourStart = Math.floor(minutesAgo(10) / 3_600_000) * 3_600_000;
    const base = hourStart - 60_000;
    const events = Array.from({ length: 10_000 }, (_, i) => ({
      message:
        i % 10 === 0
          ? textLine("ERROR", `failure ${i}`, i)
          : i % 250 === 1
            ? "Task timed out after 3.00 seconds"
            : textLine("INFO", `ok ${i}`, i),
      timestamp: base + Math.floor(i / 4000) * 60_000 + (i % 4000),
    }));
    const hoursOf = (matches: (i: number) => boolean) =>
      new Set(events.filter((_, i) => matches(i)).map((e) => Math.floor(e.timestamp / 3_600_000))).size;
    const hoursTouched = hoursOf((i) => i % 10 === 0) + hoursOf((i) => i % 10 !== 0 && i % 250 === 1);
    expect(hoursTouched).toBe(4);
    const totalOf = async () =>
      [...(await store.readRule("errors", Math.floor(base / 1000) - 3600)).minutes.values()].reduce(
        (sum, b) => sum + b.count,
        0,
      );
    const totalBefore = await totalOf();
    // Each rule's newest match is newer than these events (a late delivery): the one-write claim's condition
    // fails, so each claim re-reads the rule's state once and writes once more. Recorded here, so that every run
    // takes that path, not only one after the tests above (which stored newer matches).
    for (const rule of ["errors", "timeouts"]) await store.recordMatch(rule, minutesAgo(1));
    const opsBefore = world.dynamo.operations.length;
    const requestsBefore = world.mackerel.requests.length;
    const result = await logs.invokeOrThrow(makeSubscriptionEvent({ logGroup: "/aws/lambda/big", events }));
    expect(result).toMatchObject({ outcome: "processed", events: 10_000, matched: { errors: 1000, timeouts: 40 } });
    const ops = world.dynamo.operations.slice(opsBefore);
    const updates = ops.filter((o) => o === "UpdateItem").length;
    const reads = ops.filter((o) => o === "GetItem").length;
    expect(updates + reads).toBe(ops.length);
    // The payload's mark, one UpdateItem per rule and hour touched, and per rule the claim that failed, its
    // re-read and the claim that took the second. (Never skipped as "same-second": the tests above report a rule
    // at most twice, so even within this wall-clock second its claim is at most 2 seconds ahead of now.)
    const rules = 2;
    expect(reads).toBe(rules);
    expect(updates).toBe(1 + hoursTouched + rules + rules);
    // One check report request for both rules.
    const posts = world.mackerel.requests.slice(requestsBefore).filter((r) => r.method === "POST");
    expect(posts.map((r) => r.path)).toEqual(["/api/v0/monitoring/checks/report"]);
    expect((await totalOf()) - totalBefore).toBe(1000);
  });
});

describe("duplicate deliveries", () => {
  test("the same payload delivered twice is counted once (its report may repeat)", async () => {
    const t = minutesAgo(6);
    const event = makeSubscriptionEvent({
      logGroup: "/aws/lambda/dup",
      logStream: "dup-stream",
      events: [
        { message: textLine("ERROR", "once"), timestamp: t + 1, id: "dup-1" },
        { message: textLine("ERROR", "twice?"), timestamp: t + 2, id: "dup-2" },
      ],
    });
    const before = (await store.readRule("errors", t / 1000 - 3600)).minutes.get(t / 1000)?.count ?? 0;
    await logs.invokeOrThrow(event);
    const again = await logs.invokeOrThrow(event);
    expect(again).toMatchObject({ outcome: "processed", matched: { errors: 2 } });
    expect((await store.readRule("errors", t / 1000 - 3600)).minutes.get(t / 1000)?.count).toBe(before + 2);
    await eventually(() => emfLines(logs).some((l) => l.DuplicatePayloads === 1));
  });
});

describe("the Mackerel host under a race", () => {
  test("five cold containers invoked at once register the host once and report to it", async () => {
    const raceTable = await world.newTable();
    world.mackerel.reset();
    const containers = await Promise.all(
      Array.from({ length: 5 }, () =>
        world.startLogs({ table: raceTable, rules: RULES, env: { MACKEREL_HOST_CUSTOM_IDENTIFIER: "race/host" } }),
      ),
    );
    const t = minutesAgo(1);
    const results = await Promise.all(
      containers.map((c, i) =>
        c.invokeOrThrow(
          makeSubscriptionEvent({ events: [{ message: textLine("ERROR", `boom ${i}`), timestamp: t + i }] }),
        ),
      ),
    );
    for (const r of results) expect(r).toMatchObject({ outcome: "processed", matched: { errors: 1 } });
    // (Each cold container also reported the two rules that cannot run: rate-limited to one report per rule.)
    expect(world.mackerel.hosts()).toHaveLength(1);
    expect(world.mackerel.requests.filter((r) => r.method === "POST" && r.path === "/api/v0/hosts")).toHaveLength(1);
    expect(
      world.mackerel.requests.filter((r) => r.path.startsWith("/api/v0/hosts-by-custom-identifier/")),
    ).toHaveLength(1);
    const hostId = world.mackerel.hosts()[0]!.id;
    expect(new Set(world.mackerel.checkReports().map((r) => r.hostId))).toEqual(new Set([hostId]));
    // Five reports of one rule in about one second: each accepted one has its own second.
    const seconds = reportsNamed("errors").map((r) => r.occurredAt);
    expect(new Set(seconds).size).toBe(seconds.length);
    expect(world.mackerel.counter("ignored.duplicateCheckReports")).toBe(0);
    // A report claimed earlier may reach Mackerel after a newer one and be ignored as older: never a duplicate.
    const claimed = results.reduce<number>((sum, r) => sum + (r as { reports: { posted: number } }).reports.posted, 0);
    expect(seconds.length + world.mackerel.counter("ignored.outOfOrderCheckReports")).toBe(
      claimed - 2, // the two UNKNOWN reports of the rules that cannot run, reported once
    );
    expect(reportsNamed("lookahead")).toHaveLength(1);
  });
});

describe("what Mackerel refuses", () => {
  test("a refused check report (400): logged with Mackerel's reason, counted as WritesRejected, not retried; the counts are kept", async () => {
    const t = minutesAgo(5);
    const report = "/api/v0/monitoring/checks/report";
    const postsBefore = world.mackerel.requests.filter((r) => r.path === report).length;
    const logsBefore = logs.logs.length;
    const countBefore = (await store.readRule("timeouts", t / 1000 - 3600)).minutes.get(t / 1000)?.count ?? 0;
    world.mackerel.injectFaults({
      mode: "status",
      status: 400,
      message: "report refused by policy",
      pathPrefix: report,
    });
    const result = await logs.invokeOrThrow(
      makeSubscriptionEvent({
        logGroup: "/aws/lambda/refused",
        events: [{ message: "Task timed out after 3.00 seconds", timestamp: t }],
      }),
    );
    expect(result).toMatchObject({
      outcome: "processed",
      matched: { timeouts: 1 },
      reports: { posted: 0, spooled: 0, rejected: 1 },
    });
    expect(world.mackerel.requests.filter((r) => r.path === report).length - postsBefore).toBe(1);
    const lines = logs.logs.slice(logsBefore);
    expect(lines.some((l) => l.includes("Mackerel refused a write") && l.includes("report refused by policy"))).toBe(
      true,
    );
    const emf = lines.filter((l) => l.startsWith('{"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(emf.at(-1)).toMatchObject({ WritesRejected: 1, CheckReportsPosted: 0, ItemsSpooled: 0 });
    expect((await store.readRule("timeouts", t / 1000 - 3600)).minutes.get(t / 1000)?.count).toBe(countBefore + 1);
  });
});
