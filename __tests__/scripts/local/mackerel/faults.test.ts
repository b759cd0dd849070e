/**
 * Each fault injection mode of the local Mackerel server, and reset().
 */
import { HOST_LOOKUP, errorMessage, get, hostId, post, report, server, SERVICE_TSDB, T, useServer } from "./support";

useServer();

describe("LocalMackerelServer", () => {
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
      expect((await get(server, HOST_LOOKUP)).status).toBe(429);
      expect((await get(server, HOST_LOOKUP)).status).toBe(200);
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
      expect((await get(server, HOST_LOOKUP)).status).toBe(200);
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
      server.addService("extra");
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
