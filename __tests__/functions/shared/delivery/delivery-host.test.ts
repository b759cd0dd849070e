/**
 * "Host not found" during delivery: which refusals mean the module's host is gone, and `deliver` looking the
 * host up again once (the real HostResolver, against the local Mackerel server) before re-sending.
 */
import { deliver } from "../../../../functions/shared/delivery/deliver";
import { isHostNotFound } from "../../../../functions/shared/delivery/send";
import type { Spool } from "../../../../functions/shared/delivery/spool";
import { MackerelRejectedError } from "../../../../functions/shared/errors";
import { HostResolver } from "../../../../functions/shared/host";
import { logger } from "../../../../functions/shared/logger";
import { MackerelClient, type MackerelWrite } from "../../../../functions/shared/mackerel-client";
import { LocalMackerelServer } from "../../../../scripts/local/mackerel";

const host = (id: string): MackerelWrite => ({
  kind: "hostMetrics",
  points: [{ hostId: id, name: "custom.a", time: 1, value: 1 }],
});
const report = (id: string): MackerelWrite => ({
  kind: "checkReports",
  reports: [{ source: { type: "host", hostId: id }, name: "c", status: "OK", message: "m", occurredAt: 1 }],
});

test.each([
  [host("abc123"), 404, undefined, true],
  [report("abc123"), 404, undefined, true],
  [report("abc123"), 400, "Host abc123 not found", true],
  [report("abc123"), 400, "invalid occurredAt", false],
  [report("abc123"), 400, "host zzz999 not found", false],
  [
    { kind: "serviceMetrics", service: "s", points: [{ name: "a", time: 1, value: 1 }] } as MackerelWrite,
    404,
    undefined,
    false,
  ],
  [host("abc123"), 403, "host abc123 forbidden", false],
])("%j answered %d %s → host not found: %s", (write, status, message, expected) => {
  expect(isHostNotFound(new MackerelRejectedError("refused", status, message), write)).toBe(expected);
});

describe("deliver with a retired host", () => {
  let mackerel: LocalMackerelServer;
  beforeAll(async () => {
    mackerel = await LocalMackerelServer.start({ apiKeys: ["k"], services: ["svc"] });
  });
  afterAll(() => mackerel.close());

  test("re-resolves once, re-sends to the new host, and later writes of the call go there directly", async () => {
    const client = new MackerelClient({
      baseUrl: mackerel.url,
      apiKey: { get: async () => "k", refresh: async () => "k" },
    });
    const resolver = new HostResolver({ name: "d", customIdentifier: "mackerel-serverless/test/deliver" }, client);
    const old = await resolver.hostId();
    await client.request("POST", `api/v0/hosts/${old}/retire`, {});
    const now = Math.floor(Date.now() / 1000);
    const writes: MackerelWrite[] = [
      { kind: "hostMetrics", points: [{ hostId: old, name: "custom.d.x", time: now, value: 1 }] },
      {
        kind: "checkReports",
        reports: [
          { source: { type: "host", hostId: old }, name: "d-check", status: "OK", message: "m", occurredAt: now },
        ],
      },
    ];
    const spool: Spool = { put: async () => Promise.reject(new Error("must not spool")) };
    const result = await deliver(writes, client, logger, spool, resolver);
    expect(result).toMatchObject({ posted: { hostMetrics: 1, checkReports: 1 }, spooled: false, rejected: [] });
    const fresh = await resolver.hostId();
    expect(fresh).not.toBe(old);
    expect(mackerel.hostMetrics(fresh).map((m) => m.name)).toEqual(["custom.d.x"]);
    expect(mackerel.checkReports().map((r) => r.hostId)).toEqual([fresh]);
    // One refused write (404), then the new host: the report went to it directly.
    expect(mackerel.requests.filter((r) => r.method === "POST" && r.status === 404).map((r) => r.path)).toEqual([
      "/api/v0/tsdb",
    ]);
  });

  test("without a resolver the refusal stands", async () => {
    const client = new MackerelClient({
      baseUrl: mackerel.url,
      apiKey: { get: async () => "k", refresh: async () => "k" },
    });
    const result = await deliver([host("gone00000")], client, logger);
    expect(result.rejected.map((r) => r.error.status)).toEqual([404]);
  });
});
