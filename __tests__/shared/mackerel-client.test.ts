/**
 * The Mackerel client against the strict local Mackerel server: every write kind, batching, refusals,
 * retries, Retry-After, timeouts, resets, the invocation's deadline, key rotation on 403 — and the API
 * key never showing in an error or a log line.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type ApiKeySource, SecretsManagerApiKey, StaticApiKey } from "../../functions/shared/api-key";
import { MackerelRejectedError, MackerelUnavailableError } from "../../functions/shared/errors";
import {
  type CheckReport,
  extractErrorMessage,
  MackerelClient,
  type MackerelClientOptions,
} from "../../functions/shared/mackerel-client";
import {
  LOCAL_AWS_CLIENT_CONFIG,
  LocalAwsJsonServer,
  secretsManagerHandlers,
} from "../../scripts/local/aws-json-server";
import { LocalMackerelServer } from "../../scripts/local/mackerel";

const KEY = "client-test-key-0123456789";
const OLD_KEY = "rotating-old-key-0123456789";
const NEW_KEY = "rotating-new-key-9876543210";
const ALL_KEYS = [KEY, OLD_KEY, NEW_KEY];
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-AbCdEf";

let server: LocalMackerelServer;
const consoleLines: string[] = [];
const spies: jest.SpyInstance[] = [];

beforeAll(async () => {
  server = await LocalMackerelServer.start({ apiKeys: [KEY], services: ["orders"] });
  for (const level of ["debug", "info", "log", "warn", "error"] as const) {
    spies.push(
      jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        consoleLines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      }),
    );
  }
});
afterAll(async () => {
  for (const spy of spies) spy.mockRestore();
  await server.close();
});
beforeEach(() => server.reset());
afterEach(() => {
  // Nothing the client or the code under it printed holds a key.
  for (const line of consoleLines) for (const key of ALL_KEYS) expect(line).not.toContain(key);
});

const now = () => Math.floor(Date.now() / 1000);

function client(options: Partial<MackerelClientOptions> = {}): MackerelClient {
  return new MackerelClient({
    baseUrl: server.url,
    apiKey: new StaticApiKey(KEY),
    backoffBaseMs: 5,
    backoffCapMs: 20,
    timeoutMs: 2000,
    ...options,
  });
}

/** The error a promise rejects with; fails when it resolves. Checks that no key is anywhere in it. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e as Error,
  );
  expectNoKey(error);
  return error;
}

function expectNoKey(error: unknown): void {
  const seen = new Set<unknown>();
  const texts: string[] = [];
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    texts.push(String(current), JSON.stringify(current, Object.getOwnPropertyNames(current)));
    current = (current as { cause?: unknown }).cause;
  }
  for (const text of texts) for (const key of ALL_KEYS) expect(text).not.toContain(key);
}

const requestsTo = (path: string) => server.requests.filter((r) => r.path === path);
const reportsPath = "/api/v0/monitoring/checks/report";
const ordersPath = "/api/v0/services/orders/tsdb";

describe("writes", () => {
  test("service metrics go to the service's tsdb with integer seconds", async () => {
    const t = now();
    await client().send({
      kind: "serviceMetrics",
      service: "orders",
      points: [
        { name: "jobs.a.failed", time: t, value: 1 },
        { name: "jobs.b.failed", time: t, value: 0 },
      ],
    });
    expect(server.serviceMetrics("orders")).toEqual([
      { service: "orders", name: "jobs.a.failed", time: t, value: 1 },
      { service: "orders", name: "jobs.b.failed", time: t, value: 0 },
    ]);
    expect(requestsTo(ordersPath)).toHaveLength(1);
  });

  test("service names are URL-encoded into the path", async () => {
    server.addService("svc_with-odd_chars");
    await client().postServiceMetrics("svc_with-odd_chars", [{ name: "m", time: now(), value: 3 }]);
    expect(server.serviceMetrics("svc_with-odd_chars")).toHaveLength(1);
  });

  test("more than 1000 points are split into requests of at most 1000", async () => {
    const t = now();
    const points = Array.from({ length: 2500 }, (_, i) => ({ name: `m${i}`, time: t, value: i }));
    await client().postServiceMetrics("orders", points);
    expect(requestsTo(ordersPath).map((r) => (r.body as unknown[]).length)).toEqual([1000, 1000, 500]);
    expect(server.serviceMetrics("orders")).toHaveLength(2500);
  });

  test("a host is registered, then found by its custom identifier; unknown identifiers are undefined", async () => {
    const c = client();
    expect(await c.findHostByCustomIdentifier("mackerel-serverless/us-east-1/123/x")).toBeUndefined();
    const id = await c.registerHost({
      name: "mackerel-serverless",
      customIdentifier: "mackerel-serverless/us-east-1/123/x",
      meta: { agent_name: "mackerel-serverless" },
    });
    expect(await c.findHostByCustomIdentifier("mackerel-serverless/us-east-1/123/x")).toBe(id);
    expect(server.hosts()).toEqual([
      expect.objectContaining({
        id,
        name: "mackerel-serverless",
        customIdentifier: "mackerel-serverless/us-east-1/123/x",
      }),
    ]);
    // The slashes of the identifier were percent-encoded into one path segment.
    expect(server.requests[0]!.path).toBe(
      "/api/v0/hosts-by-custom-identifier/mackerel-serverless%2Fus-east-1%2F123%2Fx",
    );
  });

  test("host metrics go to /api/v0/tsdb", async () => {
    const hostId = server.addHost({ name: "h" });
    const t = now();
    await client().send({
      kind: "hostMetrics",
      points: [{ hostId, name: "custom.pipeline.heartbeat", time: t, value: 1 }],
    });
    expect(server.hostMetrics(hostId)).toEqual([{ hostId, name: "custom.pipeline.heartbeat", time: t, value: 1 }]);
  });

  test("check reports are batched into requests of at most 100", async () => {
    const hostId = server.addHost({ name: "h" });
    const t = now();
    const reports: CheckReport[] = Array.from({ length: 250 }, (_, i) => ({
      source: { type: "host", hostId },
      name: `check-${i}`,
      status: i % 2 ? "OK" : "CRITICAL",
      message: `report ${i}`,
      occurredAt: t,
    }));
    await client().send({ kind: "checkReports", reports });
    expect(requestsTo(reportsPath).map((r) => (r.body as { reports: unknown[] }).reports.length)).toEqual([
      100, 100, 50,
    ]);
    expect(server.checkReports()).toHaveLength(250);
    expect(server.checkReports()[0]).toMatchObject({
      hostId,
      name: "check-0",
      status: "CRITICAL",
      message: "report 0",
    });
  });

  test("exactly 100 reports take one request; none take none", async () => {
    const hostId = server.addHost({ name: "h" });
    const reports: CheckReport[] = Array.from({ length: 100 }, (_, i) => ({
      source: { type: "host", hostId },
      name: `c${i}`,
      status: "OK",
      message: "",
      occurredAt: now(),
    }));
    await client().postCheckReports(reports);
    await client().postCheckReports([]);
    expect(requestsTo(reportsPath)).toHaveLength(1);
  });
});

describe("refusals are permanent", () => {
  test("an unknown service is a 404 MackerelRejectedError with Mackerel's message, not retried", async () => {
    const error = await failure(client().postServiceMetrics("no-such-service", [{ name: "m", time: now(), value: 1 }]));
    expect(error).toBeInstanceOf(MackerelRejectedError);
    expect(error.name).toBe("MackerelRejectedError");
    const rejected = error as MackerelRejectedError;
    expect(rejected.status).toBe(404);
    expect(rejected.mackerelMessage).toBe("Service not found: no-such-service");
    expect(rejected.message).toBe(
      "Mackerel refused POST /api/v0/services/no-such-service/tsdb answered 404: Service not found: no-such-service",
    );
    expect(server.requests).toHaveLength(1);
  });

  test("a 400 (bad name) is refused at once with Mackerel's reason", async () => {
    const error = (await failure(
      client().postServiceMetrics("orders", [{ name: "bad name", time: now(), value: 1 }]),
    )) as MackerelRejectedError;
    expect(error).toBeInstanceOf(MackerelRejectedError);
    expect(error.status).toBe(400);
    expect(error.mackerelMessage).toMatch(/does not match/);
    expect(server.requests).toHaveLength(1);
  });

  test("host metrics for an unknown host are refused (404)", async () => {
    const error = (await failure(
      client().postHostMetrics([{ hostId: "nohost12345", name: "custom.x", time: now(), value: 1 }]),
    )) as MackerelRejectedError;
    expect(error.status).toBe(404);
    expect(server.requests).toHaveLength(1);
  });

  test.each([400, 404, 405, 409, 413, 422])("an injected %d is not retried", async (status) => {
    server.injectFaults({ mode: "status", status, message: `nope ${status}`, count: 5 });
    const error = (await failure(
      client().postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]),
    )) as MackerelRejectedError;
    expect(error).toBeInstanceOf(MackerelRejectedError);
    expect(error.status).toBe(status);
    expect(error.mackerelMessage).toBe(`nope ${status}`);
    expect(server.requests).toHaveLength(1);
  });
});

describe("retryable failures", () => {
  test.each([500, 502, 503, 504, 429])("%d is retried and then succeeds", async (status) => {
    server.injectFaults({ mode: "status", status, count: 2 });
    const t = now();
    await client().postServiceMetrics("orders", [{ name: "m", time: t, value: 7 }]);
    expect(server.requests.map((r) => r.status)).toEqual([status, status, 200]);
    expect(server.serviceMetrics("orders")).toEqual([{ service: "orders", name: "m", time: t, value: 7 }]);
  });

  test("a failure that outlasts the retries is a MackerelUnavailableError with the last status", async () => {
    server.injectFaults({ mode: "status", status: 503, message: "down for maintenance", count: Infinity });
    const error = (await failure(
      client({ maxAttempts: 3 }).postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]),
    )) as MackerelUnavailableError;
    expect(error).toBeInstanceOf(MackerelUnavailableError);
    expect(error.name).toBe("MackerelUnavailableError");
    expect(error.status).toBe(503);
    expect(error.message).toBe(
      "Mackerel unavailable: POST /api/v0/services/orders/tsdb answered 503: down for maintenance",
    );
    expect(server.requests).toHaveLength(3);
    expect(server.serviceMetrics()).toEqual([]);
  });

  test("an outage (every write 503) is unavailable; reads still work", async () => {
    server.setOutage(true);
    const c = client({ maxAttempts: 2 });
    const error = await failure(c.postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]));
    expect(error).toBeInstanceOf(MackerelUnavailableError);
    expect(await c.findHostByCustomIdentifier("nobody")).toBeUndefined();
  });

  test("Retry-After (seconds) is honoured: the client waits that long before the next attempt", async () => {
    server.injectFaults({ mode: "status", status: 503, retryAfter: 1, count: 1 });
    const started = Date.now();
    await client({ random: () => 0 }).postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]);
    const [first, second] = server.requests;
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(990);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(server.serviceMetrics("orders")).toHaveLength(1);
  });

  test("Retry-After as an HTTP date is honoured on 429", async () => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000);
    server.injectFaults({ mode: "status", status: 429, retryAfter: at.toUTCString(), count: 1 });
    await client({ random: () => 0 }).postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]);
    const [first, second] = server.requests;
    expect(second!.receivedAt).toBeGreaterThanOrEqual(at.getTime() - 10);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThan(900);
  });

  test("without Retry-After the jittered backoff is short", async () => {
    server.injectFaults({ mode: "status", status: 503, count: 1 });
    const started = Date.now();
    await client().postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]);
    expect(Date.now() - started).toBeLessThan(500);
  });

  test("a request slower than timeoutMs is abandoned and retried", async () => {
    server.injectFaults({ mode: "delay", ms: 1500, thenStatus: 503, count: 1 });
    const started = Date.now();
    await client({ timeoutMs: 200 }).postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]);
    expect(Date.now() - started).toBeLessThan(1200);
    expect(server.serviceMetrics("orders")).toHaveLength(1);
  });

  test("timeouts that outlast the retries are unavailable, reported as timed out", async () => {
    server.injectFaults({ mode: "delay", ms: 3000, thenStatus: 503, count: Infinity });
    const started = Date.now();
    const error = (await failure(
      client({ timeoutMs: 150, maxAttempts: 3 }).postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]),
    )) as MackerelUnavailableError;
    expect(Date.now() - started).toBeLessThan(1500);
    expect(error).toBeInstanceOf(MackerelUnavailableError);
    expect(error.message).toBe("Mackerel unavailable: POST /api/v0/services/orders/tsdb failed: timed out");
    expect(error.status).toBeUndefined();
    expect(server.requests).toHaveLength(3);
  });

  test("a connection reset is retried", async () => {
    server.injectFaults({ mode: "reset", count: 1 });
    await client().postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]);
    expect(server.requests.map((r) => r.responded)).toEqual([false, true]);
    expect(server.serviceMetrics("orders")).toHaveLength(1);
  });

  test("resets that outlast the retries are unavailable with the network error's code", async () => {
    server.injectFaults({ mode: "reset", count: Infinity });
    const error = await failure(
      client({ maxAttempts: 2 }).postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]),
    );
    expect(error).toBeInstanceOf(MackerelUnavailableError);
    expect(error.message).toMatch(/^Mackerel unavailable: POST \/api\/v0\/services\/orders\/tsdb failed: \S+/);
    expect(error.message).not.toContain("timed out");
    expect(server.requests).toHaveLength(2);
  });

  test("a lost response (Mackerel did the work) is retried safely: one value per (name, time)", async () => {
    server.injectFaults({ mode: "acceptThenReset", count: 1 });
    const t = now();
    await client().postServiceMetrics("orders", [{ name: "m", time: t, value: 5 }]);
    expect(server.serviceMetrics("orders")).toEqual([{ service: "orders", name: "m", time: t, value: 5 }]);
    expect(server.writeCount("serviceMetric", { service: "orders", name: "m", time: t })).toBe(2);
  });

  test("nothing listening is unavailable (connection refused)", async () => {
    const gone = await LocalMackerelServer.start();
    const url = gone.url;
    await gone.close();
    const error = await failure(
      new MackerelClient({ baseUrl: url, apiKey: new StaticApiKey(KEY), maxAttempts: 2, backoffBaseMs: 1 }).request(
        "GET",
        "api/v0/services",
      ),
    );
    expect(error).toBeInstanceOf(MackerelUnavailableError);
    expect(error.message).toContain("ECONNREFUSED");
  });
});

describe("the invocation's deadline", () => {
  const deadline = (ms: number) => {
    const end = Date.now() + ms;
    return () => end - Date.now();
  };

  test("a Retry-After beyond the remaining time makes the client give up at once", async () => {
    server.injectFaults({ mode: "status", status: 503, retryAfter: 30, count: Infinity });
    const started = Date.now();
    const error = await failure(
      client({ remainingTime: deadline(4000), reserveMs: 500 }).postServiceMetrics("orders", [
        { name: "m", time: now(), value: 1 },
      ]),
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(MackerelUnavailableError);
    expect(server.requests).toHaveLength(1);
  });

  test("retries stop when the remaining time runs out, well before maxAttempts", async () => {
    server.injectFaults({ mode: "status", status: 500, count: Infinity });
    const started = Date.now();
    const error = await failure(
      client({
        remainingTime: deadline(2500),
        reserveMs: 500,
        maxAttempts: 100,
        backoffBaseMs: 200,
        backoffCapMs: 400,
        random: () => 0.99,
      }).postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]),
    );
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(MackerelUnavailableError);
    expect(elapsed).toBeLessThan(2000); // returns with the reserve left
    expect(server.requests.length).toBeGreaterThan(1);
    expect(server.requests.length).toBeLessThan(100);
  });

  test("a request's timeout is cut to the time left", async () => {
    server.injectFaults({ mode: "delay", ms: 5000, thenStatus: 503, count: Infinity });
    const started = Date.now();
    const error = await failure(
      client({ remainingTime: deadline(1500), reserveMs: 500, timeoutMs: 10_000 }).postServiceMetrics("orders", [
        { name: "m", time: now(), value: 1 },
      ]),
    );
    expect(error).toBeInstanceOf(MackerelUnavailableError);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  test("with no time left beyond the reserve, nothing is sent", async () => {
    const error = await failure(
      client({ remainingTime: () => 1000, reserveMs: 1500 }).postServiceMetrics("orders", [
        { name: "m", time: now(), value: 1 },
      ]),
    );
    expect(error).toBeInstanceOf(MackerelUnavailableError);
    expect(error.message).toContain("no attempt made");
    expect(server.requests).toHaveLength(0);
  });

  test("withRemainingTime() binds another invocation's deadline", async () => {
    const base = client();
    const bound = base.withRemainingTime(() => 100);
    await expect(bound.postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }])).rejects.toBeInstanceOf(
      MackerelUnavailableError,
    );
    await base.postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]);
    expect(server.requests).toHaveLength(1);
  });
});

describe("API key rotation", () => {
  let aws: LocalAwsJsonServer;
  const secrets = new Map<string, string>();
  let sdk: SecretsManagerClient;

  beforeAll(async () => {
    aws = await LocalAwsJsonServer.start(secretsManagerHandlers(secrets));
    sdk = new SecretsManagerClient({
      endpoint: aws.url,
      ...LOCAL_AWS_CLIENT_CONFIG,
    });
  });
  afterAll(async () => {
    sdk.destroy();
    await aws.close();
  });
  beforeEach(() => {
    aws.calls.length = 0;
    secrets.set(SECRET_ARN, OLD_KEY);
    server.setApiKeys([OLD_KEY]);
  });

  const rotatingClient = (apiKey: ApiKeySource) => client({ apiKey });

  test("after rotation, a 403 makes the client re-read the key once and the request succeeds", async () => {
    const apiKey = new SecretsManagerApiKey(SECRET_ARN, sdk);
    const c = rotatingClient(apiKey);
    const t = now();
    await c.postServiceMetrics("orders", [{ name: "before", time: t, value: 1 }]);

    secrets.set(SECRET_ARN, JSON.stringify({ MACKEREL_API_KEY: NEW_KEY }));
    server.setApiKeys([NEW_KEY]); // the old key is revoked

    await c.postServiceMetrics("orders", [{ name: "after", time: t, value: 2 }]);
    expect(server.requests.map((r) => [r.status, r.apiKeyValid])).toEqual([
      [200, true],
      [403, false],
      [200, true],
    ]);
    expect(server.serviceMetrics("orders").map((m) => m.name)).toEqual(["after", "before"]);
    expect(aws.callsTo("secretsmanager.GetSecretValue")).toHaveLength(2);
    // And the new key sticks: no further reads.
    await c.postServiceMetrics("orders", [{ name: "later", time: t, value: 3 }]);
    expect(aws.callsTo("secretsmanager.GetSecretValue")).toHaveLength(2);
  });

  test("the same works when Mackerel answers 401", async () => {
    const strict = await LocalMackerelServer.start({
      apiKeys: [OLD_KEY],
      services: ["orders"],
      authFailureStatus: 401,
    });
    try {
      const c = new MackerelClient({ baseUrl: strict.url, apiKey: new SecretsManagerApiKey(SECRET_ARN, sdk) });
      await c.postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]);
      secrets.set(SECRET_ARN, NEW_KEY);
      strict.setApiKeys([NEW_KEY]);
      await c.postServiceMetrics("orders", [{ name: "n", time: now(), value: 1 }]);
      expect(strict.requests.map((r) => r.status)).toEqual([200, 401, 200]);
    } finally {
      await strict.close();
    }
  });

  test("a revoked key that was not rotated in Secrets Manager is refused after one re-read, not looped", async () => {
    const c = rotatingClient(new SecretsManagerApiKey(SECRET_ARN, sdk));
    server.setApiKeys([NEW_KEY]);
    const error = (await failure(
      c.postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]),
    )) as MackerelRejectedError;
    expect(error).toBeInstanceOf(MackerelRejectedError);
    expect(error.status).toBe(403);
    expect(error.mackerelMessage).toBe("Authentication failed: invalid API key");
    expect(server.requests).toHaveLength(1);
    expect(aws.callsTo("secretsmanager.GetSecretValue")).toHaveLength(2);
  });

  test("a key rotated to another revoked key is refused after one re-read", async () => {
    const c = rotatingClient(new SecretsManagerApiKey(SECRET_ARN, sdk));
    await c.findHostByCustomIdentifier("x");
    secrets.set(SECRET_ARN, NEW_KEY);
    server.setApiKeys([KEY]);
    const error = (await failure(
      c.postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]),
    )) as MackerelRejectedError;
    expect(error.status).toBe(403);
    expect(server.requests.slice(1).map((r) => r.status)).toEqual([403, 403]);
  });

  test("a read-only key is refused (403) with Mackerel's reason", async () => {
    server.setApiKeys([], [OLD_KEY]);
    const error = (await failure(
      rotatingClient(new SecretsManagerApiKey(SECRET_ARN, sdk)).postServiceMetrics("orders", [
        { name: "m", time: now(), value: 1 },
      ]),
    )) as MackerelRejectedError;
    expect(error.status).toBe(403);
    expect(error.mackerelMessage).toBe("This API key does not have write permission");
  });
});

describe("extractErrorMessage", () => {
  test.each([
    [{ error: { message: "Service not found" } }, "Service not found"],
    [{ error: "plain" }, "plain"],
    // A raw (non-JSON) body is never carried into an error.
    ["  text body  ", undefined],
    [{ error: { message: "  two\n  lines  " } }, "two lines"],
    [{ error: { message: "x".repeat(1000) } }, `${"x".repeat(299)}…`],
    ["", undefined],
    [{ error: { code: 1 } }, undefined],
    [undefined, undefined],
    [{ message: "other shape" }, undefined],
  ])("%j → %p", (body, message) => {
    expect(extractErrorMessage(body)).toBe(message);
  });
});

test("the key is sent only in X-Api-Key, never in the URL or body", async () => {
  await client().postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]);
  const [request] = server.requests;
  expect(request!.apiKeyValid).toBe(true);
  expect(JSON.stringify(request)).not.toContain(KEY);
});
