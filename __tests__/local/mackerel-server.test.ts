/**
 * The local Mackerel server, over real HTTP with Node's fetch: every validation rule, the silent 24 h /
 * 6 h windows under a controlled clock, the one-value rule, check report ordering and alerts, hosts,
 * services, graph definitions and annotations, and each fault injection mode.
 */
import {
  codePointLength,
  LocalMackerelServer,
  type LocalMackerelServerOptions,
  ManualClock,
  mulberry32,
} from "../../scripts/local/mackerel-server";

const KEY = "test-api-key";
const READ_ONLY_KEY = "read-only-key";
/** 2023-11-14T22:13:20Z, a whole second. */
const START_MS = 1_700_000_000_000;
const T = START_MS / 1000;
const HOUR = 3600;

interface CallOptions {
  /** API key; null sends none. */
  key?: string | null;
  /** Content-Type; null sends none. */
  contentType?: string | null;
  /** A body sent verbatim instead of JSON.stringify(body). */
  raw?: string;
  timeoutMs?: number;
}

interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
}

async function call(
  server: LocalMackerelServer,
  method: string,
  path: string,
  body?: unknown,
  options: CallOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  const key = options.key === undefined ? KEY : options.key;
  if (key !== null) headers["X-Api-Key"] = key;
  const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const contentType = options.contentType === undefined ? "application/json" : options.contentType;
  if (payload !== undefined && contentType !== null) headers["Content-Type"] = contentType;
  const response = await fetch(new URL(path, server.url), {
    method,
    headers,
    body: payload,
    signal: options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text), headers: response.headers };
}

const post = (server: LocalMackerelServer, path: string, body: unknown, options?: CallOptions) =>
  call(server, "POST", path, body, options);
const get = (server: LocalMackerelServer, path: string, options?: CallOptions) =>
  call(server, "GET", path, undefined, options);

function errorMessage(reply: Reply): string {
  const message = (reply.body as { error?: { message?: unknown } } | undefined)?.error?.message;
  if (typeof message !== "string") throw new Error(`no error message in ${JSON.stringify(reply.body)}`);
  return message;
}

function report(hostId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source: { type: "host", hostId },
    name: "my-check",
    status: "CRITICAL",
    message: "boom",
    occurredAt: T,
    ...overrides,
  };
}

const SERVICE_TSDB = "api/v0/services/my-service/tsdb";

describe("LocalMackerelServer", () => {
  let clock: ManualClock;
  let server: LocalMackerelServer;
  let hostId: string;

  async function restart(options: LocalMackerelServerOptions = {}): Promise<void> {
    await server.close();
    server = await LocalMackerelServer.start({ now: clock.now, readOnlyKeys: [READ_ONLY_KEY], ...options });
    hostId = server.addHost({ name: "pipeline", customIdentifier: "mackerel-serverless/test" });
  }

  beforeEach(async () => {
    clock = new ManualClock(START_MS);
    server = await LocalMackerelServer.start({ now: clock.now, readOnlyKeys: [READ_ONLY_KEY] });
    hostId = server.addHost({ name: "pipeline", customIdentifier: "mackerel-serverless/test" });
  });

  afterEach(async () => {
    await server.close();
  });

  describe("basics", () => {
    test("listens on 127.0.0.1 with a trailing-slash base URL", () => {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    });

    test("an unknown route answers 404 with Mackerel's error shape", async () => {
      const reply = await get(server, "api/v0/nope");
      expect(reply.status).toBe(404);
      expect(errorMessage(reply)).toContain("/api/v0/nope");
      expect(reply.headers.get("content-type")).toMatch(/^application\/json/);
    });

    test("a known path with the wrong method answers 405", async () => {
      const reply = await get(server, "api/v0/tsdb");
      expect(reply.status).toBe(405);
    });

    test("ManualClock and codePointLength helpers", () => {
      const c = new ManualClock(1000);
      c.advance(2500);
      expect(c.now()).toBe(3500);
      expect(c.nowSeconds()).toBe(3);
      c.set(7000);
      expect(c.now()).toBe(7000);
      expect(codePointLength("a😀b")).toBe(3);
      expect("a😀b".length).toBe(4);
    });

    test("mulberry32 is repeatable and in [0, 1)", () => {
      const a = mulberry32(42);
      const b = mulberry32(42);
      const seqA = Array.from({ length: 50 }, a);
      expect(Array.from({ length: 50 }, b)).toEqual(seqA);
      expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
      expect(new Set(seqA).size).toBe(50);
      expect(mulberry32(43)()).not.toBe(seqA[0]);
    });
  });

  describe("authentication and request format", () => {
    test("a missing key answers 403 and is logged as invalid", async () => {
      const reply = await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 1 }], { key: null });
      expect(reply.status).toBe(403);
      expect(errorMessage(reply)).toMatch(/API key/);
      expect(server.serviceMetrics()).toEqual([]);
      expect(server.requests.at(-1)).toMatchObject({ status: 403, apiKeyValid: false });
    });

    test("an unknown key answers 403 on reads and writes", async () => {
      expect((await get(server, "api/v0/services", { key: "wrong" })).status).toBe(403);
      expect((await post(server, SERVICE_TSDB, [], { key: "wrong" })).status).toBe(403);
      expect(server.counter("rejected.403")).toBe(2);
    });

    test("the auth failure status is configurable (401)", async () => {
      await restart({ authFailureStatus: 401 });
      expect((await get(server, "api/v0/services", { key: "wrong" })).status).toBe(401);
    });

    test("a read-only key reads but cannot write (403)", async () => {
      const read = await get(server, "api/v0/services", { key: READ_ONLY_KEY });
      expect(read.status).toBe(200);
      const write = await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 1 }], { key: READ_ONLY_KEY });
      expect(write.status).toBe(403);
      expect(errorMessage(write)).toMatch(/write permission/);
      expect(server.serviceMetrics()).toEqual([]);
      expect(server.requests.at(-1)).toMatchObject({ apiKeyValid: true, apiKeyReadOnly: true, status: 403 });
    });

    test("setApiKeys simulates rotation", async () => {
      server.setApiKeys(["new-key"]);
      expect((await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 1 }])).status).toBe(403);
      const reply = await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 1 }], { key: "new-key" });
      expect(reply.status).toBe(200);
      expect(server.serviceMetrics()).toHaveLength(1);
    });

    test("the request log never holds the key", async () => {
      const secret = "super-secret-key-123";
      server.setApiKeys([secret]);
      await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 1 }], { key: secret });
      await get(server, "api/v0/services", { key: "another-secret-456" });
      const logged = JSON.stringify(server.requests);
      expect(logged).not.toContain(secret);
      expect(logged).not.toContain("another-secret-456");
      expect(server.requests.map((r) => r.apiKeyValid)).toEqual([true, false]);
      expect(server.requests[0]).toMatchObject({ method: "POST", path: `/${SERVICE_TSDB}`, status: 200, seq: 1 });
    });

    test("a POST without Content-Type application/json answers 400", async () => {
      const body = JSON.stringify([{ name: "a", time: T, value: 1 }]);
      const none = await post(server, SERVICE_TSDB, undefined, { raw: body, contentType: null });
      expect(none.status).toBe(400);
      expect(errorMessage(none)).toMatch(/Content-Type/);
      const text = await post(server, SERVICE_TSDB, undefined, { raw: body, contentType: "text/plain" });
      expect(text.status).toBe(400);
      const charset = await post(server, SERVICE_TSDB, undefined, {
        raw: body,
        contentType: "application/json; charset=utf-8",
      });
      expect(charset.status).toBe(200);
      expect(server.serviceMetrics()).toHaveLength(1);
    });

    test("a body that is not JSON, or none, answers 400", async () => {
      expect((await post(server, SERVICE_TSDB, undefined, { raw: "[{" })).status).toBe(400);
      const empty = await post(server, "api/v0/hosts/" + hostId + "/retire", undefined, { raw: "" });
      expect(empty.status).toBe(400);
      expect(server.hosts()[0]!.isRetired).toBe(false);
    });

    test("a body over maxBodyBytes answers 413", async () => {
      await restart({ maxBodyBytes: 100 });
      const points = Array.from({ length: 20 }, (_, i) => ({ name: `m${i}`, time: T, value: i }));
      expect((await post(server, SERVICE_TSDB, points)).status).toBe(413);
      expect(server.serviceMetrics()).toEqual([]);
    });
  });

  describe("service metrics", () => {
    test("accepts points and records them sorted by name then time", async () => {
      const reply = await post(server, SERVICE_TSDB, [
        { name: "b.x", time: T, value: 2 },
        { name: "a.x", time: T, value: 1.5 },
        { name: "a.x", time: T - 60, value: 1 },
      ]);
      expect(reply).toMatchObject({ status: 200, body: { success: true } });
      expect(server.serviceMetrics("my-service")).toEqual([
        { service: "my-service", name: "a.x", time: T - 60, value: 1 },
        { service: "my-service", name: "a.x", time: T, value: 1.5 },
        { service: "my-service", name: "b.x", time: T, value: 2 },
      ]);
      expect(server.serviceMetrics("other")).toEqual([]);
    });

    test.each([
      ["a space", "a b"],
      ["a slash", "a/b"],
      ["a colon", "a:b"],
      ["empty", ""],
      ["non-ASCII", "métrique"],
    ])("refuses a name with %s (400) and records nothing of the request", async (_label, name) => {
      const reply = await post(server, SERVICE_TSDB, [
        { name: "good", time: T, value: 1 },
        { name, time: T, value: 1 },
      ]);
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(/\[1\]\.name/);
      expect(server.serviceMetrics()).toEqual([]);
      expect(server.writeCount("serviceMetric", { service: "my-service", name: "good", time: T })).toBe(0);
    });

    test.each([
      ["a fraction", T + 0.5, /integer/],
      ["a string", String(T), /integer/],
      ["milliseconds", START_MS, /milliseconds/],
      ["a negative number", -1, /negative/],
      ["null", null, /integer/],
    ])("refuses time as %s (400)", async (_label, time, pattern) => {
      const reply = await post(server, SERVICE_TSDB, [{ name: "a", time, value: 1 }]);
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(pattern);
      expect(server.serviceMetrics()).toEqual([]);
    });

    test.each([
      ["a string", '"1"'],
      ["null", "null"],
      ["Infinity (1e999)", "1e999"],
      ["missing", undefined],
    ])("refuses value as %s (400)", async (_label, value) => {
      const raw = `[{"name":"a","time":${T}${value === undefined ? "" : `,"value":${value}`}}]`;
      const reply = await post(server, SERVICE_TSDB, undefined, { raw });
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(/value must be a finite number/);
    });

    test("refuses a body that is not an array (400)", async () => {
      const reply = await post(server, SERVICE_TSDB, { name: "a", time: T, value: 1 });
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(/array/);
    });

    test("an unknown service answers 404 until it is added", async () => {
      const points = [{ name: "a", time: T, value: 1 }];
      const missing = await post(server, "api/v0/services/other-service/tsdb", points);
      expect(missing.status).toBe(404);
      expect(errorMessage(missing)).toMatch(/Service not found/);
      server.addService("other-service");
      expect((await post(server, "api/v0/services/other-service/tsdb", points)).status).toBe(200);
      expect(server.serviceMetrics("other-service")).toHaveLength(1);
    });

    test("points older than 24 h are accepted with 200 and dropped, with a counter", async () => {
      const reply = await post(server, SERVICE_TSDB, [
        { name: "edge", time: T - 24 * HOUR, value: 1 },
        { name: "old", time: T - 24 * HOUR - 1, value: 2 },
      ]);
      expect(reply.status).toBe(200);
      expect(server.serviceMetrics().map((m) => m.name)).toEqual(["edge"]);
      expect(server.counter("ignored.serviceMetricsTooOld")).toBe(1);
      expect(server.writeCount("serviceMetric", { service: "my-service", name: "old", time: T - 24 * HOUR - 1 })).toBe(
        1,
      );
    });

    test("the 24 h window follows the server clock", async () => {
      const time = T;
      clock.advance((24 * HOUR + 1) * 1000);
      expect((await post(server, SERVICE_TSDB, [{ name: "late", time, value: 1 }])).status).toBe(200);
      expect(server.serviceMetrics()).toEqual([]);
      expect(server.counter("ignored.serviceMetricsTooOld")).toBe(1);
    });

    test("points more than 24 h in the future are refused (400) by default", async () => {
      const ok = await post(server, SERVICE_TSDB, [{ name: "soon", time: T + 24 * HOUR, value: 1 }]);
      expect(ok.status).toBe(200);
      const reply = await post(server, SERVICE_TSDB, [{ name: "future", time: T + 24 * HOUR + 1, value: 1 }]);
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(/future/);
      expect(server.serviceMetrics().map((m) => m.name)).toEqual(["soon"]);
    });

    test("futureMetrics: drop accepts and drops far-future points", async () => {
      await restart({ futureMetrics: "drop" });
      const reply = await post(server, SERVICE_TSDB, [{ name: "future", time: T + 25 * HOUR, value: 1 }]);
      expect(reply.status).toBe(200);
      expect(server.serviceMetrics()).toEqual([]);
      expect(server.counter("ignored.serviceMetricsTooNew")).toBe(1);
    });

    test("one value per (service, name, time): a second post replaces, and writeCount counts both", async () => {
      const id = { service: "my-service", name: "count", time: T };
      await post(server, SERVICE_TSDB, [{ name: "count", time: T, value: 3 }]);
      await post(server, SERVICE_TSDB, [{ name: "count", time: T, value: 5 }]);
      expect(server.serviceMetrics()).toEqual([{ ...id, value: 5 }]);
      expect(server.writeCount("serviceMetric", id)).toBe(2);
      expect(server.counter("replaced.serviceMetrics")).toBe(1);
      expect(server.writeCount("serviceMetric", { ...id, time: T + 60 })).toBe(0);
    });

    test("service names with reserved characters are percent-decoded from the path", async () => {
      server.addService("Svc_1-a");
      const reply = await post(server, `api/v0/services/${encodeURIComponent("Svc_1-a")}/tsdb`, [
        { name: "a", time: T, value: 1 },
      ]);
      expect(reply.status).toBe(200);
      expect(server.serviceMetrics("Svc_1-a")).toHaveLength(1);
    });
  });

  describe("host metrics", () => {
    test("accepts custom metrics for a known host", async () => {
      const reply = await post(server, "api/v0/tsdb", [
        { hostId, name: "custom.mackerel_serverless.heartbeat", time: T, value: 1 },
        { hostId, name: "custom.a.b-c.d_e", time: T, value: 2 },
      ]);
      expect(reply.status).toBe(200);
      expect(server.hostMetrics(hostId)).toEqual([
        { hostId, name: "custom.a.b-c.d_e", time: T, value: 2 },
        { hostId, name: "custom.mackerel_serverless.heartbeat", time: T, value: 1 },
      ]);
    });

    test.each(["loadavg5", "custom", "custom.", "custom..a", "custom.a b", "custom.a/b", "Custom.a", "custom.a.#x"])(
      "refuses the name %p (400)",
      async (name) => {
        const reply = await post(server, "api/v0/tsdb", [{ hostId, name, time: T, value: 1 }]);
        expect(reply.status).toBe(400);
        expect(errorMessage(reply)).toMatch(/name/);
        expect(server.hostMetrics()).toEqual([]);
      },
    );

    test("refuses millisecond and fractional times (400)", async () => {
      const ms = await post(server, "api/v0/tsdb", [{ hostId, name: "custom.a", time: START_MS, value: 1 }]);
      expect(ms.status).toBe(400);
      expect(errorMessage(ms)).toMatch(/milliseconds/);
      expect((await post(server, "api/v0/tsdb", [{ hostId, name: "custom.a", time: T + 0.1, value: 1 }])).status).toBe(
        400,
      );
    });

    test("an unknown or retired host answers 404 and nothing is recorded", async () => {
      const unknown = await post(server, "api/v0/tsdb", [
        { hostId, name: "custom.a", time: T, value: 1 },
        { hostId: "nope", name: "custom.a", time: T, value: 1 },
      ]);
      expect(unknown.status).toBe(404);
      expect(errorMessage(unknown)).toMatch(/Host not found: nope/);
      expect(server.hostMetrics()).toEqual([]);
      const retiredId = server.addHost({ name: "old", isRetired: true });
      expect(
        (await post(server, "api/v0/tsdb", [{ hostId: retiredId, name: "custom.a", time: T, value: 1 }])).status,
      ).toBe(404);
    });

    test("24 h drop and one-value replacement apply to host metrics", async () => {
      await post(server, "api/v0/tsdb", [
        { hostId, name: "custom.a", time: T - 24 * HOUR - 1, value: 1 },
        { hostId, name: "custom.a", time: T, value: 1 },
      ]);
      await post(server, "api/v0/tsdb", [{ hostId, name: "custom.a", time: T, value: 9 }]);
      expect(server.hostMetrics()).toEqual([{ hostId, name: "custom.a", time: T, value: 9 }]);
      expect(server.counter("ignored.hostMetricsTooOld")).toBe(1);
      expect(server.counter("replaced.hostMetrics")).toBe(1);
      expect(server.writeCount("hostMetric", { hostId, name: "custom.a", time: T })).toBe(2);
    });
  });

  describe("check reports", () => {
    test("accepts reports and records them in arrival order with the host id", async () => {
      const reply = await post(server, "api/v0/monitoring/checks/report", {
        reports: [
          report(hostId, { name: "b", status: "OK", message: "" }),
          report(hostId, { name: "a", notificationInterval: 10, maxCheckAttempts: 10 }),
        ],
      });
      expect(reply).toMatchObject({ status: 200, body: { success: true } });
      expect(server.checkReports()).toEqual([
        { hostId, name: "b", status: "OK", message: "", occurredAt: T, receivedAt: START_MS },
        {
          hostId,
          name: "a",
          status: "CRITICAL",
          message: "boom",
          occurredAt: T,
          notificationInterval: 10,
          maxCheckAttempts: 10,
          receivedAt: START_MS,
        },
      ]);
    });

    test("100 reports are accepted, 101 refused (400), 0 refused (400)", async () => {
      const many = (n: number) => Array.from({ length: n }, (_, i) => report(hostId, { name: `c${i}` }));
      expect((await post(server, "api/v0/monitoring/checks/report", { reports: many(100) })).status).toBe(200);
      expect(server.checkReports()).toHaveLength(100);
      const over = await post(server, "api/v0/monitoring/checks/report", { reports: many(101) });
      expect(over.status).toBe(400);
      expect(errorMessage(over)).toMatch(/at most 100/);
      expect((await post(server, "api/v0/monitoring/checks/report", { reports: [] })).status).toBe(400);
      expect(server.checkReports()).toHaveLength(100);
    });

    test("a message of 1024 code points passes even as 2048 UTF-16 units; 1025 is refused", async () => {
      const emoji1024 = "😀".repeat(1024);
      expect(emoji1024.length).toBe(2048);
      const ok = await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { message: emoji1024 })],
      });
      expect(ok.status).toBe(200);
      expect(server.checkReports()[0]!.message).toBe(emoji1024);
      const tooLong = await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { message: "😀".repeat(1024) + "a", occurredAt: T + 1 })],
      });
      expect(tooLong.status).toBe(400);
      expect(errorMessage(tooLong)).toMatch(/1025 characters/);
      const ascii = await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { message: "x".repeat(1025), occurredAt: T + 2 })],
      });
      expect(ascii.status).toBe(400);
      expect(server.checkReports()).toHaveLength(1);
    });

    test.each([
      ["status", { status: "ERROR" }, /status must be one of/],
      ["lower-case status", { status: "ok" }, /status must be one of/],
      ["source type", { source: { type: "service", hostId: "x" } }, /source.type/],
      ["missing hostId", { source: { type: "host" } }, /hostId/],
      ["empty name", { name: "" }, /name/],
      ["missing message", { message: undefined }, /message/],
      ["occurredAt in ms", { occurredAt: START_MS }, /milliseconds/],
      ["fractional occurredAt", { occurredAt: T + 0.5 }, /occurredAt/],
      ["notificationInterval below 10", { notificationInterval: 5 }, /notificationInterval/],
      ["maxCheckAttempts 0", { maxCheckAttempts: 0 }, /maxCheckAttempts/],
      ["maxCheckAttempts 11", { maxCheckAttempts: 11 }, /maxCheckAttempts/],
    ])("refuses a bad %s (400)", async (_label, overrides, pattern) => {
      const reply = await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { name: "fine", occurredAt: T - 1 }), report(hostId, overrides)],
      });
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(pattern);
      expect(errorMessage(reply)).toMatch(/reports\[1\]/);
      expect(server.checkReports()).toEqual([]);
    });

    test("refuses a body that is not {reports: [...]} (400)", async () => {
      expect((await post(server, "api/v0/monitoring/checks/report", [report(hostId)])).status).toBe(400);
      expect((await post(server, "api/v0/monitoring/checks/report", { reports: {} })).status).toBe(400);
    });

    test("an unknown host answers 404", async () => {
      const reply = await post(server, "api/v0/monitoring/checks/report", { reports: [report("unknown-host")] });
      expect(reply.status).toBe(404);
      expect(server.checkReports()).toEqual([]);
      expect(server.openAlerts()).toEqual([]);
    });

    test("a report 6 h or more old is ignored with 200; one second younger is accepted", async () => {
      const reply = await post(server, "api/v0/monitoring/checks/report", {
        reports: [
          report(hostId, { name: "old", occurredAt: T - 6 * HOUR }),
          report(hostId, { name: "young", occurredAt: T - 6 * HOUR + 1 }),
        ],
      });
      expect(reply.status).toBe(200);
      expect(server.checkReports().map((r) => r.name)).toEqual(["young"]);
      expect(server.counter("ignored.checkReportsTooOld")).toBe(1);
      expect(server.openAlerts().map((a) => a.checkName)).toEqual(["young"]);
    });

    test("a second report with the same (host, name, occurredAt) is ignored", async () => {
      const first = report(hostId, { status: "CRITICAL", message: "first" });
      await post(server, "api/v0/monitoring/checks/report", { reports: [first] });
      const again = await post(server, "api/v0/monitoring/checks/report", {
        reports: [{ ...first, status: "OK", message: "second" }],
      });
      expect(again.status).toBe(200);
      expect(server.checkReports().map((r) => r.message)).toEqual(["first"]);
      expect(server.counter("ignored.duplicateCheckReports")).toBe(1);
      expect(server.writeCount("checkReport", { hostId, name: "my-check", occurredAt: T })).toBe(2);
      expect(server.openAlerts()).toHaveLength(1);
    });

    test("a report older than the newest one for the check is ignored (latest wins)", async () => {
      await post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId, { status: "OK" })] });
      await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { status: "CRITICAL", occurredAt: T - 60 })],
      });
      expect(server.checkReports().map((r) => r.status)).toEqual(["OK"]);
      expect(server.counter("ignored.outOfOrderCheckReports")).toBe(1);
      expect(server.openAlerts()).toEqual([]);
    });

    test("checkReportOrdering: duplicates-only accepts older reports", async () => {
      await restart({ checkReportOrdering: "duplicates-only" });
      await post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId, { status: "OK" })] });
      await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { status: "CRITICAL", occurredAt: T - 60 })],
      });
      expect(server.checkReports().map((r) => r.status)).toEqual(["OK", "CRITICAL"]);
      expect(server.counter("ignored.outOfOrderCheckReports")).toBe(0);
    });

    test("an alert opens on non-OK, follows status changes, and closes on OK", async () => {
      const send = (status: string, occurredAt: number, message = status) =>
        post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId, { status, occurredAt, message })] });
      await send("OK", T);
      expect(server.openAlerts()).toEqual([]);
      await send("WARNING", T + 60);
      expect(server.openAlerts()).toEqual([
        { hostId, checkName: "my-check", status: "WARNING", message: "WARNING", openedAt: T + 60, updatedAt: T + 60 },
      ]);
      await send("WARNING", T + 120, "still warning");
      await send("CRITICAL", T + 180);
      expect(server.openAlerts()).toEqual([
        {
          hostId,
          checkName: "my-check",
          status: "CRITICAL",
          message: "CRITICAL",
          openedAt: T + 60,
          updatedAt: T + 180,
        },
      ]);
      await send("OK", T + 240);
      expect(server.openAlerts()).toEqual([]);
      expect(server.alertEvents().map((e) => [e.type, e.status, e.at])).toEqual([
        ["open", "WARNING", T + 60],
        ["statusChange", "CRITICAL", T + 180],
        ["close", "OK", T + 240],
      ]);
    });

    test("maxCheckAttempts delays the alert until that many consecutive non-OK reports", async () => {
      const send = (status: string, occurredAt: number) =>
        post(server, "api/v0/monitoring/checks/report", {
          reports: [report(hostId, { status, occurredAt, maxCheckAttempts: 3 })],
        });
      await send("CRITICAL", T);
      await send("CRITICAL", T + 60);
      expect(server.openAlerts()).toEqual([]);
      await send("OK", T + 120);
      await send("CRITICAL", T + 180);
      await send("CRITICAL", T + 240);
      expect(server.openAlerts()).toEqual([]);
      await send("CRITICAL", T + 300);
      expect(server.openAlerts()).toMatchObject([{ checkName: "my-check", openedAt: T + 300 }]);
    });

    test("alerts are kept per (host, check)", async () => {
      const other = server.addHost({ name: "other" });
      await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { name: "a" }), report(hostId, { name: "b" }), report(other, { name: "a" })],
      });
      await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { name: "a", status: "OK", occurredAt: T + 1 })],
      });
      expect(server.openAlerts().map((a) => [a.hostId, a.checkName])).toEqual(
        [
          [hostId, "b"],
          [other, "a"],
        ].sort(),
      );
    });
  });

  describe("hosts", () => {
    const tricky = "arn:aws:lambda:us-east-1:123456789012:function/a b?c#d%e";

    test("registers a host and finds it by a URL-encoded custom identifier with / and :", async () => {
      const created = await post(server, "api/v0/hosts", {
        name: "mackerel-serverless",
        displayName: "Pipeline",
        customIdentifier: tricky,
        meta: { "agent-name": "mackerel-serverless" },
        memo: "made by a test",
        roleFullnames: ["new-service:lambda"],
        checks: [{ name: "logs-errors", memo: "log rule" }],
      });
      expect(created.status).toBe(200);
      const id = (created.body as { id: string }).id;
      expect(id).toMatch(/^[0-9A-Za-z]{11}$/);

      const found = await get(server, `api/v0/hosts-by-custom-identifier/${encodeURIComponent(tricky)}`);
      expect(found.status).toBe(200);
      expect(found.body).toMatchObject({
        host: {
          id,
          name: "mackerel-serverless",
          displayName: "Pipeline",
          customIdentifier: tricky,
          status: "working",
          isRetired: false,
          memo: "made by a test",
          roles: { "new-service": ["lambda"] },
          checks: [{ name: "logs-errors", memo: "log rule" }],
          createdAt: T,
        },
      });
      expect(server.serviceList().find((s) => s.name === "new-service")).toEqual({
        name: "new-service",
        memo: "",
        roles: ["lambda"],
      });

      const listed = await get(server, `api/v0/hosts?customIdentifier=${encodeURIComponent(tricky)}`);
      expect((listed.body as { hosts: { id: string }[] }).hosts.map((h) => h.id)).toEqual([id]);
      const byId = await get(server, `api/v0/hosts/${id}`);
      expect(byId.body).toMatchObject({ host: { id, customIdentifier: tricky } });
    });

    test("an unencoded / in the identifier does not reach the look-up (404)", async () => {
      const reply = await get(server, "api/v0/hosts-by-custom-identifier/mackerel-serverless/test");
      expect(reply.status).toBe(404);
      const encoded = await get(
        server,
        `api/v0/hosts-by-custom-identifier/${encodeURIComponent("mackerel-serverless/test")}`,
      );
      expect(encoded.body).toMatchObject({ host: { id: hostId } });
    });

    test("an unknown custom identifier or host id answers 404", async () => {
      expect((await get(server, "api/v0/hosts-by-custom-identifier/nope")).status).toBe(404);
      expect((await get(server, "api/v0/hosts/nope")).status).toBe(404);
      expect((await get(server, "api/v0/hosts?customIdentifier=nope")).body).toEqual({ hosts: [] });
    });

    test("a duplicate customIdentifier answers 400", async () => {
      const reply = await post(server, "api/v0/hosts", {
        name: "again",
        customIdentifier: "mackerel-serverless/test",
        meta: {},
      });
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(/already used/);
      expect(server.hosts()).toHaveLength(1);
    });

    test.each([
      ["missing name", { meta: {} }, /name/],
      ["empty name", { name: "", meta: {} }, /name/],
      ["missing meta", { name: "h" }, /meta/],
      ["bad roleFullnames", { name: "h", meta: {}, roleFullnames: ["no-role"] }, /roleFullnames/],
      ["bad check name", { name: "h", meta: {}, checks: [{ name: "a b" }] }, /checks\[0\]\.name/],
      ["customIdentifier not a string", { name: "h", meta: {}, customIdentifier: 5 }, /customIdentifier/],
    ])("refuses a registration with %s (400)", async (_label, body, pattern) => {
      const reply = await post(server, "api/v0/hosts", body);
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(pattern);
      expect(server.hosts()).toHaveLength(1);
    });

    test("status updates and list filtering by status", async () => {
      expect((await post(server, `api/v0/hosts/${hostId}/status`, { status: "maintenance" })).status).toBe(200);
      expect(server.hosts()[0]!.status).toBe("maintenance");
      expect((await get(server, "api/v0/hosts")).body).toEqual({ hosts: [] });
      const withStatus = await get(server, "api/v0/hosts?status=maintenance");
      expect((withStatus.body as { hosts: unknown[] }).hosts).toHaveLength(1);
      expect((await post(server, `api/v0/hosts/${hostId}/status`, { status: "down" })).status).toBe(400);
      expect((await post(server, "api/v0/hosts/nope/status", { status: "working" })).status).toBe(404);
    });

    test("retire hides the host from look-ups, closes its alerts, and cannot be repeated", async () => {
      await post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId)] });
      expect(server.openAlerts()).toHaveLength(1);
      clock.advance(5000);
      expect((await post(server, `api/v0/hosts/${hostId}/retire`, {})).status).toBe(200);
      expect(server.openAlerts()).toEqual([]);
      expect(server.alertEvents().at(-1)).toMatchObject({ type: "close", reason: "retired", at: T + 5 });
      expect(
        (await get(server, `api/v0/hosts-by-custom-identifier/${encodeURIComponent("mackerel-serverless/test")}`))
          .status,
      ).toBe(404);
      expect((await get(server, `api/v0/hosts/${hostId}`)).body).toMatchObject({
        host: { id: hostId, isRetired: true, retiredAt: T + 5 },
      });
      expect((await post(server, `api/v0/hosts/${hostId}/retire`, {})).status).toBe(404);
      // The identifier is free again once the host is retired.
      const again = await post(server, "api/v0/hosts", {
        name: "new",
        customIdentifier: "mackerel-serverless/test",
        meta: {},
      });
      expect(again.status).toBe(200);
    });

    test("hosts given in the options exist from the start and after reset()", async () => {
      await restart({ hosts: [{ id: "2eQGDXvQ8bW", name: "seeded", customIdentifier: "seed" }] });
      const found = await get(server, "api/v0/hosts-by-custom-identifier/seed");
      expect(found.body).toMatchObject({ host: { id: "2eQGDXvQ8bW", name: "seeded" } });
      server.reset();
      expect(server.hosts().map((h) => h.id)).toEqual(["2eQGDXvQ8bW"]);
    });
  });

  describe("services", () => {
    test("creates and lists services", async () => {
      const reply = await post(server, "api/v0/services", { name: "New-Service_2", memo: "memo" });
      expect(reply).toMatchObject({ status: 200, body: { name: "New-Service_2", memo: "memo", roles: [] } });
      const list = await get(server, "api/v0/services");
      expect(list.body).toEqual({
        services: [
          { name: "New-Service_2", memo: "memo", roles: [] },
          { name: "my-service", memo: "", roles: [] },
        ],
      });
      expect(
        (await post(server, "api/v0/services/New-Service_2/tsdb", [{ name: "a", time: T, value: 1 }])).status,
      ).toBe(200);
    });

    test.each(["a", "-abc", "_abc", "a.b", "a b", "x".repeat(64), "ü-service"])(
      "refuses the service name %p (400)",
      async (name) => {
        const reply = await post(server, "api/v0/services", { name, memo: "" });
        expect(reply.status).toBe(400);
        expect(errorMessage(reply)).toMatch(/2-63 characters/);
      },
    );

    test("accepts a 63-character name and refuses a duplicate (400)", async () => {
      expect((await post(server, "api/v0/services", { name: "x".repeat(63), memo: "" })).status).toBe(200);
      const dup = await post(server, "api/v0/services", { name: "my-service", memo: "" });
      expect(dup.status).toBe(400);
      expect(errorMessage(dup)).toMatch(/already exists/);
    });
  });

  describe("graph definitions and annotations", () => {
    test("accepts graph definitions with documented units and wildcards", async () => {
      const defs = [
        {
          name: "custom.mackerel_serverless",
          displayName: "Pipeline",
          unit: "integer",
          metrics: [{ name: "custom.mackerel_serverless.heartbeat", displayName: "heartbeat", isStacked: false }],
        },
        { name: "custom.wild.#", unit: "bytes/sec", metrics: [{ name: "custom.wild.#.foo" }] },
      ];
      expect((await post(server, "api/v0/graph-defs/create", defs)).status).toBe(200);
      expect(server.graphDefs()).toEqual(defs);
    });

    test.each([
      ["an unknown unit", { name: "custom.a", unit: "requests", metrics: [] }, /unit/],
      ["a name without custom.", { name: "a.b", metrics: [] }, /custom/],
      ["a metric outside the group", { name: "custom.a", metrics: [{ name: "custom.b.x" }] }, /metrics\[0\]\.name/],
      ["two # wildcards", { name: "custom.#.#", metrics: [] }, /#/],
      ["missing metrics", { name: "custom.a" }, /metrics/],
      ["a non-boolean isStacked", { name: "custom.a", metrics: [{ name: "custom.a.x", isStacked: 1 }] }, /isStacked/],
    ])("refuses a graph definition with %s (400)", async (_label, def, pattern) => {
      const reply = await post(server, "api/v0/graph-defs/create", [def]);
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(pattern);
      expect(server.graphDefs()).toEqual([]);
    });

    test("creates an annotation and returns it with an id", async () => {
      const input = { title: "deploy", description: "v1.2.3", from: T, to: T + 60, service: "my-service" };
      const reply = await post(server, "api/v0/graph-annotations", input);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ ...input, id: expect.any(String) });
      expect(server.graphAnnotations()).toEqual([reply.body]);
    });

    test.each([
      ["a 251-character title", { title: "t".repeat(251) }, 400, /title/],
      ["a 1025-character description", { description: "d".repeat(1025) }, 400, /description/],
      ["from after to", { from: T + 1, to: T }, 400, /from/],
      ["from in milliseconds", { from: START_MS, to: START_MS }, 400, /milliseconds/],
      ["an unknown service", { service: "ghost-service" }, 404, /Service not found/],
      ["an unknown role", { roles: ["web"] }, 404, /Role not found/],
    ])("refuses an annotation with %s", async (_label, overrides, status, pattern) => {
      const reply = await post(server, "api/v0/graph-annotations", {
        title: "deploy",
        from: T,
        to: T,
        service: "my-service",
        ...overrides,
      });
      expect(reply.status).toBe(status);
      expect(errorMessage(reply)).toMatch(pattern);
      expect(server.graphAnnotations()).toEqual([]);
    });

    test("accepts 250/1024-character limits and known roles", async () => {
      server.addHost({ name: "web1", roleFullnames: ["my-service:web"] });
      const reply = await post(server, "api/v0/graph-annotations", {
        title: "😀".repeat(250),
        description: "d".repeat(1024),
        from: T,
        to: T,
        service: "my-service",
        roles: ["web"],
      });
      expect(reply.status).toBe(200);
      expect(server.graphAnnotations()[0]!.roles).toEqual(["web"]);
    });
  });

  describe("fault injection", () => {
    const points = [{ name: "a", time: T, value: 1 }];

    test("status: the next N matching requests fail with Retry-After, without changing state", async () => {
      server.injectFaults({ mode: "status", status: 503, count: 2, pathPrefix: "/api/v0/services/", retryAfter: 7 });
      // A request outside the prefix is not affected and does not use up the plan.
      expect((await post(server, "api/v0/tsdb", [{ hostId, name: "custom.a", time: T, value: 1 }])).status).toBe(200);
      const first = await post(server, SERVICE_TSDB, points);
      expect(first.status).toBe(503);
      expect(first.headers.get("retry-after")).toBe("7");
      expect(errorMessage(first)).toMatch(/injected/);
      expect((await post(server, SERVICE_TSDB, points)).status).toBe(503);
      expect(server.serviceMetrics()).toEqual([]);
      expect(server.writeCount("serviceMetric", { service: "my-service", name: "a", time: T })).toBe(0);
      expect((await post(server, SERVICE_TSDB, points)).status).toBe(200);
      expect(server.serviceMetrics()).toHaveLength(1);
      expect(server.requests.map((r) => r.fault ?? "-")).toEqual(["-", "status", "status", "-"]);
      expect(server.counter("faults.status")).toBe(2);
      expect(server.pendingFaults()).toEqual([]);
    });

    test("status: 429 and 400 can be injected; method filters apply", async () => {
      server.injectFaults([
        { mode: "status", status: 429, method: "GET" },
        { mode: "status", status: 400 },
      ]);
      const posted = await post(server, SERVICE_TSDB, points);
      expect(posted.status).toBe(400);
      expect((await get(server, "api/v0/services")).status).toBe(429);
      expect((await get(server, "api/v0/services")).status).toBe(200);
      expect(server.serviceMetrics()).toEqual([]);
    });

    test("faults apply before authentication: a faulted request is not a 403", async () => {
      server.injectFaults({ mode: "status", status: 502 });
      expect((await post(server, SERVICE_TSDB, points, { key: "wrong" })).status).toBe(502);
      expect(server.requests[0]).toMatchObject({ status: 502, apiKeyValid: false, fault: "status" });
    });

    test("errorRate: a seeded PRNG gives the same failures for the same seed, near the rate", async () => {
      const run = async (seed: number): Promise<number[]> => {
        server.reset();
        server.injectFaults({ mode: "errorRate", rate: 0.3, seed, statuses: [500, 503, 429] });
        const statuses: number[] = [];
        for (let i = 0; i < 100; i++) {
          statuses.push((await post(server, SERVICE_TSDB, [{ name: "a", time: T - i, value: i }])).status);
        }
        return statuses;
      };
      const a = await run(1234);
      const storedA = server.serviceMetrics().length;
      const b = await run(1234);
      const c = await run(99);
      expect(b).toEqual(a);
      expect(c).not.toEqual(a);
      const failures = a.filter((s) => s !== 200);
      expect(failures.length).toBeGreaterThan(15);
      expect(failures.length).toBeLessThan(45);
      expect(new Set(failures)).toEqual(new Set([500, 503, 429]));
      // Only the requests that succeeded left a value.
      expect(storedA).toBe(100 - failures.length);
    });

    test("delay: a slow answer exceeds the client timeout, but the server still does the work", async () => {
      server.injectFaults({ mode: "delay", ms: 400 });
      const started = Date.now();
      await expect(post(server, SERVICE_TSDB, points, { timeoutMs: 100 })).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(350);
      await server.whenIdle();
      expect(server.serviceMetrics()).toEqual([{ service: "my-service", name: "a", time: T, value: 1 }]);
      // The client retries: the one-value rule keeps a single value, and the duplicate is visible.
      expect((await post(server, SERVICE_TSDB, points)).status).toBe(200);
      expect(server.serviceMetrics()).toHaveLength(1);
      expect(server.writeCount("serviceMetric", { service: "my-service", name: "a", time: T })).toBe(2);
      expect(server.requests[0]).toMatchObject({ fault: "delay", status: 200, responded: false });
    });

    test("delay with thenStatus: slow and failed, with no state change", async () => {
      server.injectFaults({ mode: "delay", ms: 150, thenStatus: 504 });
      const started = Date.now();
      const reply = await post(server, SERVICE_TSDB, points);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(reply.status).toBe(504);
      expect(server.serviceMetrics()).toEqual([]);
    });

    test("reset: the connection drops without a response and nothing is recorded", async () => {
      server.injectFaults({ mode: "reset", pathPrefix: "/api/v0/monitoring" });
      await expect(post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId)] })).rejects.toThrow(
        /fetch failed/,
      );
      expect(server.checkReports()).toEqual([]);
      expect(server.requests[0]).toMatchObject({ status: 0, responded: false, fault: "reset" });
      expect((await post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId)] })).status).toBe(200);
      expect(server.checkReports()).toHaveLength(1);
    });

    test("acceptThenReset: the work is recorded but the response is lost; a retry is idempotent", async () => {
      server.injectFaults({ mode: "acceptThenReset", count: 2 });
      await expect(post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 4 }])).rejects.toThrow();
      expect(server.serviceMetrics()).toEqual([{ service: "my-service", name: "a", time: T, value: 4 }]);
      await expect(post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId)] })).rejects.toThrow();
      expect(server.checkReports()).toHaveLength(1);

      // Retries of both writes.
      expect((await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 4 }])).status).toBe(200);
      expect((await post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId)] })).status).toBe(200);
      expect(server.serviceMetrics()).toHaveLength(1);
      expect(server.checkReports()).toHaveLength(1);
      expect(server.counter("ignored.duplicateCheckReports")).toBe(1);
      expect(server.alertEvents().filter((e) => e.type === "open")).toHaveLength(1);
      expect(server.requests.slice(0, 2).map((r) => [r.status, r.responded, r.fault])).toEqual([
        [200, false, "acceptThenReset"],
        [200, false, "acceptThenReset"],
      ]);
    });

    test("outage: every write answers 503 and changes nothing; reads work; it ends", async () => {
      server.setOutage(true, { retryAfter: 60 });
      const write = await post(server, SERVICE_TSDB, points);
      expect(write.status).toBe(503);
      expect(write.headers.get("retry-after")).toBe("60");
      expect((await post(server, "api/v0/hosts", { name: "h", meta: {} })).status).toBe(503);
      expect((await get(server, "api/v0/services")).status).toBe(200);
      expect(server.serviceMetrics()).toEqual([]);
      expect(server.hosts()).toHaveLength(1);
      expect(server.counter("faults.outage")).toBe(2);
      server.setOutage(false);
      expect((await post(server, SERVICE_TSDB, points)).status).toBe(200);
      expect(server.serviceMetrics()).toHaveLength(1);
    });

    test("clearFaults removes pending plans; invalid plans are refused", async () => {
      server.injectFaults({ mode: "status", status: 500, count: Infinity });
      expect((await post(server, SERVICE_TSDB, points)).status).toBe(500);
      expect(server.pendingFaults()).toHaveLength(1);
      server.clearFaults();
      expect((await post(server, SERVICE_TSDB, points)).status).toBe(200);
      expect(() => server.injectFaults({ mode: "status", status: 200 })).toThrow(TypeError);
      expect(() => server.injectFaults({ mode: "errorRate", rate: 2, seed: 1, statuses: [500] })).toThrow(TypeError);
    });
  });

  describe("reset", () => {
    test("forgets recorded state, faults and outage, and restores services and keys", async () => {
      await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 1 }]);
      await post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId)] });
      await post(server, "api/v0/services", { name: "extra", memo: "" });
      server.setApiKeys(["rotated"]);
      server.injectFaults({ mode: "status", status: 500, count: 5 });
      server.setOutage(true);
      server.reset();
      expect(server.serviceMetrics()).toEqual([]);
      expect(server.checkReports()).toEqual([]);
      expect(server.openAlerts()).toEqual([]);
      expect(server.requests).toEqual([]);
      expect(server.counters).toEqual({});
      expect(server.writeCount("serviceMetric", { service: "my-service", name: "a", time: T })).toBe(0);
      expect(server.pendingFaults()).toEqual([]);
      expect(server.serviceList().map((s) => s.name)).toEqual(["my-service"]);
      expect(server.hosts()).toEqual([]);
      expect((await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 1 }])).status).toBe(200);
    });
  });
});
