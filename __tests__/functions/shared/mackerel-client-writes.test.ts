/**
 * The Mackerel client against the strict local Mackerel server: every write kind, batching and refusals
 * (permanent, never retried), with the API key never showing in an error, a log line or the URL.
 */
import { MackerelRejectedError } from "../../../functions/shared/errors";
import { type CheckReport, extractErrorMessage } from "../../../functions/shared/mackerel-client";
import {
  client,
  failure,
  KEY,
  now,
  ordersPath,
  reportsPath,
  requestsTo,
  server,
  useClientServer,
} from "./mackerel-client-support";

useClientServer();

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
