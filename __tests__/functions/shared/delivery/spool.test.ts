/**
 * The spool as the functions use it: envelopes split under SQS's size limit with every item exactly once,
 * the placeholder host, `deliver` spooling retryable failures (never refusals), and SqsSpool sending
 * FIFO batches to the SQS stand-in through the real SDK (lazily loaded, AWS_ENDPOINT_URL_SQS honoured).
 */
import { deliver } from "../../../../functions/shared/delivery/deliver";
import { MackerelRejectedError, MackerelUnavailableError } from "../../../../functions/shared/errors";
import { Logger } from "../../../../functions/shared/logger";
import type { MackerelClient, MackerelWrite } from "../../../../functions/shared/mackerel-client";
import {
  batchSpoolMessages,
  encodeSpoolMessages,
  SPOOL_BODY_MAX_BYTES,
  type SpoolEnvelope,
} from "../../../../functions/shared/delivery/envelope";
import {
  fillHostPlaceholder,
  hostIdOrPlaceholder,
  SPOOL_HOST_PLACEHOLDER,
  usesHostPlaceholder,
} from "../../../../functions/shared/delivery/host-placeholder";
import { CHECK_REPORT_ORDER_HOLD_MS } from "../../../../functions/shared/delivery/order-hold";
import { type Spool, type SpoolCause, SqsSpool } from "../../../../functions/shared/delivery/spool";
import { LocalSqs } from "../../../../scripts/local/sqs";

const quiet = new Logger();
beforeAll(() => {
  for (const level of ["debug", "info", "warn", "error"] as const)
    jest.spyOn(console, level).mockImplementation(() => {});
});
afterAll(() => jest.restoreAllMocks());

const serviceWrite = (n: number, offset = 0): MackerelWrite => ({
  kind: "serviceMetrics",
  service: "svc",
  points: Array.from({ length: n }, (_, i) => ({ name: `m.${i + offset}`, time: 1_700_000_000 + i, value: i })),
});
const reports = (n: number, hostId = "hostA"): MackerelWrite => ({
  kind: "checkReports",
  reports: Array.from({ length: n }, (_, i) => ({
    source: { type: "host" as const, hostId },
    name: `c${i}`,
    status: "CRITICAL" as const,
    // Worst case for size: characters JSON escapes to six bytes each.
    message: "\u0001".repeat(1024),
    occurredAt: 1_700_000_000,
  })),
});

describe("encodeSpoolMessages", () => {
  test("a small set of writes is one envelope {v:1, writes, firstAttemptAt, origin}", () => {
    const writes = [serviceWrite(3), reports(2)];
    const bodies = encodeSpoolMessages(writes, { firstAttemptAt: 123, origin: "metric" });
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(bodies[0]!)).toEqual({ v: 1, writes, firstAttemptAt: 123, origin: "metric" });
  });

  test("large sets split across messages under the limit, every item exactly once and in order", () => {
    const writes = [serviceWrite(5000), reports(100), serviceWrite(3000, 5000), reports(100, "hostB")];
    const bodies = encodeSpoolMessages(writes, { firstAttemptAt: 1, origin: "metric" });
    expect(bodies.length).toBeGreaterThan(3);
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(SPOOL_BODY_MAX_BYTES);
    const flattened = (list: MackerelWrite[]) =>
      list.flatMap((w) =>
        w.kind === "checkReports"
          ? w.reports.map((r) => `${r.source.hostId}/${r.name}`)
          : w.points.map((p) => `${w.kind}/${p.name}`),
      );
    const decoded = bodies.flatMap((b) => (JSON.parse(b) as SpoolEnvelope).writes);
    expect(flattened(decoded)).toEqual(flattened(writes));
  });

  test("tight limits are honoured exactly; an item that can never fit is an error", () => {
    const writes = [serviceWrite(50)];
    for (const max of [200, 333, 1000]) {
      const bodies = encodeSpoolMessages(writes, { firstAttemptAt: 1, origin: "o" }, max);
      for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(max);
      expect(
        bodies.flatMap((b) =>
          (JSON.parse(b) as SpoolEnvelope).writes.flatMap((w) => (w as { points: unknown[] }).points),
        ),
      ).toHaveLength(50);
    }
    expect(() => encodeSpoolMessages(writes, { firstAttemptAt: 1, origin: "o" }, 100)).toThrow(/exceeds/);
  });

  test("batches hold at most 10 messages and 256 KiB", () => {
    const bodies = Array.from({ length: 25 }, () => "x".repeat(20 * 1024));
    const batches = batchSpoolMessages(bodies);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(10);
      expect(batch.reduce((s, b) => s + b.length, 0)).toBeLessThanOrEqual(256 * 1024);
    }
    expect(batches.flat()).toHaveLength(25);
  });
});

describe("the placeholder host", () => {
  test("is recognised and filled in host metrics and check reports only", () => {
    const host: MackerelWrite = {
      kind: "hostMetrics",
      points: [{ hostId: SPOOL_HOST_PLACEHOLDER, name: "custom.a", time: 1, value: 1 }],
    };
    const checks = reports(1, SPOOL_HOST_PLACEHOLDER);
    expect([host, checks, serviceWrite(1)].map(usesHostPlaceholder)).toEqual([true, true, false]);
    expect(fillHostPlaceholder(host, "H1")).toEqual({
      kind: "hostMetrics",
      points: [{ hostId: "H1", name: "custom.a", time: 1, value: 1 }],
    });
    expect(usesHostPlaceholder(fillHostPlaceholder(checks, "H1"))).toBe(false);
  });

  test("hostIdOrPlaceholder: the id, the placeholder when Mackerel is down or slow (with a spool), refusals thrown", async () => {
    await expect(hostIdOrPlaceholder(async () => "H1", { budgetMs: 100, spool: true })).resolves.toBe("H1");
    const down = async (): Promise<string> => {
      throw new MackerelUnavailableError("503");
    };
    await expect(hostIdOrPlaceholder(down, { budgetMs: 100, spool: true })).resolves.toBe(SPOOL_HOST_PLACEHOLDER);
    await expect(hostIdOrPlaceholder(down, { budgetMs: 100, spool: false })).rejects.toThrow("503");
    const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve("late"), 500));
    await expect(hostIdOrPlaceholder(slow, { budgetMs: 20, spool: true })).resolves.toBe(SPOOL_HOST_PLACEHOLDER);
    const refused = async (): Promise<string> => {
      throw new MackerelRejectedError("403", 403);
    };
    await expect(hostIdOrPlaceholder(refused, { budgetMs: 100, spool: true })).rejects.toThrow("403");
  });
});

describe("deliver with a spool", () => {
  class MemorySpool implements Spool {
    puts: { writes: MackerelWrite[]; cause?: SpoolCause }[] = [];
    hold = false;
    async put(writes: MackerelWrite[], cause?: SpoolCause) {
      this.puts.push({ writes, cause });
    }
    holdsBack(write: MackerelWrite) {
      return this.hold && write.kind === "checkReports";
    }
  }
  const client = (outcomes: ("ok" | "down" | "refuse")[]) => {
    const sent: MackerelWrite[] = [];
    return {
      sent,
      client: {
        send: async (write: MackerelWrite) => {
          const outcome = outcomes.shift() ?? "ok";
          if (outcome === "down") throw new MackerelUnavailableError("Mackerel unavailable: 503");
          if (outcome === "refuse") throw new MackerelRejectedError("Mackerel refused: 400", 400, "bad name");
          sent.push(write);
        },
      } as unknown as MackerelClient,
    };
  };

  test("a retryable failure spools that write and every later one; earlier ones are posted", async () => {
    const spool = new MemorySpool();
    const { client: c, sent } = client(["ok", "down"]);
    const writes = [serviceWrite(2), reports(1), serviceWrite(3)];
    const result = await deliver(writes, c, quiet, spool);
    expect(sent).toEqual([writes[0]]);
    expect(spool.puts).toEqual([{ writes: [writes[1], writes[2]], cause: "unavailable" }]);
    expect(result).toMatchObject({
      spooled: true,
      spooledCounts: { serviceMetrics: 3, hostMetrics: 0, checkReports: 1 },
    });
  });

  test("refusals are never spooled: returned for the caller to surface", async () => {
    const spool = new MemorySpool();
    const { client: c } = client(["refuse", "ok"]);
    const result = await deliver([serviceWrite(1), serviceWrite(1, 1)], c, quiet, spool);
    expect(spool.puts).toEqual([]);
    expect(result.rejected.map((r) => r.error.mackerelMessage)).toEqual(["bad name"]);
    expect(result.spooled).toBe(false);
  });

  test("placeholder writes go straight to the spool; check reports held back queue behind (cause: ordering)", async () => {
    const spool = new MemorySpool();
    const { client: c, sent } = client([]);
    const placeholder = reports(1, SPOOL_HOST_PLACEHOLDER);
    await deliver([serviceWrite(1), placeholder], c, quiet, spool);
    expect(sent).toHaveLength(1);
    expect(spool.puts).toEqual([{ writes: [placeholder], cause: "unresolvedHost" }]);
    spool.hold = true;
    const held = reports(1);
    await deliver([serviceWrite(1), held], c, quiet, spool);
    expect(spool.puts[1]).toEqual({ writes: [held], cause: "ordering" });
  });

  test("without a spool, a placeholder write is an unavailability error", async () => {
    const { client: c } = client([]);
    await expect(deliver([reports(1, SPOOL_HOST_PLACEHOLDER)], c, quiet)).rejects.toBeInstanceOf(
      MackerelUnavailableError,
    );
  });
});

describe("SqsSpool against the SQS stand-in", () => {
  let sqs: LocalSqs;
  let queueUrl: string;
  beforeAll(async () => {
    sqs = await LocalSqs.start();
    queueUrl = sqs.createQueue("spool.fifo");
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SQS: sqs.url,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "AKIDLOCAL",
      AWS_SECRET_ACCESS_KEY: "local-secret",
    });
  });
  afterAll(async () => {
    await sqs.close();
  });

  test("puts FIFO messages in one group with content dedup ids; a large set spans several batches", async () => {
    const now = 1_800_000_000_000;
    const spool = new SqsSpool({ queueUrl, origin: "metric", now: () => now });
    const writes = [serviceWrite(12_000), reports(50)];
    await spool.put(writes);
    const stored = sqs.messages("spool.fifo");
    expect(stored.length).toBeGreaterThan(1);
    expect(new Set(stored.map((m) => m.groupId))).toEqual(new Set(["spool"]));
    const envelopes = stored.map((m) => JSON.parse(m.body) as SpoolEnvelope);
    expect(envelopes.every((e) => e.v === 1 && e.origin === "metric" && e.firstAttemptAt === now)).toBe(true);
    const points = envelopes
      .flatMap((e) => e.writes)
      .reduce((n, w) => n + (w.kind === "checkReports" ? w.reports.length : w.points.length), 0);
    expect(points).toBe(12_050);
    expect(sqs.calls.filter((c) => c.target === "AmazonSQS.SendMessageBatch").length).toBeGreaterThan(1);
    // The same writes again (a retried put within 5 minutes): deduplicated, not queued twice.
    await spool.put(writes);
    expect(sqs.depth("spool.fifo")).toBe(stored.length);
  });

  test("after a failure, check reports are held back for the order window; not after an ordering put", async () => {
    let now = 1_000_000;
    const spool = new SqsSpool({ queueUrl, origin: "metric", now: () => now });
    expect(spool.holdsBack(reports(1))).toBe(false);
    await spool.put([serviceWrite(1, 99)], "ordering");
    expect(spool.holdsBack(reports(1))).toBe(false);
    await spool.put([serviceWrite(1, 100)], "unavailable");
    expect(spool.holdsBack(reports(1))).toBe(true);
    expect(spool.holdsBack(serviceWrite(1))).toBe(false);
    now += CHECK_REPORT_ORDER_HOLD_MS;
    expect(spool.holdsBack(reports(1))).toBe(false);
  });

  test("a queue that refuses surfaces MackerelUnavailableError, the one retryable name (the caller must fail, not drop)", async () => {
    const spool = new SqsSpool({ queueUrl: sqs.queueUrl("missing.fifo"), origin: "metric" });
    await expect(spool.put([serviceWrite(1)])).rejects.toMatchObject({
      name: "MackerelUnavailableError",
      message: expect.stringContaining("the spool refused the writes"),
    });
  });
});
