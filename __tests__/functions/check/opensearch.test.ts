/**
 * OpenSearch query checks: the request they build, the verdicts, and the check run through the
 * function's own SigV4-signing client against the strict local stand-in (which refuses unsigned or
 * badly signed requests and unknown query syntax) for a managed domain (es) and a serverless
 * collection (aoss).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createSearchApi } from "../../../functions/check/opensearch-client";
import {
  buildSearchCall,
  indexPath,
  runOpenSearchCheck,
  summarizeOpenSearch,
} from "../../../functions/check/opensearch";
import { type OpenSearchQuerySpec, parseCheckSpec } from "../../../functions/check/spec";
import { OpenSearchStub } from "../../../scripts/local/opensearch-stub";
import { runContext } from "./support";

const DOMAIN = "https://search-app-logs-abc123def456ghi789.ap-northeast-1.es.amazonaws.com";
const spec = (extra: Record<string, unknown> = {}) =>
  parseCheckSpec({
    kind: "opensearch_query",
    name: "errors",
    endpoint: DOMAIN,
    index: "app-*",
    query: "level:ERROR",
    ...extra,
  }) as OpenSearchQuerySpec;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 0, 10, 0, 5, 30);

describe("spec", () => {
  test("defaults; service and region from the endpoint; query DSL or query_string", () => {
    expect(spec()).toMatchObject({
      service: "es",
      region: "ap-northeast-1",
      timeField: "@timestamp",
      windowMinutes: 5,
      offsetMinutes: 0,
      direction: "above",
      query: { kind: "query_string", text: "level:ERROR" },
    });
    expect(spec({ endpoint: "https://k3x9q7w2e1r8t5y4u6i0.us-east-1.aoss.amazonaws.com/" })).toMatchObject({
      service: "aoss",
      region: "us-east-1",
      endpoint: "https://k3x9q7w2e1r8t5y4u6i0.us-east-1.aoss.amazonaws.com",
    });
    expect(spec({ query: '{"query": {"term": {"level": "ERROR"}}}' }).query).toEqual({
      kind: "dsl",
      clause: { term: { level: "ERROR" } },
    });
  });
  test("bad input names the field and the rule", () => {
    expect(() => spec({ query: '{"match": ' })).toThrow(
      /^invalid check input: check\.query: is not valid JSON query DSL/,
    );
    expect(() => spec({ query: '{"match": {}, "term": {}}' })).toThrow(
      "check.query: must hold exactly one query clause",
    );
    expect(() => spec({ service: "kibana", index: "UPPER" })).toThrow(
      "check.index: must be an index name or pattern (lowercase a-z 0-9 * . _ + , : -); check.service: must be es or aoss",
    );
    expect(() => spec({ warning: 5, critical: 1 })).toThrow(
      "check.warning: must be at most critical when direction is above",
    );
  });
});

describe("the request", () => {
  test("_count without group_by, over [now - offset - window, now - offset) on the time field", () => {
    const s = spec({ window_minutes: 1440, offset_minutes: 5, time_field: "ts" });
    const window = { start: Date.UTC(2026, 0, 9) / 1000, end: Date.UTC(2026, 0, 10) / 1000 };
    expect(buildSearchCall(s, window)).toEqual({
      path: "/app-*/_count",
      body: {
        query: {
          bool: {
            filter: [
              { query_string: { query: "level:ERROR" } },
              { range: { ts: { gte: window.start * 1000, lt: window.end * 1000, format: "epoch_millis" } } },
            ],
          },
        },
      },
    });
    expect(buildSearchCall(spec({ group_by: "level.keyword" }), window)).toMatchObject({
      path: "/app-*/_search",
      body: { size: 0, track_total_hits: true, aggs: { groups: { terms: { field: "level.keyword", size: 50 } } } },
    });
    expect(indexPath("logs-*,audit:x")).toBe("logs-*,audit%3Ax");
  });
});

describe("summarizeOpenSearch", () => {
  const day = { start: Date.UTC(2026, 0, 9) / 1000, end: Date.UTC(2026, 0, 10) / 1000 };
  test("a daily window shows each bucket per hour; metrics total plus one per sanitized bucket; dashboards link", () => {
    const outcome = summarizeOpenSearch(
      spec({
        window_minutes: 1440,
        group_by: "level",
        warning: 10,
        critical: 100,
        dashboards_url: "https://dash.example.com/d",
      }),
      {
        total: 48,
        buckets: [
          { key: "ERROR", count: 36 },
          { key: "WARN level", count: 12 },
          { key: "total", count: 0 },
        ],
        otherCount: 0,
      },
      day,
    );
    expect(outcome).toEqual({
      status: "WARNING",
      message: [
        "WARNING: total 48 (>= warning 10) in 2026-01-09T00:00:00Z – 2026-01-10T00:00:00Z (1d), app-* on search-app-logs-abc123def456ghi789.ap-northeast-1.es.amazonaws.com",
        "by level: ERROR=36 (1.5/h), WARN level=12 (0.5/h), total=0 (0/h)",
        "thresholds: warning >= 10, critical >= 100",
        "dashboards: https://dash.example.com/d",
      ].join("\n"),
      metrics: { total: 48, ERROR: 36, WARN_level: 12, total_2: 0 },
    });
  });
  test("below: nothing found is CRITICAL", () => {
    const outcome = summarizeOpenSearch(
      spec({ direction: "below", critical: 0 }),
      { total: 0 },
      { start: 0, end: 300 },
    );
    expect(outcome.status).toBe("CRITICAL");
    expect(outcome.metrics).toEqual({ total: 0 });
  });
});

describe.each(["es", "aoss"] as const)("signed requests against the local %s stand-in", (service) => {
  const stub = new OpenSearchStub(service);
  const saved = { ...process.env };
  let endpoint: string;
  beforeAll(async () => {
    endpoint = await stub.start();
    Object.assign(process.env, {
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "AKIDLOCAL",
      AWS_SECRET_ACCESS_KEY: "local-secret",
      AWS_SESSION_TOKEN: "local-token",
    });
    const docs = [
      ...Array.from({ length: 30 }, (_, i) => ({
        "@timestamp": new Date(NOW - 6 * 60_000 - (i * HOUR) / 2).toISOString(),
        level: "ERROR",
        msg: `e${i}`,
      })),
      ...Array.from({ length: 6 }, (_, i) => ({ "@timestamp": NOW - 10 * 60_000 - i * HOUR, level: "WARN" })),
      { "@timestamp": NOW - 30 * HOUR, level: "ERROR" },
      { "@timestamp": NOW - 60_000, level: "ERROR" },
      { "@timestamp": NOW - 2 * HOUR, level: "INFO" },
    ];
    stub.addIndex("app-2026.01.09", docs);
    stub.addIndex("other", [{ "@timestamp": NOW - 2 * HOUR, level: "ERROR" }]);
  });
  afterAll(async () => {
    process.env = saved;
    await stub.close();
  });
  const daily = (extra: Record<string, unknown> = {}) =>
    ({ ...spec({ window_minutes: 1440, offset_minutes: 5, service, endpoint, ...extra }) }) as OpenSearchQuerySpec;

  test("_count: the documents of the window, signed for the service, the body as sent", async () => {
    const outcome = await runOpenSearchCheck(
      daily({ query: "level:ERROR OR level:WARN", critical: 30 }),
      createSearchApi(),
      runContext(10_000, NOW),
    );
    expect(outcome.metrics).toEqual({ total: 36 });
    expect(outcome.status).toBe("CRITICAL");
    expect(outcome.message).toMatch(
      /^CRITICAL: total 36 \(>= critical 30\) in 2026-01-09T00:00:00Z – 2026-01-10T00:00:00Z \(1d\), app-\* on 127\.0\.0\.1:\d+\naverage 1\.5\/h/,
    );
    const request = stub.requests.at(-1)!;
    expect(request).toMatchObject({ method: "POST", path: "/app-*/_count", status: 200 });
    expect(request.headers.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=AKIDLOCAL/\\d{8}/eu-west-1/${service}/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=`,
      ),
    );
    expect(request.headers["x-amz-security-token"]).toBe("local-token");
    expect(request.headers["x-amz-content-sha256"]).toMatch(/^[0-9a-f]{64}$/);
  });

  test("_search with a terms aggregation: one metric per bucket plus the total", async () => {
    const outcome = await runOpenSearchCheck(
      daily({ query: '{"bool": {"must_not": {"term": {"level": "INFO"}}}}', group_by: "level.keyword", warning: 1 }),
      createSearchApi(),
      runContext(10_000, NOW),
    );
    expect(outcome.metrics).toEqual({ total: 36, ERROR: 30, WARN: 6 });
    expect(outcome.message).toContain("by level.keyword: ERROR=30 (1.25/h), WARN=6 (0.25/h)");
    expect(stub.requests.at(-1)!.body).toMatchObject({
      size: 0,
      aggs: { groups: { terms: { field: "level.keyword" } } },
    });
  });

  test("failures are UNKNOWN with the reason: bad query syntax, a missing index, IAM's 403, no server", async () => {
    const api = createSearchApi();
    expect(
      (await runOpenSearchCheck(daily({ query: '{"regexp": {"level": "E.*"}}' }), api, runContext(10_000, NOW)))
        .message,
    ).toBe("UNKNOWN: POST /app-*/_count answered 400: parsing_exception: unknown query [regexp]");
    expect((await runOpenSearchCheck(daily({ index: "missing" }), api, runContext(10_000, NOW))).message).toBe(
      "UNKNOWN: POST /missing/_count answered 404: index_not_found_exception: no such index [missing]",
    );
    stub.failNext = {
      status: 403,
      body: {
        message: "User: arn:aws:sts::123456789012:assumed-role/ms-check is not authorized to perform: es:ESHttpPost",
      },
    };
    expect((await runOpenSearchCheck(daily(), api, runContext(10_000, NOW))).message).toMatch(
      /^UNKNOWN: POST \/app-\*\/_count answered 403: User: .* is not authorized to perform: es:ESHttpPost \(the check function's role needs/,
    );
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await runOpenSearchCheck(
      daily({ endpoint: `http://127.0.0.1:${port}` }),
      api,
      runContext(10_000, NOW),
    );
    expect(down.message).toMatch(/^UNKNOWN: POST \/app-\*\/_count failed: TypeError: fetch failed \(ECONNREFUSED\)$/);
  });

  test("the stand-in refuses an unsigned request", async () => {
    const response = await fetch(`${endpoint}/app-*/_count`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(403);
  });
});
