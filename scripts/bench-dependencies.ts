/**
 * What each runtime dependency costs a cold start on its own: a realistic, tree-shaken use of it
 * bundled the way the functions are (esbuild, ESM, minified, node22), then imported in fresh
 * processes. Reproduce with `npm run bench:deps`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { REALISTIC_RULES } from "./bench-regex";
import { ROOT } from "./lib/bundle";
import { importTimes, median } from "./lib/import-time";

const PROBES: Record<string, string> = {
  "fetch (Node built-in, undici inside)": "export const f = globalThis.fetch;",
  "undici (package) request()":
    'import { request, Agent } from "undici"; export const a = new Agent(); export { request };',
  "zod (classic API), metric schema": `import { z } from "zod";
export const s = z.strictObject({ service: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,62}$/).optional(),
  metrics: z.array(z.strictObject({ name: z.string().regex(/^[a-zA-Z0-9._-]+$/), value: z.number(), time: z.union([z.number(), z.string()]).optional() })).max(1000).optional(),
  checks: z.array(z.strictObject({ name: z.string(), status: z.enum(["OK","WARNING","CRITICAL","UNKNOWN"]), message: z.string().optional() })).optional() });`,
  "zod/mini, metric schema": `import * as z from "zod/mini";
export const s = z.strictObject({ service: z.optional(z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,62}$/))),
  metrics: z.optional(z.array(z.strictObject({ name: z.string().check(z.regex(/^[a-zA-Z0-9._-]+$/)), value: z.number(), time: z.optional(z.union([z.number(), z.string()])) })).check(z.maxLength(1000))),
  checks: z.optional(z.array(z.strictObject({ name: z.string(), status: z.enum(["OK","WARNING","CRITICAL","UNKNOWN"]), message: z.optional(z.string()) }))) });`,
  "redaction rule set (functions/shared/redact.ts), first use":
    'import { redactBuiltIn } from "../../functions/shared/redact"; export const r = redactBuiltIn("x password=y ghp_0123456789abcdefghijklmnopqrstuvwxyzAB");',
  // The rule engine as the logs function and the tick load it (re2js inside): rules of plain words only
  // (no pattern reaches re2js), and the realistic set of issue #10 (two patterns do).
  "rule engine: 10 plain-word rules compiled (re2js bundled, never evaluated)":
    'import { compileRules } from "../../functions/logs/rules"; import { BENCH_RULES_SIMPLE } from "../../scripts/local/log-events"; export const r = compileRules(BENCH_RULES_SIMPLE);',
  "rule engine: the realistic 10-rule set compiled (two patterns, both on V8: re2js never evaluated)": `import { compileRules } from "../../functions/logs/rules"; export const r = compileRules(${JSON.stringify(REALISTIC_RULES)});`,
  "rule engine: none (functions/logs/rules.ts imported, no rules)":
    'import { compileRules } from "../../functions/logs/rules"; export const r = compileRules([]);',
  "@aws-sdk/client-secrets-manager":
    'import { SecretsManagerClient, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager"; export const c = new SecretsManagerClient({}); export { GetSecretValueCommand };',
  "@aws-sdk/client-dynamodb":
    'import { DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb"; export const c = new DynamoDBClient({}); export { UpdateItemCommand };',
  "@aws-sdk/client-sqs":
    'import { SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs"; export const c = new SQSClient({}); export { SendMessageCommand };',
  "@aws-sdk/client-cloudwatch-logs":
    'import { CloudWatchLogsClient, StartQueryCommand } from "@aws-sdk/client-cloudwatch-logs"; export const c = new CloudWatchLogsClient({}); export { StartQueryCommand };',
  "@aws-sdk/client-sfn":
    'import { SFNClient, ListExecutionsCommand } from "@aws-sdk/client-sfn"; export const c = new SFNClient({}); export { ListExecutionsCommand };',
  "@aws-sdk/client-s3 (S3 freshness checks)":
    'import { S3Client, ListObjectsV2Command, GetObjectCommand } from "@aws-sdk/client-s3"; export const c = new S3Client({}); export { ListObjectsV2Command, GetObjectCommand };',
  "@smithy/signature-v4 + SDK Sha256 (OpenSearch signing)":
    'import { SignatureV4 } from "@smithy/signature-v4"; import { Sha256 } from "@smithy/core/checksum"; export const s = new SignatureV4({ service: "es", region: "us-east-1", sha256: Sha256, credentials: async () => ({ accessKeyId: "a", secretAccessKey: "b" }) });',
};

export interface DependencyCost {
  name: string;
  bytes: number;
  medianMs: number;
}

/** Bundles and measures every probe. */
export async function measureDependencies(runs = 15): Promise<DependencyCost[]> {
  const dir = join(ROOT, "build", "bench-deps");
  mkdirSync(dir, { recursive: true });
  const results: DependencyCost[] = [];
  const only = process.env.BENCH_DEPS_ONLY;
  for (const [index, [name, source]] of Object.entries(PROBES).entries()) {
    if (only && !name.includes(only)) continue;
    const entry = join(dir, `probe${index}.ts`);
    const outfile = join(dir, `probe${index}.mjs`);
    writeFileSync(entry, source);
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node22",
      minify: true,
      banner: { js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);' },
      logLevel: "error",
    });
    const { size } = await import("node:fs").then((fs) => fs.statSync(outfile));
    results.push({ name, bytes: size, medianMs: median(importTimes(outfile, runs)) });
  }
  return results;
}

export function dependencyTable(costs: DependencyCost[]): string {
  const rows = costs.map((c) => `| ${c.name} | ${(c.bytes / 1024).toFixed(0)} KiB | ${c.medianMs.toFixed(1)} ms |`);
  return ["| dependency (as used) | bundle | import, median |", "|---|---:|---:|", ...rows].join("\n");
}

if (require.main === module) {
  measureDependencies()
    .then((costs) => console.log(dependencyTable(costs)))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
