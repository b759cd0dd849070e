/**
 * The check function loaded from the BUILT zip (modules/mackerel-serverless/dist/check.zip) in a
 * Lambda-like process, invoked with exactly the input the module's EventBridge rules carry (read from a
 * `terraform plan` of a root module that configures one check of each kind), reading its key from the
 * local Secrets Manager, querying the local CloudWatch Logs and Step Functions stand-ins through
 * AWS_ENDPOINT_URL_*, checking a local HTTP server, and posting to the local Mackerel server.
 */
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { LocalAwsJsonServer, secretsManagerHandlers } from "../../../scripts/local/aws-json-server";
import { CloudWatchLogsStub, evaluateQuery, LOGS_TARGET } from "../../../scripts/local/cloudwatch-logs-stub";
import { DIST_DIR, LocalLambda } from "../../../scripts/local/lambda-runner";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";
import { SfnStub } from "../../../scripts/local/sfn-stub";
import { describeWithTerraform } from "../../support/terraform";
import { checkResults, checkZipEnv, planRuleInputs, SECRET_ARN, SERVICE, startWebServer } from "./zip-support";

const KEY = "check-zip-test-key-0123456789";
const SFN_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
const MIN = 60_000;

let mackerel: LocalMackerelServer;
let aws: LocalAwsJsonServer;
let web: Server;
let webUrl: string;
const logs = new CloudWatchLogsStub();
const sfn = new SfnStub();
const lambdas: LocalLambda[] = [];

async function startCheck(timeoutMs = 30_000): Promise<LocalLambda> {
  const lambda = await LocalLambda.start("check", {
    timeoutMs,
    env: checkZipEnv({
      mackerelUrl: mackerel.url,
      secretsManagerUrl: aws.url,
      hostName: "checks-zip-test",
      extra: { AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: aws.url, AWS_ENDPOINT_URL_SFN: aws.url },
    }),
  });
  lambdas.push(lambda);
  return lambda;
}

const { lastReport, metricsOf } = checkResults(() => mackerel);

/**
 * The log events and executions the checks read, placed relative to now. Seeded once the plan has run and the
 * container has started, not before the plan: the Logs Insights window is the 5 minutes before the
 * invocation's last whole minute, so the WARN 4 minutes before the seeding leaves it when more than 60 s pass
 * in between (always past 120 s), which a terraform plan on a loaded machine can take.
 */
function seedTimedData(now: number): void {
  logs.addLogGroup("/aws/lambda/app", [
    ...Array.from({ length: 3 }, (_, i) => ({
      logStreamName: "s",
      timestamp: now - 3 * MIN - i * 1000,
      message: JSON.stringify({ level: "ERROR", msg: `failed order ${i} for carol@example.com` }),
    })),
    { logStreamName: "s", timestamp: now - 4 * MIN, message: JSON.stringify({ level: "WARN", msg: "slow" }) },
  ]);
  logs.addLogGroup("/aws/lambda/ingest", [{ logStreamName: "s", timestamp: now - 2 * MIN, message: "tick" }]);
  logs.addLogGroup("/aws/lambda/silent", [{ logStreamName: "s", timestamp: now - 90 * MIN, message: "bye" }]);
  // Queries that contain "never" do not complete (the timeout case); others run on the stored events.
  logs.responder = (input, events) =>
    input.queryString.includes("never")
      ? { rows: [], pollsBeforeDone: Number.POSITIVE_INFINITY }
      : evaluateQuery(input, events);
  sfn.addStateMachine(SFN_ARN, [
    { name: "order-1001", status: "FAILED", startDate: now - 10 * MIN },
    { name: "order-1002", status: "TIMED_OUT", startDate: now - 20 * MIN },
    { name: "order-0999", status: "FAILED", startDate: now - 3 * 60 * MIN },
    { name: "order-1003", status: "SUCCEEDED", startDate: now - 5 * MIN },
  ]);
}

beforeAll(async () => {
  mackerel = await LocalMackerelServer.start({ apiKeys: [KEY], services: [SERVICE] });
  aws = await LocalAwsJsonServer.start({
    ...secretsManagerHandlers(new Map([[SECRET_ARN, KEY]])),
    ...logs.handlers(),
    ...sfn.handlers(),
  });
  ({ server: web, url: webUrl } = await startWebServer((req, res) => {
    if (req.url === "/health") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"status":"ok"}');
    } else {
      res.writeHead(503);
      res.end("maintenance, contact ops@example.com");
    }
  }));
});

afterAll(async () => {
  for (const lambda of lambdas) for (const line of lambda.logs) expect(line).not.toContain(KEY);
  await Promise.all(lambdas.map((l) => l.stop()));
  web.closeAllConnections();
  await new Promise<void>((resolve) => web.close(() => resolve()));
  await aws.close();
  await mackerel.close();
});

describeWithTerraform("the check function from its zip, with the inputs of the planned rules", () => {
  /** Rule target inputs by check name, as `terraform plan` shows them. */
  const inputs = new Map<string, unknown>();
  let check: LocalLambda;

  beforeAll(async () => {
    for (const [name, input] of planRuleInputs(
      `
  logs_insights_checks = [
    { name = "errors", log_group_names = ["/aws/lambda/app"], query = "stats count(*) by level", warning = 1, critical = 3 },
    { name = "stuck-query", log_group_names = ["/aws/lambda/app"], query = "fields never" },
  ]
  http_checks = [
    { name = "web-ok", url = "${webUrl}/health", body_contains = "\\"status\\":\\"ok\\"" },
    { name = "web-down", url = "${webUrl}/down", timeout_seconds = 5 },
  ]
  sfn_execution_checks = [{ name = "orders", state_machine_arn = "${SFN_ARN}", max_check_attempts = 2 }]
  log_freshness_checks = [
    { name = "ingest-alive", log_group_name = "/aws/lambda/ingest", max_age_minutes = 10 },
    { name = "silent-alive", log_group_name = "/aws/lambda/silent", max_age_minutes = 30 },
  ]
`,
      "examples/scratch-check-zip",
    ))
      inputs.set(name, input);
    expect([...inputs.keys()].sort()).toEqual(
      ["errors", "ingest-alive", "orders", "silent-alive", "stuck-query", "web-down", "web-ok"].sort(),
    );
    check = await startCheck();
    seedTimedData(Date.now());
  });

  const invoke = (name: string) => check.invokeOrThrow(inputs.get(name));

  test("HTTP: OK, with latency and status metrics", async () => {
    expect(await invoke("web-ok")).toEqual({
      check: "web-ok",
      kind: "http",
      status: "OK",
      posted: { serviceMetrics: 2, hostMetrics: 0, checkReports: 1 },
      spooled: false,
    });
    const report = lastReport("web-ok")!;
    expect(report).toMatchObject({ status: "OK" });
    expect(report.hostId).toBe(mackerel.hosts()[0]!.id);
    expect(metricsOf("web-ok")).toEqual({ latency_ms: expect.any(Number), status_code: 200 });
  });

  test("HTTP: a 503 is CRITICAL with a redacted body excerpt", async () => {
    expect(await invoke("web-down")).toMatchObject({ status: "CRITICAL" });
    expect(lastReport("web-down")!.message).toMatch(
      /^CRITICAL: GET http:\/\/127\.0\.0\.1:\d+\/down: status 503 in \d+ ms: expected status 200\nbody: maintenance, contact \[REDACTED:email\]$/,
    );
    expect(metricsOf("web-down").status_code).toBe(503);
  });

  test("Logs Insights: a group-by query posts one metric per group and the total, against thresholds", async () => {
    expect(await invoke("errors")).toMatchObject({ kind: "logs_insights", status: "CRITICAL" });
    expect(metricsOf("errors")).toEqual({ ERROR: 3, WARN: 1, value: 4 });
    const report = lastReport("errors")!;
    expect(report.message).toMatch(
      /^CRITICAL: total 4 \(>= critical 3\) in .* \(5m\), \/aws\/lambda\/app\nby level: ERROR=3, WARN=1/,
    );
    // A link to the same query over the same window in the CloudWatch console of the function's region.
    expect(report.message).toMatch(
      /\nconsole: https:\/\/us-east-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=us-east-1#logsV2:logs-insights\$3FqueryDetail\$3D~\(end~'.*~source~\(~'\*2Faws\*2Flambda\*2Fapp\)\)\n/,
    );
    const start = aws.callsTo(`${LOGS_TARGET}.StartQuery`).at(-1)!.input as { startTime: number; endTime: number };
    expect(start.endTime - start.startTime).toBe(5 * 60 - 1);
  });

  test("Step Functions: failures in the window, named; the older one is outside", async () => {
    expect(await invoke("orders")).toMatchObject({ kind: "sfn_execution", status: "CRITICAL" });
    expect(metricsOf("orders")).toEqual({ failed: 1, timed_out: 1, aborted: 0, count: 2 });
    const report = lastReport("orders")!;
    expect(report.message).toContain("order-1001 FAILED, order-1002 TIMED_OUT");
    expect(report.message).not.toContain("order-0999");
    expect(report.maxCheckAttempts).toBe(2);
  });

  test("log freshness: a recent event is OK with its age; a silent group is CRITICAL", async () => {
    expect(await invoke("ingest-alive")).toMatchObject({ kind: "log_freshness", status: "OK" });
    expect(metricsOf("ingest-alive").age_seconds).toBeGreaterThanOrEqual(120);
    expect(await invoke("silent-alive")).toMatchObject({ status: "CRITICAL" });
    expect(lastReport("silent-alive")!.message).toBe(
      "CRITICAL: no event in /aws/lambda/silent for the last 30m (max_age_minutes 30)",
    );
  });

  test("a query that outlasts the function's time is stopped and reported UNKNOWN; the invocation succeeds", async () => {
    const short = await startCheck(8000);
    const started = Date.now();
    expect(await short.invokeOrThrow(inputs.get("stuck-query"))).toMatchObject({ status: "UNKNOWN" });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(lastReport("stuck-query")!.message).toMatch(
      /^UNKNOWN: query did not complete within \d+s \(status Running\); the query was stopped/,
    );
    expect(aws.callsTo(`${LOGS_TARGET}.StopQuery`)).toHaveLength(1);
  });
});

describe("the check function from its zip: inputs that are not a valid check", () => {
  let check: LocalLambda;
  beforeAll(async () => {
    check = await startCheck();
  });

  test("a check with a readable name but a bad spec reports UNKNOWN, then fails as MackerelValidationError", async () => {
    const outcome = await check.invoke({
      check: { kind: "http", name: "bad-spec", url: "not a url", method: null, timeout_seconds: 0 },
    });
    expect(outcome).toMatchObject({ ok: false, errorType: "MackerelValidationError" });
    expect(lastReport("bad-spec")).toMatchObject({ status: "UNKNOWN" });
    expect(lastReport("bad-spec")!.message).toContain("check.url: must be an http:// or https:// URL");
  });

  test("the tick needs the state table: without STATE_TABLE_NAME it fails naming the variable", async () => {
    expect(await check.invoke({ tick: {} })).toEqual({
      ok: false,
      errorType: "ConfigurationError",
      errorMessage: "STATE_TABLE_NAME: is required by the tick (per-minute counts and rule state)",
    });
  });

  test("unknown shapes are refused without a report", async () => {
    const before = mackerel.checkReports().length;
    for (const event of [{}, { checks: [] }, { check: { kind: "ping" } }, "x"]) {
      expect(await check.invoke(event)).toMatchObject({ ok: false, errorType: "MackerelValidationError" });
    }
    expect(mackerel.checkReports()).toHaveLength(before);
  });
});

test("the AWS SDK clients are loaded lazily: the entry point imports neither statically", () => {
  const files = unzipSync(readFileSync(join(DIST_DIR, "check.zip")));
  const text = (name: string) => new TextDecoder().decode(files[name]);
  const staticImports = (name: string) =>
    [...text(name).matchAll(/(?:import|from)\s*["'](\.\/[^"']+)["']/g)].map((m) => join(name, "..", m[1]!));
  const dynamicImports = (name: string) =>
    [...text(name).matchAll(/import\(\s*["'](\.\/[^"']+)["']\s*\)/g)].map((m) => join(name, "..", m[1]!));
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const next of staticImports(name)) visit(next);
  };
  visit("index.mjs");
  const eager = [...seen].map(text).join("\n");
  expect(eager).not.toContain("Logs_20140328");
  expect(eager).not.toContain("AWSStepFunctions");
  const lazy = dynamicImports("index.mjs").map(text).join("\n");
  expect(lazy).toMatch(/Logs_20140328|client-cloudwatch-logs|StartQuery/);
});
