/**
 * S3 freshness checks: the pure verdicts, and the check run through the SDK-backed S3 API (the
 * function's own lazily loaded client) against the local S3 stand-in, which pages ListObjectsV2, honours
 * GetObject ranges and refuses unsigned requests.
 */
import { BODY_READ_BYTES, evaluateS3Freshness, runS3FreshnessCheck } from "../../../functions/check/s3-freshness";
import type { S3Api } from "../../../functions/check/aws-s3";
import { parseCheckSpec, type S3FreshnessSpec } from "../../../functions/check/spec";
import { S3Stub } from "../../../scripts/local/s3-stub";
import { runContext } from "./support";

const MIN = 60_000;
const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);
const spec = (extra: Record<string, unknown> = {}) =>
  parseCheckSpec({
    kind: "s3_freshness",
    name: "pulse",
    bucket: "pulses",
    prefix: "jobs/nightly/",
    max_age_minutes: 10,
    ...extra,
  }) as S3FreshnessSpec;

describe("spec", () => {
  test("defaults and validation name the field", () => {
    expect(parseCheckSpec({ kind: "s3_freshness", name: "p", bucket: "b-1", max_age_minutes: 5 })).toEqual({
      kind: "s3_freshness",
      name: "p",
      bucket: "b-1",
      prefix: "",
      maxAgeMinutes: 5,
    });
    expect(() => parseCheckSpec({ kind: "s3_freshness", name: "p", bucket: "Bad_Bucket", max_age_minutes: 0 })).toThrow(
      "check.bucket: must be an S3 bucket name (3–63 characters of a-z 0-9 . -); check.max_age_minutes: must be at least 1 minutes",
    );
    expect(() =>
      parseCheckSpec({ kind: "s3_freshness", name: "p", bucket: "b-1", max_age_minutes: 5, body: "x" }),
    ).toThrow('check: unknown field "body" for kind s3_freshness');
  });
});

describe("evaluateS3Freshness", () => {
  const newest = { key: "jobs/nightly/2026-01-10T11-55.json", lastModifiedMs: NOW - 5 * MIN };
  test("fresh is OK with the age; stale is CRITICAL naming the object and its age; none is CRITICAL", () => {
    expect(evaluateS3Freshness(spec(), { kind: "found", newest, objects: 3 }, NOW)).toEqual({
      status: "OK",
      message:
        "OK: the newest object under s3://pulses/jobs/nightly/ is s3://pulses/jobs/nightly/2026-01-10T11-55.json, 5m old (limit 10m)",
      metrics: { age_seconds: 300, objects: 3 },
    });
    expect(
      evaluateS3Freshness(
        spec(),
        { kind: "found", newest: { ...newest, lastModifiedMs: NOW - 125 * MIN }, objects: 3 },
        NOW,
      ),
    ).toEqual({
      status: "CRITICAL",
      message:
        "CRITICAL: the newest object under s3://pulses/jobs/nightly/ is s3://pulses/jobs/nightly/2026-01-10T11-55.json, 2h 5m old (last modified 2026-01-10T09:55:00Z; limit 10m)",
      metrics: { age_seconds: 7500, objects: 3 },
    });
    expect(evaluateS3Freshness(spec(), { kind: "empty" }, NOW)).toMatchObject({
      status: "CRITICAL",
      message: "CRITICAL: no object under s3://pulses/jobs/nightly/ (max_age_minutes 10)",
    });
  });
  test("body_contains: a fresh pulse without the text is CRITICAL with a redacted excerpt", () => {
    const outcome = evaluateS3Freshness(
      spec({ body_contains: '"status":"ok"' }),
      { kind: "found", newest, objects: 1, body: '{"status":"failed","by":"ops@example.com"}' },
      NOW,
    );
    expect(outcome.status).toBe("CRITICAL");
    expect(outcome.message).toContain('does not contain "\\"status\\":\\"ok\\"" in its first 64 KiB');
    expect(outcome.message).toContain("[REDACTED:email]");
    expect(outcome.message).not.toContain("ops@example.com");
  });
});

describe("through the SDK against the local S3", () => {
  const s3 = new S3Stub();
  let api: () => Promise<S3Api>;
  const saved = { ...process.env };

  beforeAll(async () => {
    const url = await s3.start();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: url,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "AKIDLOCAL",
      AWS_SECRET_ACCESS_KEY: "local-secret",
    });
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require("../../../functions/check/aws-s3") as typeof import("../../../functions/check/aws-s3");
      api = mod.loadS3Api;
    });
    s3.pageSize = 2;
    const now = Date.now();
    const objects: Record<string, { body: string; lastModifiedMs: number }> = {};
    // Keys in time order but the newest is NOT the last key: the check must look at every page.
    for (let i = 0; i < 5; i++)
      objects[`jobs/nightly/run-${i}`] = { body: `{"status":"ok","run":${i}}`, lastModifiedMs: now - (20 - i) * MIN };
    objects["jobs/nightly/a-newest"] = {
      body: '{"status":"ok"}' + " ".repeat(BODY_READ_BYTES * 2),
      lastModifiedMs: now - 2 * MIN,
    };
    objects["jobs/other/x"] = { body: "", lastModifiedMs: now };
    s3.addBucket("pulses", objects);
    s3.addBucket("stale", { "p/old": { body: "x", lastModifiedMs: now - 90 * MIN } });
    s3.addBucket("locked", { "p/new": { body: "x", lastModifiedMs: now - MIN } });
    s3.denyGetObject.add("locked");
  });
  afterAll(async () => {
    process.env = saved;
    await s3.close();
  });

  test("pages through every object under the prefix and finds the newest; reads only a bounded range", async () => {
    const outcome = await runS3FreshnessCheck(
      spec({ body_contains: '"status":"ok"' }),
      await api(),
      runContext(10_000),
    );
    expect(outcome.status).toBe("OK");
    expect(outcome.message).toMatch(
      /is s3:\/\/pulses\/jobs\/nightly\/a-newest, 2m( \d+s)? old \(limit 10m\), and contains/,
    );
    expect(outcome.metrics.objects).toBe(6);
    const lists = s3.requests.filter((r) => r.query["list-type"] === "2");
    expect(lists).toHaveLength(3);
    expect(lists.every((r) => r.query.prefix === "jobs/nightly/")).toBe(true);
    expect(lists.slice(1).every((r) => r.query["continuation-token"])).toBe(true);
    expect(s3.requests.filter((r) => r.key).map((r) => [r.key, r.range, r.status])).toEqual([
      ["jobs/nightly/a-newest", `bytes=0-${BODY_READ_BYTES - 1}`, 206],
    ]);
  });

  test("a stale newest object is CRITICAL and its body is not read; a missing bucket is CRITICAL", async () => {
    const before = s3.requests.length;
    const stale = await runS3FreshnessCheck(
      spec({ bucket: "stale", prefix: "p/", body_contains: "ok" }),
      await api(),
      runContext(10_000),
    );
    expect(stale.status).toBe("CRITICAL");
    expect(stale.message).toMatch(
      /^CRITICAL: the newest object under s3:\/\/stale\/p\/ is s3:\/\/stale\/p\/old, 1h 30m old/,
    );
    expect(s3.requests.slice(before).some((r) => r.key)).toBe(false);
    const missing = await runS3FreshnessCheck(spec({ bucket: "gone" }), await api(), runContext(10_000));
    expect(missing).toMatchObject({
      status: "CRITICAL",
      message: expect.stringContaining("bucket gone does not exist"),
    });
  });

  test("an empty prefix is CRITICAL; AccessDenied on GetObject is UNKNOWN with the reason", async () => {
    expect(await runS3FreshnessCheck(spec({ prefix: "nothing/" }), await api(), runContext(10_000))).toMatchObject({
      status: "CRITICAL",
      message: "CRITICAL: no object under s3://pulses/nothing/ (max_age_minutes 10)",
    });
    const denied = await runS3FreshnessCheck(
      spec({ bucket: "locked", prefix: "p/", body_contains: "x" }),
      await api(),
      runContext(10_000),
    );
    expect(denied.status).toBe("UNKNOWN");
    expect(denied.message).toBe("UNKNOWN: GetObject of s3://locked/p/new failed: AccessDenied: Access Denied");
  });
});
