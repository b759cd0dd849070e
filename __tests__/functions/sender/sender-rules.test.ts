/** The sender's pure rules: the retry schedule and its coverage, expiry at Mackerel's edges, order, envelopes. */
import { parseEnvelope } from "../../../functions/sender/envelope";
import { dropExpired, inOccurrenceOrder } from "../../../functions/sender/expiry";
import {
  maxReceiveCountFor,
  RECEIVE_MARGIN,
  retryDelaySeconds,
  retryWindowSeconds,
  SPOOL_MAX_AGE_HOURS_MAX,
  SPOOL_MAX_AGE_HOURS_MIN,
} from "../../../functions/sender/schedule";
import type { MackerelWrite } from "../../../functions/shared/mackerel-client";
import { CHECK_REPORT_RETENTION_SECONDS, METRIC_RETENTION_SECONDS } from "../../../functions/shared/names";

describe("retry schedule", () => {
  test("grows 60, 120, 240, 480 s, then stays at 15 minutes", () => {
    expect([1, 2, 3, 4, 5, 6, 50, 1000].map(retryDelaySeconds)).toEqual([60, 120, 240, 480, 900, 900, 900, 900]);
  });

  test.each([6, 12, 24])("maxReceiveCount for %i h covers the hours, plus a margin of receives", (hours) => {
    const count = maxReceiveCountFor(hours);
    expect(retryWindowSeconds(count - RECEIVE_MARGIN)).toBeGreaterThanOrEqual(hours * 3600);
    expect(retryWindowSeconds(count - RECEIVE_MARGIN - 1)).toBeLessThan(hours * 3600);
  });

  test("the default 24 h is 105 receives and more than Mackerel's metric window; SQS allows up to 1000", () => {
    expect(maxReceiveCountFor(24)).toBe(105);
    expect(retryWindowSeconds(105)).toBeGreaterThan(METRIC_RETENTION_SECONDS);
    expect(maxReceiveCountFor(SPOOL_MAX_AGE_HOURS_MAX)).toBeLessThanOrEqual(1000);
    expect(retryWindowSeconds(maxReceiveCountFor(SPOOL_MAX_AGE_HOURS_MIN))).toBeGreaterThan(
      CHECK_REPORT_RETENTION_SECONDS,
    );
  });
});

describe("expiry", () => {
  const now = 2_000_000_000;
  const writes: MackerelWrite[] = [
    {
      kind: "serviceMetrics",
      service: "s",
      points: [
        { name: "a", time: now - METRIC_RETENTION_SECONDS, value: 1 },
        { name: "a", time: now - METRIC_RETENTION_SECONDS + 1, value: 2 },
      ],
    },
    {
      kind: "hostMetrics",
      points: [{ hostId: "h", name: "custom.x", time: now - METRIC_RETENTION_SECONDS - 5, value: 1 }],
    },
    {
      kind: "checkReports",
      reports: [
        {
          source: { type: "host", hostId: "h" },
          name: "c",
          status: "OK",
          message: "",
          occurredAt: now - CHECK_REPORT_RETENTION_SECONDS,
        },
        {
          source: { type: "host", hostId: "h" },
          name: "c",
          status: "OK",
          message: "",
          occurredAt: now - CHECK_REPORT_RETENTION_SECONDS + 1,
        },
      ],
    },
  ];

  test("drops metrics 24 h old and reports 6 h old (Mackerel's edges), keeps the rest, counts by kind", () => {
    const result = dropExpired(writes, now);
    expect(result.expired).toEqual({ serviceMetrics: 1, hostMetrics: 1, checkReports: 1 });
    expect(result.oldestExpired).toBe(now - METRIC_RETENTION_SECONDS - 5);
    expect(result.writes).toEqual([
      {
        kind: "serviceMetrics",
        service: "s",
        points: [writes[0]!.kind === "serviceMetrics" ? writes[0]!.points[1] : undefined],
      },
      { kind: "checkReports", reports: [(writes[2] as { reports: unknown[] }).reports[1]] },
    ]);
  });

  test("order of occurrence inside a write (messages themselves keep queue order)", () => {
    const late: MackerelWrite = {
      kind: "serviceMetrics",
      service: "s",
      points: [
        { name: "a", time: 30, value: 1 },
        { name: "a", time: 10, value: 1 },
      ],
    };
    expect((inOccurrenceOrder(late) as { points: { time: number }[] }).points.map((p) => p.time)).toEqual([10, 30]);
  });
});

describe("envelopes", () => {
  test("a well-formed envelope parses", () => {
    const envelope = {
      v: 1,
      writes: [{ kind: "serviceMetrics", service: "s", points: [{ name: "a", time: 1, value: 2 }] }],
      firstAttemptAt: 5,
      origin: "metric",
    };
    expect(parseEnvelope(JSON.stringify(envelope))).toEqual({ ok: true, envelope });
  });

  test.each([
    ["not JSON", "{", /not JSON/],
    ["another version", JSON.stringify({ v: 2, writes: [], firstAttemptAt: 1, origin: "x" }), /v: must be 1/],
    [
      "a bad write",
      JSON.stringify({
        v: 1,
        writes: [{ kind: "serviceMetrics", service: "s", points: [{ name: "a", time: 1.5, value: 1 }] }],
        firstAttemptAt: 1,
        origin: "x",
      }),
      /writes\.0\.points\.0\.time: must be whole epoch seconds/,
    ],
    [
      "an unknown kind",
      JSON.stringify({ v: 1, writes: [{ kind: "alerts" }], firstAttemptAt: 1, origin: "x" }),
      /writes\.0/,
    ],
  ])("%s is malformed, with the reason", (_name, body, reason) => {
    const parsed = parseEnvelope(body);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.reason).toMatch(reason);
  });
});
