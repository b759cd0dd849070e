/**
 * Service and host metrics on the local Mackerel server: validation, the silent 24 h window under a
 * controlled clock, and the one-value rule.
 */
import {
  clock,
  errorMessage,
  hostId,
  HOUR,
  post,
  restart,
  server,
  SERVICE_TSDB,
  START_MS,
  T,
  useServer,
} from "./support";

useServer();

describe("LocalMackerelServer", () => {
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
});
