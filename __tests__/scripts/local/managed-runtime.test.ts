/**
 * The built zips under AWS's own runtime interface client (`aws-lambda-ric`, the managed Node.js runtime's
 * bootstrap), on Node 22 (`nodejs22.x`, the module's default) and Node 24 (`nodejs24.x`), through a local
 * Runtime API: what Step Functions sees as `errorType`, the deadline, Lambda's JSON log format, a container
 * killed at its timeout and replaced by a cold start.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { LocalAwsJsonServer, secretsManagerHandlers } from "../../../scripts/local/aws-json-server";
import { type LambdaNodeVersion, LocalLambda, runtimeNodeArgs } from "../../../scripts/local/lambda-runner";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-api-key-AbCdEf";
const API_KEY = "managed-runtime-key-0123456789";
const FUNCTIONS = ["metric", "logs", "check", "sender"] as const;
const NODES: LambdaNodeVersion[] = ["22", "24"];

let mackerel: LocalMackerelServer;
let aws: LocalAwsJsonServer;
const lambdas: LocalLambda[] = [];
let scratch: string;

async function start(name: string, options: Parameters<typeof LocalLambda.start>[1]): Promise<LocalLambda> {
  const lambda = await LocalLambda.start(name, options);
  lambdas.push(lambda);
  return lambda;
}

/** A zip with one handler, for what the runtime does whatever the function (timeouts, crashes, versions). */
function probeZip(name: string, source: string): string {
  const path = join(scratch, `${name}.zip`);
  writeFileSync(path, zipSync({ "index.mjs": strToU8(source) }));
  return path;
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "managed-runtime-"));
  mackerel = await LocalMackerelServer.start({ apiKeys: [API_KEY], services: ["orders"] });
  aws = await LocalAwsJsonServer.start(secretsManagerHandlers(new Map([[SECRET_ARN, API_KEY]])));
});

afterAll(async () => {
  await Promise.all(lambdas.map((l) => l.stop()));
  await mackerel.close();
  await aws.close();
  rmSync(scratch, { recursive: true, force: true });
});

test("the tests themselves run on the project's pinned Node 22 (npm scripts must not pick up Node 24)", () => {
  expect(process.version).toMatch(/^v22[.]/);
});

test("the container's heap limits are those of the managed runtime's bootstrap", () => {
  expect(runtimeNodeArgs(256)).toEqual([
    "--expose-gc",
    "--max-http-header-size",
    "81920",
    "--max-semi-space-size=12",
    "--max-old-space-size=231",
  ]);
  expect(runtimeNodeArgs(128, 64)).toContain("--max-old-space-size=64");
});

describe.each(NODES)("on Node %s", (node) => {
  test.each(FUNCTIONS)("the %s zip initializes under aws-lambda-ric", async (name) => {
    const lambda = await start(name, { node });
    expect(lambda.initMs).toBeGreaterThan(0);
    expect((await lambda.stats()).maxRssBytes).toBeGreaterThan(10 * 1024 * 1024);
  });

  test("the runtime reports its Node.js version and the deadline to the handler", async () => {
    const probe = await start("probe", {
      node,
      timeoutMs: 5000,
      zipPath: probeZip(
        `probe-${node}`,
        `export const handler = async (_event, context) => ({ version: process.version,
           remaining: context.getRemainingTimeInMillis(), env: process.env.AWS_EXECUTION_ENV });`,
      ),
    });
    const result = (await probe.invokeOrThrow({})) as { version: string; remaining: number; env: string };
    expect(result.version).toMatch(new RegExp(`^v${node}[.]`));
    expect(result.env).toBe(`AWS_Lambda_nodejs${node}.x`);
    expect(result.remaining).toBeGreaterThan(4000);
    expect(result.remaining).toBeLessThanOrEqual(5000);
  });

  test("the metric function posts to Mackerel and logs Lambda JSON records", async () => {
    const before = mackerel.serviceMetrics("orders").length;
    const metric = await start("metric", {
      node,
      env: {
        MACKEREL_API_KEY_SECRET_ARN: SECRET_ARN,
        MACKEREL_API_BASE_URL: mackerel.url,
        MACKEREL_SERVICE_NAME: "orders",
        MACKEREL_HOST_NAME: "managed-runtime",
        MACKEREL_HOST_CUSTOM_IDENTIFIER: `mackerel-serverless/managed-runtime/${node}`,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      },
    });
    expect(await metric.invokeOrThrow({ name: `runtime.node${node}`, value: 1 })).toMatchObject({
      posted: { serviceMetrics: 1 },
      spooled: false,
    });
    const posted = mackerel.serviceMetrics("orders").slice(before);
    expect(posted.map((p) => [p.name, p.value])).toEqual([[`runtime.node${node}`, 1]]);
    // Lambda's JSON log format: one record per line, with the request id of the invocation.
    // (Embedded-metric-format lines, with `_aws`, are written raw, as CloudWatch expects them.)
    const records = metric.logs
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => !("_aws" in record));
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) expect(Object.keys(record)).toEqual(expect.arrayContaining(["timestamp", "level"]));
    expect(records.some((r) => typeof r.requestId === "string" && r.requestId.length > 0)).toBe(true);
    for (const line of metric.logs) expect(line).not.toContain(API_KEY);

    // A named error thrown by the handler reaches the caller as errorType, as Step Functions matches on it.
    const invalid = await metric.invoke({ "metric-name": "bad name", "metric-value": 1 });
    expect(invalid).toMatchObject({ ok: false, errorType: "MackerelValidationError" });
  });
});

test("a handler past its deadline is stopped as Sandbox.Timedout; the next event gets a new container", async () => {
  const slow = await start("slow", {
    timeoutMs: 300,
    zipPath: probeZip(
      "slow",
      `let invocations = 0;
       export const handler = async (event) => { invocations += 1;
         if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
         return { invocations }; };`,
    ),
  });
  expect(await slow.invoke({ sleep: 5000 })).toEqual({
    ok: false,
    errorType: "Sandbox.Timedout",
    errorMessage: "Task timed out after 0.30 seconds",
  });
  // A fresh container: module state starts again.
  expect(await slow.invokeOrThrow({})).toEqual({ invocations: 1 });
  expect(slow.containers).toBe(2);
});

test("a process that dies mid-invocation is Runtime.ExitError; events are served one at a time", async () => {
  const crash = await start("crash", {
    zipPath: probeZip(
      "crash",
      `let running = 0;
       export const handler = async (event) => { running += 1; const seen = running;
         await new Promise((r) => setTimeout(r, 50)); running -= 1;
         if (event.exit) process.exit(3);
         return { concurrent: seen }; };`,
    ),
  });
  const results = await Promise.all([crash.invokeOrThrow({}), crash.invokeOrThrow({}), crash.invokeOrThrow({})]);
  expect(results).toEqual([{ concurrent: 1 }, { concurrent: 1 }, { concurrent: 1 }]);
  expect(await crash.invoke({ exit: true })).toEqual({
    ok: false,
    errorType: "Runtime.ExitError",
    errorMessage: "Runtime exited with error: exit status 3",
  });
});

test("an init error is reported by the runtime and fails the start", async () => {
  await expect(
    LocalLambda.start("broken", { zipPath: probeZip("broken", `throw new TypeError("no config");`) }),
  ).rejects.toThrow(/broken init failed: .*TypeError.*no config/);
});
