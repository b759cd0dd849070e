/**
 * Logs Insights checks: the pure reading of queries and results, then the runner through the real
 * AWS SDK against the local CloudWatch Logs stand-in (Scheduled → Running with partial results →
 * Complete, StopQuery on give-up, throttling and the concurrency limit).
 */
import {
  parseGroupFields,
  queryWindow,
  runLogsInsightsCheck,
  summarizeLogsInsights,
} from "../../../functions/check/logs-insights";
import { parseCheckSpec, type LogsInsightsSpec } from "../../../functions/check/spec";
import { CloudWatchLogsStub, evaluateQuery, LOGS_TARGET } from "../../../scripts/local/cloudwatch-logs-stub";
import { runContext, startAws } from "./support";

function spec(overrides: Record<string, unknown> = {}): LogsInsightsSpec {
  return parseCheckSpec({
    kind: "logs_insights",
    name: "errors",
    log_group_names: ["/aws/lambda/app"],
    query: "stats count(*) by level",
    ...overrides,
  }) as LogsInsightsSpec;
}

const rowsOf = (rows: Record<string, string>[]) =>
  rows.map((row) => [
    ...Object.entries(row).map(([field, value]) => ({ field, value })),
    { field: "@ptr", value: "p" },
  ]);
const WINDOW = { start: 1_700_000_000 - 300, end: 1_700_000_000 };

describe("parseGroupFields", () => {
  test.each([
    ["stats count(*) by level", ["level"]],
    ["fields @timestamp | filter level = 'ERROR' | stats count(*) as n by level, service", ["level", "service"]],
    ["stats count(*) by bin(5m)", ["bin(5m)"]],
    ["stats avg(duration) as d by bin(1h) as hour, @logStream", ["hour", "@logStream"]],
    ["STATS COUNT(*) BY level | sort level", ["level"]],
    ["fields @message | filter @message like /stats x by y/ | limit 5", []],
    ['filter msg = "stats count(*) by nope" | stats count(*)', []],
    ["stats count(*) by a | stats count(*) as groups by b", ["b"]],
    ["# stats count(*) by commented\nstats sum(bytes) by host", ["host"]],
    ["fields @message | filter @message like /a|b/ | stats count(*) by level", ["level"]],
    ["stats count(*) as total", []],
    ["fields @timestamp, @message", []],
  ])("%s", (query, fields) => {
    expect(parseGroupFields(query)).toEqual(fields);
  });
});

test("the window ends at now − offset, floored to the minute", () => {
  const now = Date.UTC(2024, 4, 1, 0, 5, 42);
  const w = queryWindow(now, 1440, 5);
  expect(new Date(w.end * 1000).toISOString()).toBe("2024-05-01T00:00:00.000Z");
  expect(new Date(w.start * 1000).toISOString()).toBe("2024-04-30T00:00:00.000Z");
});

describe("summarizeLogsInsights", () => {
  test("group-by: one metric per group (sanitized), the total as value, thresholds on the total", () => {
    const outcome = summarizeLogsInsights(
      spec({ warning: 10, critical: 50 }),
      rowsOf([
        { level: "ERROR", "count(*)": "12" },
        { level: "WARN", "count(*)": "3" },
        { level: "fatal error!", "count(*)": "1" },
      ]),
      { recordsMatched: 16, recordsScanned: 1000, bytesScanned: 2048 },
      WINDOW,
    );
    expect(outcome.status).toBe("WARNING");
    expect(outcome.metrics).toEqual({ ERROR: 12, WARN: 3, fatal_error: 1, value: 16 });
    expect(outcome.message).toContain("WARNING: total 16 (>= warning 10)");
    expect(outcome.message).toContain("by level: ERROR=12, WARN=3, fatal error!=1");
    expect(outcome.message).toContain("first rows:\n  level=ERROR count(*)=12");
    expect(outcome.message).toContain("16 records matched, 1000 scanned, 2.0 KiB");
    expect(outcome.message).toContain("thresholds: warning >= 10, critical >= 50");
    expect(outcome.message).not.toContain("@ptr");
  });

  test("group names that collide after sanitizing, or with value, stay distinct", () => {
    const outcome = summarizeLogsInsights(
      spec({ query: "stats count(*) as n by k" }),
      rowsOf([
        { k: "a b", n: "1" },
        { k: "a.b", n: "2" },
        { k: "value", n: "3" },
      ]),
      undefined,
      WINDOW,
    );
    expect(outcome.metrics).toEqual({ a_b: 1, a_b_2: 2, value_2: 3, value: 6 });
  });

  test("value_field with grouping picks the named column", () => {
    const outcome = summarizeLogsInsights(
      spec({ query: "stats count(*) as n, avg(ms) as latency by svc", value_field: "latency" }),
      rowsOf([
        { svc: "a", n: "4", latency: "120.5" },
        { svc: "b", n: "1", latency: "80" },
      ]),
      undefined,
      WINDOW,
    );
    expect(outcome.metrics).toEqual({ a: 120.5, b: 80, value: 200.5 });
  });

  test("value_field without grouping: the first row's field; no rows is 0", () => {
    const s = spec({ query: "filter level = 'ERROR' | stats count(*) as errors", value_field: "errors", critical: 1 });
    expect(summarizeLogsInsights(s, rowsOf([{ errors: "7" }]), undefined, WINDOW)).toMatchObject({
      status: "CRITICAL",
      metrics: { value: 7 },
    });
    const none = summarizeLogsInsights(s, [], undefined, WINDOW);
    expect(none).toMatchObject({ status: "OK", metrics: { value: 0 } });
    expect(none.message).toContain("no result rows");
  });

  test("direction below: too few events is the alert", () => {
    const s = spec({
      query: "fields @message | filter @message like /heartbeat/",
      critical: 0,
      warning: 2,
      direction: "below",
    });
    expect(summarizeLogsInsights(s, [], { resultCount: 0 }, WINDOW).status).toBe("CRITICAL");
    expect(summarizeLogsInsights(s, rowsOf([{ "@message": "heartbeat" }]), { resultCount: 1 }, WINDOW).status).toBe(
      "WARNING",
    );
    expect(summarizeLogsInsights(s, rowsOf([]), { resultCount: 3 }, WINDOW)).toMatchObject({
      status: "OK",
      metrics: { value: 3 },
    });
  });

  test("a missing or non-numeric value field is UNKNOWN, naming the field", () => {
    const s = spec({ query: "stats count(*) as n", value_field: "errors" });
    expect(summarizeLogsInsights(s, rowsOf([{ n: "1" }]), undefined, WINDOW)).toMatchObject({
      status: "UNKNOWN",
      message: 'UNKNOWN: value_field "errors" is not in the result (fields: n)',
    });
    const t = spec({ query: "fields level, msg | stats count(*) by level" });
    expect(summarizeLogsInsights(t, rowsOf([{ level: "E", "count(*)": "many" }]), undefined, WINDOW).message).toContain(
      'the value column "count(*)" is not a number',
    );
  });

  test("row excerpts are redacted and the message fits Mackerel's limit once built", () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({
      "@message": `request ${i} failed for bob@example.com password=hunter2 ${"x".repeat(300)}`,
    }));
    const outcome = summarizeLogsInsights(
      spec({ query: "fields @message" }),
      rowsOf(rows),
      { resultCount: 40 },
      WINDOW,
    );
    expect(outcome.message).not.toContain("hunter2");
    expect(outcome.message).not.toContain("bob@example.com");
    expect(outcome.message).toContain("… 35 more rows");
    expect(outcome.metrics).toEqual({ value: 40 });
  });
});

describe("runLogsInsightsCheck against the CloudWatch Logs stand-in", () => {
  const stub = new CloudWatchLogsStub();
  let aws: Awaited<ReturnType<typeof startAws>>;
  const now = Date.now();
  const minute = Math.floor(now / 60_000) * 60_000;

  beforeAll(async () => {
    aws = await startAws(stub.handlers());
    stub.addLogGroup("/aws/lambda/app", [
      // In the 5-minute window:
      ...Array.from({ length: 7 }, (_, i) => ({
        logStreamName: "s1",
        timestamp: minute - 60_000 - i * 1000,
        message: JSON.stringify({ level: "ERROR", msg: `boom ${i}` }),
      })),
      { logStreamName: "s1", timestamp: minute - 120_000, message: JSON.stringify({ level: "WARN", msg: "hmm" }) },
      // Outside it (older than 5 minutes, and in the current, unfinished minute):
      { logStreamName: "s1", timestamp: minute - 400_000, message: JSON.stringify({ level: "ERROR", msg: "old" }) },
      { logStreamName: "s2", timestamp: minute + 1, message: JSON.stringify({ level: "ERROR", msg: "new" }) },
    ]);
    stub.addLogGroup("/aws/lambda/other");
  });
  afterAll(() => aws.close());
  beforeEach(() => {
    aws.server.calls.length = 0;
    stub.responder = evaluateQuery;
    stub.clearFaults();
  });

  test("polls through Scheduled and Running to Complete; counts per group in the window", async () => {
    const outcome = await runLogsInsightsCheck(spec({ critical: 5 }), await aws.logs(), runContext(20_000, now));
    expect(outcome.status).toBe("CRITICAL");
    expect(outcome.metrics).toEqual({ ERROR: 7, WARN: 1, value: 8 });
    const [start] = aws.server.callsTo(`${LOGS_TARGET}.StartQuery`);
    expect(start!.input).toEqual({
      logGroupNames: ["/aws/lambda/app"],
      startTime: minute / 1000 - 300,
      endTime: minute / 1000 - 1,
      queryString: "stats count(*) by level",
    });
    // Scheduled, Running (partial), Complete: three polls, no StopQuery.
    expect(aws.server.callsTo(`${LOGS_TARGET}.GetQueryResults`)).toHaveLength(3);
    expect(aws.server.callsTo(`${LOGS_TARGET}.StopQuery`)).toHaveLength(0);
  });

  test("a query that does not complete in time is stopped and reported UNKNOWN", async () => {
    stub.responder = () => ({ rows: [{ level: "ERROR", "count(*)": "1" }], pollsBeforeDone: Number.POSITIVE_INFINITY });
    const started = Date.now();
    const outcome = await runLogsInsightsCheck(spec(), await aws.logs(), runContext(3000, now));
    expect(Date.now() - started).toBeLessThan(3500);
    expect(outcome.status).toBe("UNKNOWN");
    expect(outcome.message).toMatch(
      /^UNKNOWN: query did not complete within \d+s \(status Running\); the query was stopped/,
    );
    expect(outcome.metrics).toEqual({});
    const stops = aws.server.callsTo(`${LOGS_TARGET}.StopQuery`);
    expect(stops).toHaveLength(1);
    expect(stub.queries.get(String(stops[0]!.input.queryId))!.status).toBe("Cancelled");
  });

  test("a query that fails is UNKNOWN with its status (nothing to stop)", async () => {
    stub.responder = () => ({ rows: [], finalStatus: "Failed", pollsBeforeDone: 1 });
    const outcome = await runLogsInsightsCheck(spec(), await aws.logs(), runContext(10_000, now));
    expect(outcome).toMatchObject({ status: "UNKNOWN", message: "UNKNOWN: the query ended with status Failed" });
    expect(aws.server.callsTo(`${LOGS_TARGET}.StopQuery`)).toHaveLength(0);
  });

  test("throttled GetQueryResults is retried by the SDK; the check still completes", async () => {
    stub.failNext("GetQueryResults", "ThrottlingException", { times: 1 });
    const outcome = await runLogsInsightsCheck(spec(), await aws.logs(), runContext(20_000, now));
    expect(outcome.status).toBe("OK");
    expect(aws.server.calls.filter((c) => c.status === 400).map((c) => c.target)).toEqual([
      `${LOGS_TARGET}.GetQueryResults`,
    ]);
  });

  test("a GetQueryResults error that outlasts the SDK's retries stops the query: UNKNOWN with the reason", async () => {
    stub.failNext("GetQueryResults", "ServiceUnavailableException", { times: 10 });
    const outcome = await runLogsInsightsCheck(spec(), await aws.logs(), runContext(20_000, now));
    expect(outcome.status).toBe("UNKNOWN");
    expect(outcome.message).toMatch(/GetQueryResults failed: ServiceUnavailableException.*; the query was stopped/);
    expect(aws.server.callsTo(`${LOGS_TARGET}.StopQuery`)).toHaveLength(1);
  });

  test("the account's concurrency limit (30 queries) is UNKNOWN with a hint", async () => {
    stub.responder = () => ({ rows: [], pollsBeforeDone: Number.POSITIVE_INFINITY });
    const api = await aws.logs();
    for (let i = 0; stub.running().length < 30; i++) {
      await api.startQuery(
        { logGroupNames: ["/aws/lambda/other"], startTime: 0, endTime: 1, queryString: "fields @message" },
        { timeoutMs: 5000 },
      );
    }
    const outcome = await runLogsInsightsCheck(spec(), api, runContext(10_000, now));
    expect(outcome.message).toBe(
      "UNKNOWN: StartQuery failed: LimitExceededException: Account maximum query concurrency limit of [30] reached. (Logs Insights runs at most 30 concurrent queries per account)",
    );
    for (const q of stub.running()) await api.stopQuery({ queryId: q.id }, { timeoutMs: 5000 });
  });

  test("a fractional time budget is fine (AbortSignal.timeout takes whole milliseconds)", async () => {
    const context = runContext(20_000, now);
    const outcome = await runLogsInsightsCheck(spec(), await aws.logs(), {
      ...context,
      remainingMs: () => context.remainingMs() + 0.5,
    });
    expect(outcome.status).toBe("OK");
  });

  test("a missing log group is UNKNOWN naming it", async () => {
    const outcome = await runLogsInsightsCheck(
      spec({ log_group_names: ["/aws/lambda/gone"] }),
      await aws.logs(),
      runContext(10_000, now),
    );
    expect(outcome.message).toBe(
      "UNKNOWN: StartQuery failed: ResourceNotFoundException: Log group '/aws/lambda/gone' does not exist",
    );
  });
});
