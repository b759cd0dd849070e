/**
 * The metric handler loaded from the BUILT zip (modules/mackerel-serverless/dist/metric.zip) in a
 * Lambda-like process, reading its key from the local Secrets Manager stand-in and posting to the
 * local Mackerel server. Assertions are on what the server recorded.
 */
import { LocalAwsJsonServer, secretsManagerHandlers } from "../../../scripts/local/aws-json-server";
import { LocalLambda } from "../../../scripts/local/lambda-runner";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-api-key-AbCdEf";
const KEY_1 = "handler-first-key-0123456789";
const KEY_2 = "handler-rotated-key-9876543210";
const CUSTOM_IDENTIFIER = "mackerel-serverless/us-east-1/123456789012/handler-test";
const GET_SECRET = "secretsmanager.GetSecretValue";

let mackerel: LocalMackerelServer;
let aws: LocalAwsJsonServer;
const secrets = new Map<string, string>();
const lambdas: LocalLambda[] = [];

async function startMetric(extraEnv: Record<string, string> = {}): Promise<LocalLambda> {
  const lambda = await LocalLambda.start("metric", {
    env: {
      MACKEREL_API_KEY_SECRET_ARN: SECRET_ARN,
      MACKEREL_API_BASE_URL: mackerel.url,
      MACKEREL_SERVICE_NAME: "orders",
      MACKEREL_HOST_NAME: "handler-test",
      MACKEREL_HOST_CUSTOM_IDENTIFIER: CUSTOM_IDENTIFIER,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      ...extraEnv,
    },
  });
  lambdas.push(lambda);
  return lambda;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  mackerel = await LocalMackerelServer.start({ apiKeys: [KEY_1], services: ["orders", "billing"] });
  aws = await LocalAwsJsonServer.start(secretsManagerHandlers(secrets));
  secrets.set(SECRET_ARN, KEY_1);
});

afterAll(async () => {
  // No log line of any container ever held a key.
  for (const lambda of lambdas) {
    for (const line of lambda.logs) {
      expect(line).not.toContain(KEY_1);
      expect(line).not.toContain(KEY_2);
    }
  }
  await Promise.all(lambdas.map((l) => l.stop()));
  await mackerel.close();
  await aws.close();
});

describe("the metric function from its built zip", () => {
  let metric: LocalLambda;

  beforeAll(async () => {
    mackerel.reset();
    metric = await startMetric();
  });

  test("the well-known single-metric form posts one service metric at now, in whole seconds", async () => {
    const before = nowSeconds();
    const result = await metric.invokeOrThrow({
      "service-name": "orders",
      "metric-name": "jobs.a.failed",
      "metric-value": 1,
    });
    const after = nowSeconds();
    expect(result).toEqual({ posted: { serviceMetrics: 1, hostMetrics: 0, checkReports: 0 }, spooled: false });
    const [point] = mackerel.serviceMetrics("orders");
    expect(point).toMatchObject({ service: "orders", name: "jobs.a.failed", value: 1 });
    expect(Number.isInteger(point!.time)).toBe(true);
    expect(point!.time).toBeGreaterThanOrEqual(before);
    expect(point!.time).toBeLessThanOrEqual(after);
    // Only metrics: no host was looked up or registered.
    expect(mackerel.hosts()).toEqual([]);
  });

  test("the shorthand form, to another service", async () => {
    await metric.invokeOrThrow({ name: "queue.depth", value: 42.5, service: "billing", time: nowSeconds() - 120 });
    expect(mackerel.serviceMetrics("billing")).toEqual([
      { service: "billing", name: "queue.depth", value: 42.5, time: expect.any(Number) },
    ]);
  });

  test("the canonical form: service metrics, host metrics on the registered host, check reports", async () => {
    const result = await metric.invokeOrThrow({
      metrics: [
        { name: "jobs.b.failed", value: 0 },
        { name: "jobs.b.duration", value: 12.5 },
      ],
      hostMetrics: [{ name: "custom.pipeline.runs", value: 1 }],
      checks: [
        { name: "job-a", status: "CRITICAL", message: "job a failed 🐟", notificationInterval: 10 },
        { name: "job-b", status: "OK", message: "fine" },
      ],
    });
    expect(result).toEqual({ posted: { serviceMetrics: 2, hostMetrics: 1, checkReports: 2 }, spooled: false });

    // The host was looked up by its custom identifier and, not found, registered once.
    const hosts = mackerel.hosts();
    expect(hosts).toHaveLength(1);
    expect(hosts[0]).toMatchObject({ name: "handler-test", customIdentifier: CUSTOM_IDENTIFIER });
    const hostId = hosts[0]!.id;

    expect(mackerel.serviceMetrics("orders").map((m) => [m.name, m.value])).toEqual(
      expect.arrayContaining([
        ["jobs.b.failed", 0],
        ["jobs.b.duration", 12.5],
      ]),
    );
    expect(mackerel.hostMetrics(hostId)).toEqual([
      { hostId, name: "custom.pipeline.runs", value: 1, time: expect.any(Number) },
    ]);
    expect(
      mackerel.checkReports().map((r) => ({ hostId: r.hostId, name: r.name, status: r.status, message: r.message })),
    ).toEqual([
      { hostId, name: "job-a", status: "CRITICAL", message: "job a failed 🐟" },
      { hostId, name: "job-b", status: "OK", message: "fine" },
    ]);
    expect(mackerel.checkReports()[0]!.notificationInterval).toBe(10);
    expect(mackerel.openAlerts()).toEqual([expect.objectContaining({ checkName: "job-a", status: "CRITICAL" })]);
  });

  test("the host is resolved once per container", async () => {
    const before = mackerel.requests.length;
    await metric.invokeOrThrow({ checks: [{ name: "job-c", status: "WARNING" }] });
    const paths = mackerel.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(["POST /api/v0/monitoring/checks/report"]);
    expect(mackerel.hosts()).toHaveLength(1);
  });

  test("a new container finds the existing host by custom identifier instead of registering another", async () => {
    const fresh = await startMetric();
    const before = mackerel.requests.length;
    await fresh.invokeOrThrow({ checks: [{ name: "job-d", status: "OK" }] });
    const paths = mackerel.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual([
      `GET /api/v0/hosts-by-custom-identifier/${encodeURIComponent(CUSTOM_IDENTIFIER)}`,
      "POST /api/v0/monitoring/checks/report",
    ]);
    expect(mackerel.hosts()).toHaveLength(1);
    expect(mackerel.checkReports().at(-1)).toMatchObject({ name: "job-d", hostId: mackerel.hosts()[0]!.id });
  });

  test("a fixed host id (MACKEREL_HOST_ID) needs no look-up", async () => {
    const hostId = mackerel.addHost({ name: "fixed" });
    const fixed = await startMetric({ MACKEREL_HOST_ID: hostId });
    const before = mackerel.requests.length;
    await fixed.invokeOrThrow({ hostMetrics: [{ name: "custom.fixed.x", value: 3 }] });
    expect(mackerel.requests.slice(before).map((r) => r.path)).toEqual(["/api/v0/tsdb"]);
    expect(mackerel.hostMetrics(hostId)).toHaveLength(1);
  });

  test("logs are Lambda JSON records and say what was posted", async () => {
    const posted = metric.jsonLogs().filter((r) => r.message === "posted");
    expect(posted.length).toBeGreaterThan(0);
    expect(posted[0]).toMatchObject({ level: "INFO", function: "metric", serviceMetrics: 1, spooled: false });
  });
});

describe("errors come out with the errorType Step Functions matches on", () => {
  let metric: LocalLambda;

  beforeAll(async () => {
    mackerel.reset();
    metric = await startMetric();
  });
  afterEach(() => mackerel.setOutage(false));

  test.each([
    [{ "metric-name": "bad name", "metric-value": 1 }, "metric-name: must match [a-zA-Z0-9._-]+"],
    [{ "metric-name": "m", "metric-value": "1" }, "metric-value: must be a number"],
    [{ name: "m", value: 1, time: Date.now() }, "looks like milliseconds"],
    [{}, "payload: nothing to post"],
    [{ metrics: [{ name: "m", value: 1 }], extra: 1 }, 'payload: unknown field "extra"'],
  ])("invalid input %j → MackerelValidationError", async (event, message) => {
    const outcome = await metric.invoke(event);
    expect(outcome).toMatchObject({ ok: false, errorType: "MackerelValidationError" });
    expect(outcome.ok ? "" : outcome.errorMessage).toContain(message);
  });

  test("an unknown service → MackerelRejectedError with Mackerel's message", async () => {
    const before = mackerel.requests.length;
    const outcome = await metric.invoke({ "service-name": "no-such-service", "metric-name": "m", "metric-value": 1 });
    expect(outcome).toMatchObject({ ok: false, errorType: "MackerelRejectedError" });
    expect(outcome.ok ? "" : outcome.errorMessage).toContain("404: Service not found: no-such-service");
    expect(mackerel.requests.length - before).toBe(1); // not retried
  });

  test("a Mackerel outage → MackerelUnavailableError after the in-call retries (no spool configured)", async () => {
    mackerel.setOutage(true);
    const before = mackerel.requests.length;
    const outcome = await metric.invoke({ "metric-name": "m", "metric-value": 1 });
    expect(outcome).toMatchObject({ ok: false, errorType: "MackerelUnavailableError" });
    expect(outcome.ok ? "" : outcome.errorMessage).toContain("503");
    expect(mackerel.requests.length - before).toBeGreaterThan(1);
    expect(mackerel.serviceMetrics()).toEqual([]);
  });

  test("after the outage the same container posts again", async () => {
    await metric.invokeOrThrow({ "metric-name": "m", "metric-value": 1 });
    expect(mackerel.serviceMetrics("orders")).toHaveLength(1);
  });
});

describe("API key rotation without a restart", () => {
  test("rotated in Secrets Manager and the old key revoked: the next invocation succeeds", async () => {
    mackerel.reset();
    mackerel.setApiKeys([KEY_1]);
    secrets.set(SECRET_ARN, KEY_1);
    const metric = await startMetric();
    await metric.invokeOrThrow({ "metric-name": "before.rotation", "metric-value": 1 });
    const reads = aws.callsTo(GET_SECRET).length;

    secrets.set(SECRET_ARN, JSON.stringify({ MACKEREL_API_KEY: KEY_2 }));
    mackerel.setApiKeys([KEY_2]);

    const result = await metric.invokeOrThrow({ "metric-name": "after.rotation", "metric-value": 1 });
    expect(result).toMatchObject({ posted: { serviceMetrics: 1 } });
    expect(mackerel.serviceMetrics("orders").map((m) => m.name)).toEqual(["after.rotation", "before.rotation"]);
    expect(aws.callsTo(GET_SECRET).length - reads).toBe(1);
    expect(mackerel.requests.slice(-2).map((r) => r.status)).toEqual([403, 200]);

    // The new key is kept: no further reads.
    await metric.invokeOrThrow({ "metric-name": "later", "metric-value": 1 });
    expect(aws.callsTo(GET_SECRET).length - reads).toBe(1);
  });

  test("the key is read once per container, not per invocation", async () => {
    secrets.set(SECRET_ARN, KEY_2);
    mackerel.setApiKeys([KEY_2]);
    const metric = await startMetric();
    const reads = aws.callsTo(GET_SECRET).length;
    for (let i = 0; i < 3; i++) await metric.invokeOrThrow({ "metric-name": `m${i}`, "metric-value": i });
    expect(aws.callsTo(GET_SECRET).length - reads).toBe(1);
  });
});
