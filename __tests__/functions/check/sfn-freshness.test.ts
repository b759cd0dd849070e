/**
 * Step Functions execution checks and log freshness checks through the real AWS SDK against the local
 * stand-ins: counting in the window with paging stopped at its edge, thresholds, names in the message,
 * long-running executions, throttling; freshness from FilterLogEvents with empty pages and missing groups.
 */
import { evaluateFreshness, runLogFreshnessCheck } from "../../../functions/check/log-freshness";
import { evaluateSfnExecutions, runSfnExecutionCheck } from "../../../functions/check/sfn-executions";
import { parseCheckSpec, type LogFreshnessSpec, type SfnExecutionSpec } from "../../../functions/check/spec";
import { CloudWatchLogsStub } from "../../../scripts/local/cloudwatch-logs-stub";
import { SfnStub, type StubExecution } from "../../../scripts/local/sfn-stub";
import { runContext, startAws } from "./support";

const ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
const EXPRESS = "arn:aws:states:us-east-1:123456789012:stateMachine:fast";
const now = Date.now();
const MIN = 60_000;

const sfnStub = new SfnStub();
const logsStub = new CloudWatchLogsStub();
let aws: Awaited<ReturnType<typeof startAws>>;

function sfnSpec(overrides: Record<string, unknown> = {}): SfnExecutionSpec {
  return parseCheckSpec({
    kind: "sfn_execution",
    name: "orders-failures",
    state_machine_arn: ARN,
    ...overrides,
  }) as SfnExecutionSpec;
}
function freshSpec(overrides: Record<string, unknown> = {}): LogFreshnessSpec {
  return parseCheckSpec({
    kind: "log_freshness",
    name: "producer-alive",
    log_group_name: "/aws/lambda/producer",
    max_age_minutes: 15,
    ...overrides,
  }) as LogFreshnessSpec;
}

beforeAll(async () => {
  const executions: StubExecution[] = [
    // 1500 FAILED in the last 60 minutes, then 3000 older ones: paging must stop at the edge.
    ...Array.from({ length: 1500 }, (_, i) => ({
      name: `f-${i}`,
      status: "FAILED" as const,
      startDate: now - 1000 - i * 2000,
    })),
    ...Array.from({ length: 3000 }, (_, i) => ({
      name: `old-${i}`,
      status: "FAILED" as const,
      startDate: now - 61 * MIN - i * 1000,
    })),
    { name: "order-timeout-1", status: "TIMED_OUT", startDate: now - 5 * MIN },
    { name: "order-ok", status: "SUCCEEDED", startDate: now - 2 * MIN },
    { name: "stuck-job", status: "RUNNING", startDate: now - 300 * MIN },
    { name: "fresh-job", status: "RUNNING", startDate: now - 1 * MIN },
  ];
  sfnStub.addStateMachine(ARN, executions);
  sfnStub.addStateMachine(EXPRESS, [], "EXPRESS");
  logsStub.addLogGroup("/aws/lambda/producer", [
    { logStreamName: "a", timestamp: now - 40 * MIN, message: "old" },
    { logStreamName: "a", timestamp: now - 3 * MIN, message: "recent" },
  ]);
  logsStub.addLogGroup("/aws/lambda/quiet", [{ logStreamName: "a", timestamp: now - 40 * MIN, message: "old" }]);
  aws = await startAws({ ...sfnStub.handlers(), ...logsStub.handlers() });
});
afterAll(() => aws.close());
beforeEach(() => {
  sfnStub.listCalls.length = 0;
  sfnStub.clearFaults();
  logsStub.clearFaults();
  logsStub.emptyPagesBeforeEvents = 0;
});

describe("Step Functions executions", () => {
  test("counts per status in the window; paging stops at the window's edge", async () => {
    const outcome = await runSfnExecutionCheck(sfnSpec(), await aws.sfn(), runContext(20_000, now));
    expect(outcome.status).toBe("CRITICAL");
    expect(outcome.metrics).toEqual({ failed: 1500, timed_out: 1, aborted: 0, count: 1501 });
    expect(outcome.message).toMatch(
      /^CRITICAL: 1501 executions FAILED\/TIMED_OUT\/ABORTED started in the last 1h on orders \(>= critical 1\): f-0 FAILED, f-1 FAILED/,
    );
    expect(outcome.message).toContain("(+1491 more)");
    // FAILED: page 1 (1000, all in the window), page 2 reaches the edge: 2 calls for 4500 executions.
    const failedCalls = sfnStub.listCalls.filter((c) => c.statusFilter === "FAILED");
    expect(failedCalls).toHaveLength(2);
    expect(failedCalls[0]).toEqual({ stateMachineArn: ARN, statusFilter: "FAILED", maxResults: 1000 });
    expect(failedCalls[1]!.nextToken).toEqual(expect.any(String));
    expect(sfnStub.listCalls.map((c) => c.statusFilter)).toEqual(["FAILED", "FAILED", "TIMED_OUT", "ABORTED"]);
  });

  test("warning/critical thresholds on the count", async () => {
    const outcome = await runSfnExecutionCheck(
      sfnSpec({ statuses: ["TIMED_OUT", "ABORTED"], warning: 1, critical: 3 }),
      await aws.sfn(),
      runContext(20_000, now),
    );
    expect(outcome.status).toBe("WARNING");
    expect(outcome.message).toBe(
      "WARNING: 1 execution TIMED_OUT/ABORTED started in the last 1h on orders (>= warning 1): order-timeout-1 TIMED_OUT\nthresholds: warning >= 1, critical >= 3",
    );
    const quiet = await runSfnExecutionCheck(
      sfnSpec({ statuses: ["ABORTED"] }),
      await aws.sfn(),
      runContext(20_000, now),
    );
    expect(quiet).toMatchObject({ status: "OK", metrics: { aborted: 0, count: 0 } });
  });

  test("max_running_minutes: executions running longer are CRITICAL, named with their age", async () => {
    const outcome = await runSfnExecutionCheck(
      sfnSpec({ statuses: ["ABORTED"], max_running_minutes: 60 }),
      await aws.sfn(),
      runContext(20_000, now),
    );
    expect(outcome.status).toBe("CRITICAL");
    expect(outcome.metrics).toEqual({ aborted: 0, count: 0, running_too_long: 1 });
    expect(outcome.message).toContain("1 execution RUNNING longer than 1h: stuck-job (started 5h ago)");
    expect(outcome.message).not.toContain("fresh-job");
  });

  test("throttling is retried by the SDK", async () => {
    sfnStub.failNext("ListExecutions", "ThrottlingException", { times: 1 });
    const outcome = await runSfnExecutionCheck(
      sfnSpec({ statuses: ["ABORTED"] }),
      await aws.sfn(),
      runContext(20_000, now),
    );
    expect(outcome.status).toBe("OK");
    expect(
      aws.server
        .callsTo("AWSStepFunctions.ListExecutions")
        .slice(-2)
        .map((c) => c.status),
    ).toEqual([400, 200]);
  });

  test.each([
    [
      "an unknown state machine",
      sfnSpec({ state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:nope" }),
      /^UNKNOWN: ListExecutions failed: StateMachineDoesNotExist: .* \(check state_machine_arn\)$/,
    ],
    [
      "an express state machine",
      sfnSpec({ state_machine_arn: EXPRESS }),
      /StateMachineTypeNotSupported: .* \(ListExecutions supports standard workflows only, not express\)$/,
    ],
  ])("%s is UNKNOWN with a hint", async (_label, spec, message) => {
    const outcome = await runSfnExecutionCheck(spec, await aws.sfn(), runContext(20_000, now));
    expect(outcome.status).toBe("UNKNOWN");
    expect(outcome.message).toMatch(message);
  });

  test("no time to finish the listing is UNKNOWN, not a low count", async () => {
    const outcome = await runSfnExecutionCheck(sfnSpec(), await aws.sfn(), runContext(100, now));
    expect(outcome).toMatchObject({
      status: "UNKNOWN",
      message: "UNKNOWN: could not count executions: no time left to list FAILED executions",
    });
  });

  test("evaluation is pure: the oldest stuck executions come first", () => {
    const outcome = evaluateSfnExecutions(sfnSpec({ statuses: ["FAILED"], max_running_minutes: 10 }), {
      nowMs: now,
      windowStartMs: now - 60 * MIN,
      byStatus: new Map([["FAILED", []]]),
      running: [
        { name: "b", startDate: new Date(now - 20 * MIN) },
        { name: "a", startDate: new Date(now - 90 * MIN) },
      ],
    });
    expect(outcome.message).toContain(
      "2 executions RUNNING longer than 10m: a (started 1h 30m ago), b (started 20m ago)",
    );
  });
});

describe("log freshness", () => {
  test("a recent event: OK with its age", async () => {
    const outcome = await runLogFreshnessCheck(freshSpec(), await aws.logs(), runContext(10_000, now));
    expect(outcome).toEqual({
      status: "OK",
      message: "OK: /aws/lambda/producer has an event from 3m ago (limit 15m)",
      metrics: { age_seconds: 180 },
    });
    const [call] = aws.server.callsTo("Logs_20140328.FilterLogEvents").slice(-1);
    expect(call!.input).toEqual({ logGroupName: "/aws/lambda/producer", startTime: now - 15 * MIN, limit: 1 });
  });

  test("nothing newer than max_age: CRITICAL", async () => {
    const outcome = await runLogFreshnessCheck(
      freshSpec({ log_group_name: "/aws/lambda/quiet" }),
      await aws.logs(),
      runContext(10_000, now),
    );
    expect(outcome).toEqual({
      status: "CRITICAL",
      message: "CRITICAL: no event in /aws/lambda/quiet for the last 15m (max_age_minutes 15)",
      metrics: {},
    });
  });

  test("empty pages with a nextToken are not the end of the search", async () => {
    logsStub.emptyPagesBeforeEvents = 3;
    const before = aws.server.callsTo("Logs_20140328.FilterLogEvents").length;
    const outcome = await runLogFreshnessCheck(freshSpec(), await aws.logs(), runContext(10_000, now));
    expect(outcome.status).toBe("OK");
    expect(aws.server.callsTo("Logs_20140328.FilterLogEvents").length - before).toBe(4);
  });

  test("a log group that does not exist: CRITICAL (nothing logs there)", async () => {
    const outcome = await runLogFreshnessCheck(
      freshSpec({ log_group_name: "/aws/lambda/never" }),
      await aws.logs(),
      runContext(10_000, now),
    );
    expect(outcome.status).toBe("CRITICAL");
    expect(outcome.message).toContain("log group /aws/lambda/never does not exist");
  });

  test("an AWS error is UNKNOWN with the reason", async () => {
    logsStub.failNext("FilterLogEvents", "AccessDeniedException", { times: 5 });
    const outcome = await runLogFreshnessCheck(freshSpec(), await aws.logs(), runContext(10_000, now));
    expect(outcome.status).toBe("UNKNOWN");
    expect(outcome.message).toBe(
      "UNKNOWN: FilterLogEvents failed: AccessDeniedException: AccessDeniedException injected by the test",
    );
  });

  test("a clock skew never yields a negative age", () => {
    expect(evaluateFreshness(freshSpec(), { found: true, newestTimestampMs: now + 5000 }, now).metrics).toEqual({
      age_seconds: 0,
    });
  });
});
