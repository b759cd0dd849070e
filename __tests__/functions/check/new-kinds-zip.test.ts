/**
 * The S3 freshness and OpenSearch query checks from the BUILT check zip in a Lambda-like process,
 * invoked with the inputs the module's planned EventBridge rules carry (read from `terraform plan`),
 * against the local S3 stand-in (through AWS_ENDPOINT_URL_S3), the local OpenSearch stand-in (signed
 * requests; the planned domain endpoint is swapped for the stand-in's address, everything else as
 * planned) and the local Mackerel server.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { LocalAwsJsonServer, secretsManagerHandlers } from "../../../scripts/local/aws-json-server";
import { DIST_DIR, LocalLambda } from "../../../scripts/local/lambda-runner";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";
import { OpenSearchStub } from "../../../scripts/local/opensearch-stub";
import { S3Stub } from "../../../scripts/local/s3-stub";
import { describeWithTerraform } from "../../support/terraform";
import { checkResults, checkZipEnv, planRuleInputs, SECRET_ARN, SERVICE } from "./zip-support";

const KEY = "new-kinds-zip-test-key-0123456789";
const DOMAIN = "https://search-app-logs-abc123def456ghi789.us-east-1.es.amazonaws.com";
const MIN = 60_000;

let mackerel: LocalMackerelServer;
let aws: LocalAwsJsonServer;
const s3 = new S3Stub();
const search = new OpenSearchStub("es");
let check: LocalLambda | undefined;

const { lastReport, metricsOf } = checkResults(() => mackerel);

/**
 * The objects and documents the checks read, placed relative to now. Seeded once the plan has run and the
 * container has started, not before the plan: the reports state ages in whole minutes ("3m 12s", "3h 20m"),
 * which gained a minute whenever the plan and the start took over 60 s (a loaded machine; 8 s when idle).
 */
function seedTimedData(now: number): void {
  const pulses: Record<string, { body: string; lastModifiedMs: number }> = {};
  for (let i = 0; i < 7; i++)
    pulses[`nightly/${1000 + i}.json`] = { body: '{"status":"ok"}', lastModifiedMs: now - (60 - i) * MIN };
  pulses["nightly/0999.json"] = { body: '{"status":"failed"}', lastModifiedMs: now - 3 * MIN };
  s3.addBucket("pulses", pulses);
  s3.addBucket("stale-pulses", { "hourly/a": { body: "", lastModifiedMs: now - 200 * MIN } });
  search.addIndex("app-2026", [
    ...Array.from({ length: 4 }, (_, i) => ({ "@timestamp": now - (2 + i) * MIN, level: "ERROR" })),
    { "@timestamp": now - 3 * MIN, level: "WARN" },
    { "@timestamp": now - 90 * MIN, level: "ERROR" },
  ]);
}

beforeAll(async () => {
  mackerel = await LocalMackerelServer.start({ apiKeys: [KEY], services: [SERVICE] });
  aws = await LocalAwsJsonServer.start(secretsManagerHandlers(new Map([[SECRET_ARN, KEY]])));
  s3.pageSize = 3;
  await s3.start();
  await search.start();
});

afterAll(async () => {
  if (check) {
    for (const line of check.logs) expect(line).not.toContain(KEY);
    await check.stop();
  }
  await Promise.all([s3.close(), search.close(), aws.close(), mackerel.close()]);
});

describeWithTerraform("S3 and OpenSearch checks from the zip, with the planned rule inputs", () => {
  const inputs = new Map<string, { check: Record<string, unknown> }>();

  beforeAll(async () => {
    for (const [name, input] of planRuleInputs<{ check: Record<string, unknown> }>(
      `
  s3_freshness_checks = [
    { name = "nightly-pulse", bucket = "pulses", prefix = "nightly/", max_age_minutes = 10, body_contains = "\\"status\\":\\"ok\\"" },
    { name = "hourly-pulse", bucket = "stale-pulses", prefix = "hourly/", max_age_minutes = 90 },
  ]
  opensearch_query_checks = [
    { name = "es-errors", endpoint = "${DOMAIN}", index = "app-*", query = "level:ERROR OR level:WARN", group_by = "level", window_minutes = 30, critical = 5, dashboards_url = "https://dash.example.com/app/discover" },
  ]
`,
      "examples/scratch-new-kinds-zip",
    ))
      inputs.set(name, input);
    expect([...inputs.keys()].sort()).toEqual(["es-errors", "hourly-pulse", "nightly-pulse"]);
    check = await LocalLambda.start("check", {
      timeoutMs: 30_000,
      env: checkZipEnv({
        mackerelUrl: mackerel.url,
        secretsManagerUrl: aws.url,
        hostName: "new-kinds-zip",
        extra: { AWS_ENDPOINT_URL_S3: s3.url },
      }),
    });
    seedTimedData(Date.now());
  });

  test("S3: the newest pulse is found across pages; its body does not carry the expected status → CRITICAL", async () => {
    expect(await check!.invokeOrThrow(inputs.get("nightly-pulse"))).toEqual({
      check: "nightly-pulse",
      kind: "s3_freshness",
      status: "CRITICAL",
      posted: { serviceMetrics: 2, hostMetrics: 0, checkReports: 1 },
      spooled: false,
    });
    expect(lastReport("nightly-pulse")!.message).toMatch(
      /^CRITICAL: the newest object s3:\/\/pulses\/nightly\/0999\.json \(3m( \d+s)? old\) does not contain "\\"status\\":\\"ok\\"" in its first 64 KiB\nbody: \{"status":"failed"\}$/,
    );
    expect(metricsOf("nightly-pulse")).toEqual({ age_seconds: expect.any(Number), objects: 8 });
    expect(s3.requests.filter((r) => r.bucket === "pulses" && !r.key)).toHaveLength(3);
  });

  test("S3: a pulse older than max_age is CRITICAL naming it and its age", async () => {
    expect(await check!.invokeOrThrow(inputs.get("hourly-pulse"))).toMatchObject({ status: "CRITICAL" });
    expect(lastReport("hourly-pulse")!.message).toMatch(
      /^CRITICAL: the newest object under s3:\/\/stale-pulses\/hourly\/ is s3:\/\/stale-pulses\/hourly\/a, 3h 20m old \(last modified .*; limit 1h 30m\)$/,
    );
  });

  test("OpenSearch: signed _search with the terms aggregation; total and per-level metrics; dashboards link", async () => {
    const input = inputs.get("es-errors")!;
    const swapped = { check: { ...input.check, endpoint: search.url, service: "es" } };
    expect(await check!.invokeOrThrow(swapped)).toMatchObject({ kind: "opensearch_query", status: "CRITICAL" });
    expect(metricsOf("es-errors")).toEqual({ total: 5, ERROR: 4, WARN: 1 });
    const message = lastReport("es-errors")!.message;
    expect(message).toMatch(
      /^CRITICAL: total 5 \(>= critical 5\) in .* \(30m\), app-\* on 127\.0\.0\.1:\d+\nby level: ERROR=4, WARN=1\n/,
    );
    expect(message).toContain("dashboards: https://dash.example.com/app/discover");
    const request = search.requests.at(-1)!;
    expect(request).toMatchObject({ path: "/app-*/_search", status: 200 });
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDLOCAL\/\d{8}\/us-east-1\/es\/aws4_request/,
    );
  });
});

test("the S3 client and the SigV4 signer are loaded lazily: the entry point imports neither statically", () => {
  const files = unzipSync(readFileSync(join(DIST_DIR, "check.zip")));
  const text = (name: string) => new TextDecoder().decode(files[name]);
  const imports = (name: string, pattern: RegExp) =>
    [...text(name).matchAll(pattern)].map((m) => join(name, "..", m[1]!));
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const next of imports(name, /(?:import|from)\s*["'](\.\/[^"']+)["']/g)) visit(next);
  };
  visit("index.mjs");
  const eager = [...seen].map(text).join("\n");
  expect(eager).not.toContain("ListObjectsV2Output");
  expect(eager).not.toContain("AWS4-HMAC-SHA256");
  const all = Object.keys(files)
    .filter((f) => f.endsWith(".mjs"))
    .map(text)
    .join("\n");
  expect(all).toContain("ListObjectsV2Output");
  expect(all).toContain("AWS4-HMAC-SHA256");
});
