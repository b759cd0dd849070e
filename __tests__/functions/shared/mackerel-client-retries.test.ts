/**
 * The Mackerel client's retries against the strict local Mackerel server: Retry-After, timeouts, resets
 * and the invocation's deadline, with the API key never showing in an error or a log line.
 */
import { StaticApiKey } from "../../../functions/shared/api-key";
import { MackerelUnavailableError } from "../../../functions/shared/errors";
import { MackerelClient } from "../../../functions/shared/mackerel-client";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";
import { client, failure, KEY, now, server, useClientServer } from "./mackerel-client-support";

useClientServer();

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
