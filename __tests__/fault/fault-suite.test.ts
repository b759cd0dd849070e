/**
 * The fault suite: the BUILT metric and sender functions against the local Mackerel server with fault
 * injection and the SQS stand-in (FIFO spool + dead-letter queue), on one controllable clock. It proves
 * that nothing is lost: after each scenario every datum inside Mackerel's windows is in Mackerel exactly
 * once, and everything else was counted as expired (by the sender) or rejected (with its reason).
 *
 * Log counts: the built logs function and the check function's per-minute tick, with the state table on
 * dynalite, through the same outage, spool and sender (the last scenario).
 */
import { GetItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { lastClosedMinute, ruleMetricName } from "../../functions/logs/tick-plan";
import { SPOOL_HOST_PLACEHOLDER } from "../../functions/shared/delivery/host-placeholder";
import { SPOOL_MESSAGE_GROUP_ID } from "../../functions/shared/delivery/spool";
import { dynamoEnvironment, startDynalite } from "../../scripts/local/dynalite";
import { LocalLambda } from "../../scripts/local/lambda-runner";
import { makeSubscriptionEvent, textLine } from "../logs/fixtures";
import { type Datum, type Figures, Ledger } from "./ledger";
import { EndlessBodyServer } from "./support/endless-server";
import { API_KEY, DEAD_LETTER, emfTotals, FaultWorld, SECRET_ARN, SERVICE, SPOOL } from "./support/world";

const MINUTE = 60_000;

let world: FaultWorld;
const figures: Record<string, Figures> = {};
const notes: string[] = [];
/** Dependency faults (issue #12): what each case ended in, with its measured figure. */
const dependencyRows: [string, string][] = [];

beforeAll(async () => {
  world = await FaultWorld.start();
});

afterAll(async () => {
  await world?.close();
  const rows = Object.entries(figures);
  if (rows.length === 0 && dependencyRows.length === 0) return;
  const dependencyLines =
    dependencyRows.length === 0
      ? []
      : [
          "dependency faults: every case ends in delivery, the spool or a retried error",
          ...dependencyRows.map(([name, outcome]) => `${name.padEnd(44)} ${outcome}`),
        ];
  const total: Figures = {
    sent: 0,
    delivered: 0,
    expired: 0,
    rejected: 0,
    lost: 0,
    duplicated: 0,
    resentIdempotently: 0,
  };
  for (const [, f] of rows) for (const key of Object.keys(total) as (keyof Figures)[]) total[key] += f[key];
  const line = (name: string, f: Figures) =>
    `${name.padEnd(34)} ${[f.sent, f.delivered, f.expired, f.rejected, f.lost, f.duplicated, f.resentIdempotently]
      .map((n) => String(n).padStart(9))
      .join("")}`;
  console.log(
    [
      "fault suite figures (data points and check reports)",
      `${"scenario".padEnd(34)}${["sent", "delivered", "expired", "rejected", "lost", "dup", "resent*"].map((h) => h.padStart(9)).join("")}`,
      ...rows.map(([name, f]) => line(name, f)),
      line("total", total),
      "* resent: extra arrivals Mackerel took idempotently (retries after lost responses, redelivered messages)",
      ...notes,
      ...dependencyLines,
    ].join("\n"),
  );
});

/** Checks the ledger against Mackerel, records the figures and fails with every problem found. */
function settleAccounts(
  name: string,
  ledger: Ledger,
  sender: LocalLambda,
  exactlyOnceArrivals: boolean,
  /** Expired data counted by other functions than the sender (e.g. the logs function's ExpiredMatches). */
  expiredElsewhere = 0,
): Figures {
  const emf = emfTotals(sender);
  const expiredCounted =
    (emf.ExpiredServiceMetrics ?? 0) +
    (emf.ExpiredHostMetrics ?? 0) +
    (emf.ExpiredCheckReports ?? 0) +
    expiredElsewhere;
  const { figures: f, problems } = ledger.verify(world.mackerel, world.hostId(), {
    expiredCounted,
    exactlyOnceArrivals,
  });
  figures[name] = f;
  expect(problems).toEqual([]);
  expect(f.lost).toBe(0);
  expect(f.duplicated).toBe(0);
  expect(world.senderErrors).toEqual([]);
  return f;
}

/** A canonical metric payload whose metrics carry explicit times; returns the data it holds. */
function payload(parts: {
  metrics?: { name: string; value: number; time: number }[];
  hostMetrics?: { name: string; value: number; time: number }[];
  checks?: { name: string; status: "OK" | "WARNING" | "CRITICAL" | "UNKNOWN"; message: string }[];
}): { event: Record<string, unknown>; data: Datum[] } {
  const data: Datum[] = [
    ...(parts.metrics ?? []).map((m) => ({ kind: "serviceMetric" as const, service: SERVICE, ...m })),
    ...(parts.hostMetrics ?? []).map((m) => ({ kind: "hostMetric" as const, ...m })),
    ...(parts.checks ?? []).map((c) => ({ kind: "checkReport" as const, ...c })),
  ];
  return { event: { ...parts }, data };
}

describe("fault suite: built handlers, local Mackerel with faults, local SQS, one clock", () => {
  test("a 3-hour outage with data arriving throughout: after recovery all of it is in Mackerel exactly once, the too-old counted as expired", async () => {
    await world.fresh();
    const ledger = new Ledger();
    const start = world.clock.nowSeconds();

    // Left on the spool by another function during an earlier outage: a check report 5 h 50 min old
    // (expires 10 minutes into this one) and a metric 23 h old (expires after an hour).
    world.spoolDirectly(
      [
        {
          kind: "serviceMetrics",
          service: SERVICE,
          points: [{ name: "earlier.outage", time: start - 23 * 3600, value: 5 }],
        },
        {
          kind: "checkReports",
          reports: [
            {
              source: { type: "host", hostId: SPOOL_HOST_PLACEHOLDER },
              name: "earlier-check",
              status: "CRITICAL",
              message: "from an earlier outage",
              occurredAt: start - (5 * 3600 + 50 * 60),
            },
          ],
        },
      ],
      "check",
    );
    ledger.add(
      { kind: "serviceMetric", service: SERVICE, name: "earlier.outage", time: start - 23 * 3600, value: 5 },
      "expire",
    );
    ledger.add(
      { kind: "checkReport", name: "earlier-check", message: "from an earlier outage", status: "CRITICAL" },
      "expire",
    );

    // Mackerel goes down before the metric function ever resolved its host: host metrics and check
    // reports are spooled with the placeholder host, which the sender resolves after recovery.
    world.mackerel.setOutage(true);
    const step = async (label: string, i: number) => {
      const now = world.clock.nowSeconds();
      const { event, data } = payload({
        metrics: [
          { name: "orders.processed", value: i, time: now },
          { name: "orders.latency_ms", value: 100 + i, time: now },
        ],
        hostMetrics: [{ name: "custom.pipeline.heartbeat", value: 1, time: now }],
        checks: [{ name: "orders-job", status: i % 4 === 3 ? "CRITICAL" : "OK", message: `${label} ${i}` }],
      });
      for (const d of data) ledger.add(d);
      return { event, result: await world.postMetric(event) };
    };

    for (let i = 0; i <= 12; i++) {
      const { event, result } = await step("outage", i);
      if (i === 0) {
        // A backfilled point 22 h old: accepted (inside 24 h), but it will be 25 h old at recovery.
        const backfill = { name: "orders.backfill", value: 7, time: world.clock.nowSeconds() - 22 * 3600 };
        const extra = await world.postMetric({ metrics: [backfill] });
        expect(extra.spooled).toBe(true);
        ledger.add({ kind: "serviceMetric", service: SERVICE, ...backfill }, "expire");
      }
      expect(event).toBeDefined();
      expect(result).toEqual({ posted: { serviceMetrics: 0, hostMetrics: 0, checkReports: 0 }, spooled: true });
      await world.pump(); // the sender tries, fails, backs off
      if (i < 12) world.clock.advance(15 * MINUTE);
    }
    expect(world.clock.nowSeconds() - start).toBeGreaterThanOrEqual(3 * 3600);
    expect(world.sqs.depth(DEAD_LETTER)).toBe(0);
    expect(world.mackerel.serviceMetrics()).toEqual([]);

    // Mackerel is back; traffic goes on.
    world.mackerel.setOutage(false);
    for (let i = 0; i < 8; i++) {
      world.clock.advance(5 * MINUTE);
      await step("recovered", i);
      await world.pump();
    }
    await world.settle();

    expect(world.sqs.depth(SPOOL)).toBe(0);
    expect(world.sqs.depth(DEAD_LETTER)).toBe(0);
    expect(world.mackerel.hosts().filter((h) => !h.isRetired)).toHaveLength(1);
    const f = settleAccounts("3 h outage", ledger, world.sender, true);
    expect(f.expired).toBe(3);
    // Every status change of the check reached Mackerel in order: the alerts opened and closed.
    expect(world.mackerel.counter("ignored.outOfOrderCheckReports")).toBe(0);
    const statuses = [...Array.from({ length: 13 }, (_, i) => i), ...Array.from({ length: 8 }, (_, i) => i)].map((i) =>
      i % 4 === 3 ? "CRITICAL" : "OK",
    );
    const expectedEvents: string[] = [];
    let open = false;
    for (const status of statuses) {
      if (status !== "OK" && !open) expectedEvents.push("open");
      if (status === "OK" && open) expectedEvents.push("close");
      open = status !== "OK";
    }
    expect(
      world.mackerel
        .alertEvents()
        .filter((e) => e.checkName === "orders-job")
        .map((e) => e.type),
    ).toEqual(expectedEvents);
  });

  test("30% random 5xx/429 over 10,000 writes: 0 lost, 0 duplicated", async () => {
    await world.fresh();
    const ledger = new Ledger();
    world.mackerel.injectFaults({ mode: "errorRate", rate: 0.3, seed: 20_240_601, statuses: [500, 502, 503, 429] });
    let spooledInvocations = 0;
    for (let i = 0; i < 100; i++) {
      const now = world.clock.nowSeconds();
      const { event, data } = payload({
        metrics: Array.from({ length: 80 }, (_, j) => ({ name: `load.m${j}`, value: i * 1000 + j, time: now })),
        hostMetrics: Array.from({ length: 10 }, (_, j) => ({
          name: `custom.load.h${j}`,
          value: i * 100 + j,
          time: now,
        })),
        checks: Array.from({ length: 10 }, (_, j) => ({
          name: `load-c${j}`,
          status: (["OK", "WARNING", "CRITICAL"] as const)[(i + j) % 3]!,
          message: `load ${i}`,
        })),
      });
      for (const d of data) ledger.add(d);
      const result = await world.postMetric(event);
      if (result.spooled) spooledInvocations++;
      await world.pump();
      world.clock.advance(MINUTE);
    }
    expect(ledger.size).toBe(10_000);
    await world.settle();
    world.mackerel.clearFaults();
    await world.settle();
    expect(world.sqs.depth(SPOOL)).toBe(0);
    expect(world.sqs.depth(DEAD_LETTER)).toBe(0);
    // The faults did bite: some writes went through the spool.
    expect(world.mackerel.counter("faults.errorRate")).toBeGreaterThan(80);
    expect(spooledInvocations).toBeGreaterThan(0);
    settleAccounts("30% 5xx/429, 10,000 writes", ledger, world.sender, false);
    notes.push(
      `30% scenario: ${world.mackerel.requests.length} requests, ${world.mackerel.counter("faults.errorRate")} answered 5xx/429, ` +
        `${spooledInvocations} of 100 invocations spooled part of their writes`,
    );
    expect(world.mackerel.counter("ignored.outOfOrderCheckReports")).toBe(0);
  });

  test("slow responses past the timeout, connection resets, Retry-After, a response lost after the write", async () => {
    await world.fresh();
    const ledger = new Ledger();
    const next = () => world.clock.advance(MINUTE);

    // Slower than the function can wait: the call gives up in time, spools, and succeeds (spooled: true).
    const short = await LocalLambda.start("metric", { env: world.env(), timeoutMs: 7000 });
    const slow = payload({ metrics: [{ name: "slow.metric", value: 1, time: world.clock.nowSeconds() }] });
    slow.data.forEach((d) => ledger.add(d));
    try {
      world.mackerel.injectFaults({
        mode: "delay",
        ms: 8000,
        pathPrefix: `/api/v0/services/${SERVICE}/tsdb`,
        count: 1,
      });
      const started = Date.now();
      expect(await short.invokeOrThrow(slow.event)).toMatchObject({ spooled: true });
      expect(Date.now() - started).toBeLessThan(7000);
    } finally {
      await short.stop();
    }
    next();

    // Two connection resets: retried within the call.
    world.mackerel.injectFaults({ mode: "reset", pathPrefix: "/api/v0/tsdb", count: 2 });
    const reset = payload({ hostMetrics: [{ name: "custom.reset.metric", value: 2, time: world.clock.nowSeconds() }] });
    reset.data.forEach((d) => ledger.add(d));
    expect(await world.postMetric(reset.event)).toMatchObject({ posted: { hostMetrics: 1 }, spooled: false });
    expect(world.mackerel.counter("faults.reset")).toBe(2);
    next();

    // 429 with Retry-After: 2 s is honoured before the retry.
    world.mackerel.injectFaults({
      mode: "status",
      status: 429,
      retryAfter: 2,
      pathPrefix: `/api/v0/services/${SERVICE}/tsdb`,
      count: 1,
    });
    const limited = payload({ metrics: [{ name: "limited.metric", value: 3, time: world.clock.nowSeconds() }] });
    limited.data.forEach((d) => ledger.add(d));
    expect(await world.postMetric(limited.event)).toMatchObject({ posted: { serviceMetrics: 1 }, spooled: false });
    const posts = world.mackerel.requests.filter(
      (r) => r.path.endsWith("/tsdb") && (r.body as { name: string }[])[0]?.name === "limited.metric",
    );
    expect(posts.map((r) => r.status)).toEqual([429, 200]);
    expect(posts[1]!.receivedAt - posts[0]!.receivedAt).toBeGreaterThanOrEqual(2000);
    next();

    // The check report is stored but the response is lost: the retry carries the same occurredAt and
    // Mackerel ignores it as a duplicate.
    world.mackerel.injectFaults({ mode: "acceptThenReset", pathPrefix: "/api/v0/monitoring/checks/report", count: 1 });
    const lost = payload({ checks: [{ name: "lost-response", status: "WARNING", message: "stored once" }] });
    lost.data.forEach((d) => ledger.add(d));
    expect(await world.postMetric(lost.event)).toMatchObject({ posted: { checkReports: 1 }, spooled: false });
    expect(world.mackerel.counter("ignored.duplicateCheckReports")).toBe(1);

    await world.mackerel.whenIdle(); // the slow request finishes its write on the server
    await world.settle();
    settleAccounts("timeouts, resets, Retry-After", ledger, world.sender, false);
    // The slow write reached Mackerel twice (its late processing, then the spooled copy): one value kept.
    const slowPoint = slow.data[0] as { name: string; time: number };
    expect(
      world.mackerel.writeCount("serviceMetric", { service: SERVICE, name: slowPoint.name, time: slowPoint.time }),
    ).toBe(2);
  });

  test("400 responses: no retry, no spool, the reason logged; refused spooled writes go to the DLQ with it", async () => {
    await world.fresh();
    const ledger = new Ledger();
    const tsdb = `/api/v0/services/${SERVICE}/tsdb`;

    world.mackerel.injectFaults({
      mode: "status",
      status: 400,
      message: "metric refused by policy",
      pathPrefix: tsdb,
      count: 1,
    });
    const refused = payload({ metrics: [{ name: "refused.now", value: 1, time: world.clock.nowSeconds() }] });
    refused.data.forEach((d) => ledger.add(d, "reject"));
    const outcome = await world.metric.invoke(refused.event);
    expect(outcome).toMatchObject({ ok: false, errorType: "MackerelRejectedError" });
    expect(outcome.ok ? "" : outcome.errorMessage).toContain("metric refused by policy");
    expect(world.mackerel.requests.filter((r) => r.path === tsdb)).toHaveLength(1);
    expect(world.sqs.depth(SPOOL)).toBe(0);
    expect(world.metric.jsonLogs().some((r) => JSON.stringify(r).includes("metric refused by policy"))).toBe(true);
    expect(emfTotals(world.metric).WritesRejected).toBe(1);
    world.clock.advance(MINUTE);

    // Spooled during an outage, then refused when the sender posts it: dead-lettered with the reason.
    world.mackerel.setOutage(true);
    const later = payload({ metrics: [{ name: "refused.later", value: 2, time: world.clock.nowSeconds() }] });
    later.data.forEach((d) => ledger.add(d, "reject"));
    expect(await world.postMetric(later.event)).toMatchObject({ spooled: true });
    world.mackerel.setOutage(false);
    world.mackerel.injectFaults({
      mode: "status",
      status: 400,
      message: "metric refused later",
      pathPrefix: tsdb,
      count: 1,
    });
    const before = world.mackerel.requests.length;
    // And a message no function could have written.
    world.sqs.send(SPOOL, {
      MessageBody: "{not json",
      MessageGroupId: SPOOL_MESSAGE_GROUP_ID,
      MessageDeduplicationId: "junk",
    });
    world.clock.advance(MINUTE);
    await world.settle();
    expect(world.mackerel.requests.slice(before).filter((r) => r.path === tsdb)).toHaveLength(1);
    expect(world.sqs.depth(SPOOL)).toBe(0);
    const dead = world.sqs.messages(DEAD_LETTER);
    expect(dead.map((m) => m.messageAttributes.reason?.StringValue)).toEqual([
      expect.stringMatching(/^rejected: .*400.*metric refused later/),
      expect.stringMatching(/^malformed: the message body is not JSON/),
    ]);
    expect(dead[0]!.messageAttributes.status?.StringValue).toBe("400");
    expect(dead[0]!.messageAttributes.mackerelMessage?.StringValue).toBe("metric refused later");
    expect(JSON.parse(dead[0]!.body)).toMatchObject({
      v: 1,
      writes: [{ kind: "serviceMetrics", points: [{ name: "refused.later" }] }],
    });
    expect(world.sender.jsonLogs().some((r) => JSON.stringify(r).includes("metric refused later"))).toBe(true);
    settleAccounts("400 refusals", ledger, world.sender, false);
  });

  test("the same SQS message delivered twice: Mackerel ends up with one value and one report", async () => {
    await world.fresh();
    const ledger = new Ledger();
    world.mackerel.setOutage(true);
    const { event, data } = payload({
      metrics: [{ name: "dup.metric", value: 42, time: world.clock.nowSeconds() }],
      hostMetrics: [{ name: "custom.dup.metric", value: 43, time: world.clock.nowSeconds() }],
      checks: [{ name: "dup-check", status: "CRITICAL", message: "delivered twice" }],
    });
    data.forEach((d) => ledger.add(d));
    expect(await world.postMetric(event)).toMatchObject({ spooled: true });
    world.mackerel.setOutage(false);
    const [message] = world.sqs.messages(SPOOL);
    world.sqs.duplicate(SPOOL, message!.messageId);
    expect(world.sqs.depth(SPOOL)).toBe(2);
    await world.settle();

    // Both copies were posted...
    const reportPosts = world.mackerel.requests.filter(
      (r) => r.path === "/api/v0/monitoring/checks/report" && r.status === 200,
    );
    expect(reportPosts).toHaveLength(2);
    // ...with the SAME occurredAt (never re-stamped), so Mackerel kept one report.
    const occurred = reportPosts.map((r) => (r.body as { reports: { occurredAt: number }[] }).reports[0]!.occurredAt);
    expect(new Set(occurred).size).toBe(1);
    expect(world.mackerel.checkReports().filter((r) => r.name === "dup-check")).toHaveLength(1);
    expect(world.mackerel.counter("ignored.duplicateCheckReports")).toBe(1);
    expect(world.mackerel.serviceMetrics().filter((m) => m.name === "dup.metric")).toEqual([
      { service: SERVICE, name: "dup.metric", time: expect.any(Number), value: 42 },
    ]);
    const f = settleAccounts("same message delivered twice", ledger, world.sender, false);
    expect(f.resentIdempotently).toBe(3);
  });
});

describe("fault suite: log counts (built logs and check functions, dynalite state table) through an outage", () => {
  const LOG_RULES = [
    { name: "errors", include: ["\\tERROR\\t"] },
    { name: "timeouts", include: ["Task timed out"], status: "WARNING" },
    { name: "quiet", include: ["never-matches-zz7"] },
  ];
  const OUTAGE_MINUTES = 180;

  test("a 3-hour outage with log events and a tick every minute: after recovery every (rule, minute) is in Mackerel once, with its summed count", async () => {
    await world.fresh();
    const dynamo = await startDynalite();
    let logs: LocalLambda | undefined;
    let check: LocalLambda | undefined;
    try {
      const table = await dynamo.createStateTable("fault-state");
      const env = {
        ...world.env(),
        MACKEREL_LOG_RULES: JSON.stringify(LOG_RULES),
        MACKEREL_SERVERLESS_OWN_LOG_GROUPS: JSON.stringify(["/aws/lambda/mackerel-serverless-logs"]),
        ...dynamoEnvironment(dynamo, table),
      };
      [logs, check] = await Promise.all([
        LocalLambda.start("logs", { env, timeoutMs: 60_000 }),
        LocalLambda.start("check", { env, timeoutMs: 60_000 }),
      ]);

      /** rule → epoch minute (s) → matches sent. */
      const sent = new Map(LOG_RULES.map((r) => [r.name, new Map<number, number>()]));
      const count = (rule: string, minute: number, n: number) =>
        sent.get(rule)!.set(minute, (sent.get(rule)!.get(minute) ?? 0) + n);
      let streams = 0;
      const sendLogs = async (parts: { rule: "errors" | "timeouts"; minute: number; n: number }[]) => {
        for (const { rule, minute, n } of parts) count(rule, minute, n);
        const events = parts.flatMap(({ rule, minute, n }) =>
          Array.from({ length: n }, (_, j) => {
            const timestamp = minute * 1000 + 1000 * j + 17;
            return {
              message:
                rule === "errors"
                  ? textLine("ERROR", `order ${streams}.${j} failed`, j, timestamp)
                  : `${new Date(timestamp).toISOString()} Task timed out after 3.00 seconds`,
              timestamp,
            };
          }),
        );
        streams++;
        const result = await logs!.invokeOrThrow(
          makeSubscriptionEvent({ logGroup: `/aws/lambda/app-${streams % 3}`, logStream: `stream-${streams}`, events }),
        );
        expect(result).toMatchObject({ outcome: "processed", countFailures: [] });
        return result;
      };
      /** Moves the world clock to 5 s into the next minute (ticks run then, as EventBridge's would). */
      const nextMinute = (): number => {
        const now = world.clock.now();
        const minute = Math.floor(now / MINUTE) * MINUTE + MINUTE;
        world.clock.advance(minute + 5000 - now);
        return minute / 1000;
      };
      const tick = async () => {
        const closed = lastClosedMinute(world.clock.nowSeconds());
        const result = (await check!.invokeOrThrow({ tick: {} })) as { outcome: string; spooled: boolean };
        expect(lastClosedMinute(world.clock.nowSeconds())).toBe(closed);
        expect(result.outcome).toBe("ticked");
        return { ...result, closed };
      };
      /** The traffic of minute `k` (events of the minute before, some of two minutes before). */
      const traffic = async (k: number, now: number) => {
        const previous = now - 60;
        if (k % 4 !== 1) {
          await sendLogs([
            { rule: "errors", minute: previous, n: 1 + (k % 5) },
            ...(k % 10 === 0
              ? [
                  { rule: "timeouts" as const, minute: previous, n: 3 },
                  { rule: "timeouts" as const, minute: previous - 60, n: 1 },
                ]
              : []),
          ]);
        }
        // Another log group matching the same minute: the counts of both invocations are summed.
        if (k % 6 === 0) await sendLogs([{ rule: "errors", minute: previous, n: 2 }]);
      };

      // Before the outage: the first tick registers the host and posts each rule's first (zero) minute.
      nextMinute();
      const first = await tick();
      expect(first.spooled).toBe(false);
      const firstMinute = first.closed;

      // A maintenance-like outage that answers 503 with Retry-After: 1 h, so each function gives up after one
      // request instead of its in-call retries (same outcome, spooled; it keeps 180 ticks within the budget).
      world.mackerel.setOutage(true, { retryAfter: 3600 });
      const ledger = new Ledger();
      let expiredMatchSent: { minute: number } | undefined;
      const corrected = new Set<string>();
      for (let k = 0; k < OUTAGE_MINUTES; k++) {
        const now = nextMinute();
        await traffic(k, now);
        if (k === 30) {
          // One event 25 h old: never counted (Mackerel would ignore it), counted as expired by the logs function.
          const minute = now - 25 * 3600;
          expiredMatchSent = { minute };
          await sendLogs([{ rule: "errors", minute, n: 1 }]);
          sent.get("errors")!.delete(minute);
        }
        if (k === 60 || k === 120) {
          // A late delivery: events of the minutes the two previous ticks flushed (spooled). This tick
          // re-posts both minutes with their new totals (corrections), which must win over the first posts.
          const a = now - 300;
          const b = now - 240;
          await sendLogs([
            { rule: "errors", minute: a, n: 1 },
            { rule: "errors", minute: b, n: 1 },
          ]);
          corrected.add(`errors/${a}`).add(`errors/${b}`);
        }
        expect(await tick()).toMatchObject({ spooled: true });
        await world.pump(); // the sender tries, fails, backs off
      }
      expect(world.mackerel.serviceMetrics().filter((m) => m.time > firstMinute)).toEqual([]);
      expect(world.sqs.depth(DEAD_LETTER)).toBe(0);

      // Mackerel is back; log events and ticks go on, the spool drains.
      world.mackerel.setOutage(false);
      for (let k = OUTAGE_MINUTES; k < OUTAGE_MINUTES + 10; k++) {
        await traffic(k, nextMinute());
        await tick();
        await world.pump();
      }
      await world.settle();
      // Ticks until every minute with events is closed.
      let last = 0;
      for (let i = 0; i < 4; i++) {
        nextMinute();
        last = (await tick()).closed;
        await world.pump();
      }
      await world.settle();
      expect(world.sqs.depth(SPOOL)).toBe(0);
      expect(world.sqs.depth(DEAD_LETTER)).toBe(0);

      // Every (rule, minute) from the first flushed minute to the last closed one: its summed count, zero
      // when quiet, exactly one value per minute.
      const minutes = Array.from({ length: (last - firstMinute) / 60 + 1 }, (_, i) => firstMinute + i * 60);
      for (const [rule, counts] of sent) {
        expect([...counts.keys()].every((m) => m > firstMinute && m <= last)).toBe(true);
        for (const time of minutes) {
          ledger.add({
            kind: "serviceMetric",
            service: SERVICE,
            name: ruleMetricName(rule),
            time,
            value: counts.get(time) ?? 0,
          });
        }
        const posted = world.mackerel.serviceMetrics(SERVICE).filter((m) => m.name === ruleMetricName(rule));
        expect(posted.map((p) => p.time)).toEqual(minutes);
      }
      ledger.add(
        {
          kind: "serviceMetric",
          service: SERVICE,
          name: "logs.errors.count",
          time: expiredMatchSent!.minute,
          value: 1,
        },
        "expire",
      );
      const expiredMatches = emfTotals(logs).ExpiredMatches ?? 0;
      expect(expiredMatches).toBe(1);
      // Each minute arrived once, but a corrected minute twice: its first post, then its new total (the
      // spool delivers in order, and Mackerel keeps the last value for a (metric, time)).
      for (const rule of sent.keys()) {
        for (const time of minutes) {
          const n = world.mackerel.writeCount("serviceMetric", { service: SERVICE, name: ruleMetricName(rule), time });
          expect([rule, time, n]).toEqual([rule, time, corrected.has(`${rule}/${time}`) ? 2 : 1]);
        }
      }
      expect(corrected.size).toBe(4);
      // Nothing older than 24 h was posted, nothing was dropped as too old, no minute was skipped as expired.
      expect(world.mackerel.counter("ignored.serviceMetricsTooOld")).toBe(0);
      expect(emfTotals(check).LogCountMinutesExpired ?? 0).toBe(0);

      const f = settleAccounts("3 h outage, log counts", ledger, world.sender, false, expiredMatches);
      expect(f.expired).toBe(1);
      expect(f.resentIdempotently).toBe(corrected.size);
      const totalMatches = [...sent.values()].reduce((sum, m) => sum + [...m.values()].reduce((a, b) => a + b, 0), 0);
      notes.push(
        `log counts scenario: ${streams} logs invocations, ${totalMatches} matches in ${minutes.length} minutes × ` +
          `${LOG_RULES.length} rules, ${OUTAGE_MINUTES} ticks during the outage; "resent" there are ${corrected.size} ` +
          "corrections (a late delivery re-posts its minutes with the new total; the last value is kept)",
      );
    } finally {
      await Promise.all([logs?.stop(), check?.stop()]);
      await dynamo.close();
    }
  });
});

describe("fault suite: dependency faults (Secrets Manager, SQS, DynamoDB, a retired host, broken answers)", () => {
  /** A metric container of its own, with the world's environment and `env` on top. */
  const startMetric = (env: Record<string, string> = {}, timeoutMs = 30_000) =>
    LocalLambda.start("metric", { env: { ...world.env(), ...env }, timeoutMs });
  const timed = async <T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    const started = Date.now();
    const value = await run();
    return { value, ms: Date.now() - started };
  };
  /** A payload with one of each kind, stamped now; its data go to the ledger as "deliver". */
  const oneOfEach = (label: string, ledger: Ledger) => {
    const now = world.clock.nowSeconds();
    const p = payload({
      metrics: [{ name: `dep.${label}`, value: 1, time: now }],
      hostMetrics: [{ name: `custom.dep.${label}`, value: 2, time: now }],
      checks: [{ name: `dep-${label}`, status: "WARNING", message: `${label} report` }],
    });
    p.data.forEach((d) => ledger.add(d));
    return p.event;
  };

  test("Secrets Manager throttles, then answers 500: the writes are spooled, the sender reads the key later and delivers", async () => {
    await world.fresh();
    const ledger = new Ledger();
    const readsBefore = world.secrets.callsTo("secretsmanager.GetSecretValue").length;
    world.secretsFault = { mode: "throttle", count: 1000 };
    expect(await world.postMetric(oneOfEach("throttled", ledger))).toMatchObject({ spooled: true });
    world.secretsFault = { mode: "internalError", count: 1000 };
    world.clock.advance(MINUTE);
    expect(await world.postMetric(oneOfEach("error500", ledger))).toMatchObject({ spooled: true });
    // Bounded: the SDK's standard retries (3 attempts per read), never more.
    const reads = world.secrets.callsTo("secretsmanager.GetSecretValue").length - readsBefore;
    expect(reads).toBeGreaterThanOrEqual(6);
    expect(reads).toBeLessThanOrEqual(12);
    expect(world.mackerel.requests).toHaveLength(0);
    world.secretsFault = undefined;
    world.clock.advance(MINUTE);
    await world.settle();
    expect(world.sqs.depth(SPOOL)).toBe(0);
    settleAccounts("Secrets Manager throttled / 500", ledger, world.sender, false);
    dependencyRows.push([
      "Secrets Manager ThrottlingException, then 500",
      `spooled (${reads} bounded reads: ${world.secretsFaults.throttle} throttled, ${world.secretsFaults.internalError} answered 500), ` +
        `then delivered by the sender: ${ledger.size} sent, 0 lost`,
    ]);
  });

  test("Secrets Manager accepts the connection and never answers: the function gives up within its time and spools", async () => {
    await world.fresh();
    const ledger = new Ledger();
    const short = await startMetric({}, 10_000);
    try {
      world.secretsFault = { mode: "hang", count: 1000 };
      const { value: outcome, ms } = await timed(() => short.invoke(oneOfEach("hung", ledger)));
      expect(outcome).toMatchObject({ ok: true, result: { spooled: true } });
      expect(ms).toBeLessThan(10_000);
      world.secretsFault = undefined;
      world.clock.advance(MINUTE);
      await world.settle();
      settleAccounts("Secrets Manager never answers", ledger, world.sender, false);
      dependencyRows.push([
        "Secrets Manager never answers",
        `spooled after ${(ms / 1000).toFixed(1)} s of a 10 s timeout (${world.secretsFaults.hang} hung reads), then delivered`,
      ]);
    } finally {
      await short.stop();
    }
  });

  test("Mackerel down and SQS never answers: MackerelUnavailableError within the timeout; the Task's Retry then delivers", async () => {
    await world.fresh();
    const ledger = new Ledger();
    // The SQS client sends to the queue URL's host: both point at the endpoint that never answers.
    const sqsHung = {
      AWS_ENDPOINT_URL_SQS: world.blackHole.url,
      SPOOL_QUEUE_URL: `${world.blackHole.url}/123456789012/${SPOOL}`,
    };
    const noSpool = await startMetric(sqsHung, 15_000);
    try {
      // Resolve the host first (GETs work during the outage), so that the writes carry its id.
      expect(
        await noSpool.invokeOrThrow(payload({ checks: [{ name: "warm", status: "OK", message: "warm" }] }).event),
      ).toMatchObject({ spooled: false });
      ledger.add({ kind: "checkReport", name: "warm", message: "warm", status: "OK" });
      world.mackerel.setOutage(true);
      const event = oneOfEach("both-down", ledger);
      const { value: outcome, ms } = await timed(() => noSpool.invoke(event));
      expect(outcome).toMatchObject({ ok: false, errorType: "MackerelUnavailableError" });
      expect(outcome.ok ? "" : outcome.errorMessage).toMatch(/the spool refused the writes/);
      expect(ms).toBeLessThan(15_000);
      expect(world.blackHole.connections).toBeGreaterThan(0);
      // Step Functions retries the Task (MackerelUnavailableError is in the Retry); Mackerel is back by then.
      world.mackerel.setOutage(false);
      expect(await noSpool.invokeOrThrow(event)).toMatchObject({ spooled: false });
      settleAccounts("Mackerel + SQS down (metric)", ledger, world.sender, false);
      dependencyRows.push([
        "Mackerel down + SQS never answers (metric)",
        `MackerelUnavailableError after ${(ms / 1000).toFixed(1)} s of 15 s; the retried Task delivered, 0 lost`,
      ]);
    } finally {
      await noSpool.stop();
    }
  });

  test("DynamoDB never answers: the metric function does not wait for it (host id, report seconds) and spools", async () => {
    await world.fresh();
    const ledger = new Ledger();
    const hung = await startMetric(
      { AWS_ENDPOINT_URL_DYNAMODB: world.blackHole.url, STATE_TABLE_NAME: "state-that-never-answers" },
      15_000,
    );
    try {
      const { value: outcome, ms } = await timed(() => hung.invoke(oneOfEach("dynamo-hung", ledger)));
      expect(outcome).toMatchObject({ ok: true, result: { spooled: true } });
      expect(ms).toBeLessThan(15_000);
      await world.settle();
      settleAccounts("DynamoDB never answers (metric)", ledger, world.sender, false);
      dependencyRows.push([
        "DynamoDB never answers (metric)",
        `spooled after ${(ms / 1000).toFixed(1)} s of 15 s, then delivered`,
      ]);
    } finally {
      await hung.stop();
    }
  });

  test("logs function with Mackerel and SQS down: the invocation fails, Lambda's retry posts the report, counts stay single", async () => {
    await world.fresh();
    const dynamo = await startDynalite();
    let down: LocalLambda | undefined;
    let retry: LocalLambda | undefined;
    try {
      const table = await dynamo.createStateTable("fault-logs-state");
      const env = {
        ...world.env(),
        MACKEREL_LOG_RULES: JSON.stringify([{ name: "errors", include: ["\\tERROR\\t"] }]),
        MACKEREL_SERVERLESS_OWN_LOG_GROUPS: JSON.stringify(["/aws/lambda/mackerel-serverless-logs"]),
        ...dynamoEnvironment(dynamo, table),
      };
      down = await LocalLambda.start("logs", {
        env: {
          ...env,
          AWS_ENDPOINT_URL_SQS: world.blackHole.url,
          SPOOL_QUEUE_URL: `${world.blackHole.url}/123456789012/${SPOOL}`,
        },
        timeoutMs: 60_000,
      });
      const minute = Math.floor(world.clock.nowSeconds() / 60) * 60 - 60;
      const events = Array.from({ length: 3 }, (_, j) => {
        const timestamp = minute * 1000 + 1000 * j + 17;
        return { message: textLine("ERROR", `order ${j} failed`, j, timestamp), timestamp };
      });
      const event = makeSubscriptionEvent({ logGroup: "/aws/lambda/app", logStream: "s-1", events });
      world.mackerel.setOutage(true);
      const first = await down.invoke(event);
      expect(first).toMatchObject({ ok: false, errorType: "MackerelUnavailableError" });
      expect(world.mackerel.checkReports()).toEqual([]);

      // Lambda's asynchronous retry (another container, the dependencies are back): the report only.
      world.mackerel.setOutage(false);
      retry = await LocalLambda.start("logs", { env, timeoutMs: 60_000 });
      const second = (await retry.invokeOrThrow(event)) as { reports: { posted: number } };
      expect(second.reports.posted).toBe(1);
      const reports = world.mackerel.checkReports().filter((r) => r.name.includes("errors"));
      expect(reports).toHaveLength(1);
      expect(reports[0]!.status).toBe("CRITICAL");
      // The duplicate mark kept the counts single: 3 matches stored once, not twice.
      const { Items: items = [] } = await dynamo.client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": { S: "rule#errors" } },
        }),
      );
      const stored = items
        .flatMap((item) => Object.entries(item).filter(([name]) => /^c\d\d$/.test(name)))
        .reduce((sum, [, value]) => sum + Number(value.N), 0);
      expect(stored).toBe(3);
      dependencyRows.push([
        "Mackerel + SQS down (logs)",
        `invocation failed (MackerelUnavailableError); the retry posted 1 report; counts stored ${stored} of 3 (single)`,
      ]);
    } finally {
      await Promise.all([down?.stop(), retry?.stop()]);
      await dynamo.close();
    }
  });

  test("an API key with a trailing zero-width space: ConfigurationError naming the secret, nothing spooled or posted", async () => {
    await world.fresh();
    world.secretValues.set(SECRET_ARN, `${API_KEY}\u200b`);
    const outcome = await world.metric.invoke(
      payload({ metrics: [{ name: "zwsp", value: 1, time: world.clock.nowSeconds() }] }).event,
    );
    expect(outcome).toMatchObject({ ok: false, errorType: "ConfigurationError" });
    const message = outcome.ok ? "" : outcome.errorMessage;
    expect(message).toContain(SECRET_ARN);
    expect(message).toContain("U+200B");
    expect(message).not.toContain(API_KEY);
    expect(JSON.stringify(world.metric.logs)).not.toContain(API_KEY);
    expect(world.sqs.depth(SPOOL)).toBe(0);
    expect(world.mackerel.requests).toHaveLength(0);
    dependencyRows.push(["API key + U+200B", `ConfigurationError: ${message.slice(0, 90)}…; 0 spooled, 0 requests`]);
  });

  test("the module's Mackerel host was retired: looked up by custom identifier again, registered, stored, then posted", async () => {
    await world.fresh();
    const dynamo = await startDynalite();
    let metric: LocalLambda | undefined;
    let cold: LocalLambda | undefined;
    try {
      const table = await dynamo.createStateTable("fault-host-state");
      const env = dynamoEnvironment(dynamo, table);
      metric = await startMetric(env);
      const before = payload({
        hostMetrics: [{ name: "custom.host.before", value: 1, time: world.clock.nowSeconds() }],
      });
      expect(await metric.invokeOrThrow(before.event)).toMatchObject({ posted: { hostMetrics: 1 } });
      const retired = world.hostId()!;
      const answer = await fetch(new URL(`api/v0/hosts/${retired}/retire`, world.mackerel.url), {
        method: "POST",
        headers: { "X-Api-Key": API_KEY, "Content-Type": "application/json" },
        body: "{}",
      });
      expect(answer.status).toBe(200);
      expect(world.hostId()).toBeUndefined();

      world.clock.advance(MINUTE);
      const ledger = new Ledger();
      const after = oneOfEach("rehosted", ledger);
      expect(await metric.invokeOrThrow(after)).toMatchObject({
        posted: { serviceMetrics: 1, hostMetrics: 1, checkReports: 1 },
        spooled: false,
      });
      const fresh = world.hostId();
      expect(fresh).toBeDefined();
      expect(fresh).not.toBe(retired);
      const stored = await dynamo.client.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: "host" }, sk: { S: "id" } } }),
      );
      expect(stored.Item?.hostId?.S).toBe(fresh);
      // A write spooled before the host was retired still names it: the sender looks the host up again too.
      const spooledBefore = { name: "custom.host.spooled", value: 7, time: world.clock.nowSeconds() - 60 };
      world.spoolDirectly([{ kind: "hostMetrics", points: [{ hostId: retired, ...spooledBefore }] }], "metric");
      ledger.add({ kind: "hostMetric", ...spooledBefore });
      await world.settle();
      expect(world.sqs.depth(DEAD_LETTER)).toBe(0);
      // A new container reads the new id from the table: no second registration.
      cold = await startMetric(env);
      world.clock.advance(MINUTE);
      expect(await cold.invokeOrThrow(oneOfEach("cold", ledger))).toMatchObject({ spooled: false });
      expect(world.mackerel.hosts().filter((h) => !h.isRetired)).toHaveLength(1);
      // One 404 for the metric function, one for the sender's spooled write.
      const notFound = world.mackerel.requests.filter((r) => r.status === 404 && r.path === "/api/v0/tsdb");
      expect(notFound).toHaveLength(2);
      settleAccounts("retired host", ledger, world.sender, false);
      dependencyRows.push([
        "retired Mackerel host",
        `a 404 each for the metric function and the sender, re-resolved once to a new host (stored in the state table), ${ledger.size} sent, 0 lost`,
      ]);
    } finally {
      await Promise.all([metric?.stop(), cold?.stop()]);
      await dynamo.close();
    }
  });

  test("Mackerel answers 500 with a body that never ends: bounded reads, RSS stays small, the writes are spooled", async () => {
    await world.fresh();
    const endless = await EndlessBodyServer.start();
    const broken = await startMetric({ MACKEREL_API_BASE_URL: endless.url });
    try {
      const ledger = new Ledger();
      const { value: outcome, ms } = await timed(() => broken.invoke(oneOfEach("endless", ledger)));
      expect(outcome).toMatchObject({ ok: true, result: { spooled: true } });
      const { maxRssBytes } = await broken.stats();
      const rssMb = maxRssBytes / 1024 / 1024;
      expect(rssMb).toBeLessThan(160);
      expect(endless.requests).toBeGreaterThan(1);
      await world.settle();
      settleAccounts("endless 500 body", ledger, world.sender, false);
      dependencyRows.push([
        "Mackerel 500 with an endless body",
        `max RSS ${rssMb.toFixed(0)} MB (${endless.requests} requests, ${(endless.bytesSent / 1024 / 1024).toFixed(1)} MB offered), ` +
          `spooled after ${(ms / 1000).toFixed(1)} s, then delivered`,
      ]);
    } finally {
      await broken.stop();
      await endless.close();
    }
  });

  test("CRITICAL then OK for one check within a second, from one container and from two: distinct seconds, the alert closes", async () => {
    await world.fresh();
    const dynamo = await startDynalite();
    let a: LocalLambda | undefined;
    let b: LocalLambda | undefined;
    try {
      const ledger = new Ledger();
      const flap = (name: string, status: "CRITICAL" | "OK", message: string) => {
        ledger.add({ kind: "checkReport", name, message, status });
        return { checks: [{ name, status, message }] };
      };
      // One container (no state table): its own guard.
      await world.postMetric(flap("flap-one", "CRITICAL", "down"));
      await world.postMetric(flap("flap-one", "OK", "up again"));
      // Two containers sharing the state table: the claim.
      const table = await dynamo.createStateTable("fault-seconds-state");
      [a, b] = await Promise.all([
        startMetric(dynamoEnvironment(dynamo, table)),
        startMetric(dynamoEnvironment(dynamo, table)),
      ]);
      await a.invokeOrThrow(flap("flap-two", "CRITICAL", "down"));
      await b.invokeOrThrow(flap("flap-two", "OK", "up again"));
      for (const name of ["flap-one", "flap-two"]) {
        const reports = world.mackerel.checkReports().filter((r) => r.name === name);
        expect(reports.map((r) => r.status)).toEqual(["CRITICAL", "OK"]);
        expect(new Set(reports.map((r) => r.occurredAt)).size).toBe(2);
        expect(
          world.mackerel
            .alertEvents()
            .filter((e) => e.checkName === name)
            .map((e) => e.type),
        ).toEqual(["open", "close"]);
      }
      expect(world.mackerel.counter("ignored.duplicateCheckReports")).toBe(0);
      settleAccounts("CRITICAL then OK within 1 s", ledger, world.sender, true);
      dependencyRows.push([
        "CRITICAL then OK within 1 s",
        "distinct occurredAt (1 and 2 containers), alert opened and closed",
      ]);
    } finally {
      await Promise.all([a?.stop(), b?.stop()]);
      await dynamo.close();
    }
  });

  test("invalid payloads: the field and the rule for every failure, before anything is sent", async () => {
    await world.fresh();
    const cases: [unknown, string][] = [
      [{ metrics: [1] }, "metrics[0]: expected an object {name, value, time?}"],
      [{ checks: "x" }, "checks: expected an array"],
      [{ service: 5, metrics: [{ name: "a", value: 1 }] }, "service: expected a string"],
      [{ metrics: [{ name: "a", value: 1, time: "2026-02-30T00:00:00Z" }] }, "metrics[0].time: is not a valid date"],
    ];
    for (const [event, message] of cases) {
      const outcome = await world.metric.invoke(event);
      expect(outcome).toMatchObject({ ok: false, errorType: "MackerelValidationError" });
      expect(outcome.ok ? "" : outcome.errorMessage).toContain(message);
      expect(outcome.ok ? "" : outcome.errorMessage).not.toContain("Invalid input");
    }
    expect(world.mackerel.requests.filter((r) => r.method === "POST")).toHaveLength(0);
    expect(world.sqs.depth(SPOOL)).toBe(0);
    dependencyRows.push(["invalid payloads", `${cases.length} refused with field + rule, 0 sent`]);
  });
});
