/**
 * `npm run bench`: the project's performance figures, measured in one run on this machine (Node 22):
 * - per function: zip size, bundle size, import (cold-start init) time as the median of fresh processes;
 * - the metric function warm: latency p50/p99 of invocations against a local Mackerel server, and the
 *   number of TCP connections they used (connection reuse);
 * - the logs function: throughput against bare decode, requests per invocation, peak memory
 *   (`npm run bench:logs` prints only those);
 * - redaction: cost per sample and per HTTP excerpt, and on 16 KiB / 256 KiB lines (`npm run bench:redaction`);
 * - what each runtime dependency costs on its own (`npm run bench:deps` prints only that).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { LocalAwsJsonServer, secretsManagerHandlers } from "./local/aws-json-server";
import { LocalLambda } from "./local/lambda-runner";
import { LocalMackerelServer } from "./local/mackerel";
import { dependencyTable, measureDependencies } from "./bench-dependencies";
import { logsInvocationTable, measureLogsInvocations } from "./bench-logs-invocations";
import { logThroughputTable, measureLogThroughput, RULE_SETS } from "./bench-logs";
import { measureRedaction, redactionTable } from "./bench-redaction";
import {
  dotStarTable,
  dotStarZipTable,
  enginesTable,
  measureDotStar,
  measureDotStarZip,
  measureEngines,
  measureSubset,
  subsetTable,
} from "./bench-regex";
import { CountingProxy } from "./lib/counting-proxy";
import { importTimes, median, percentile, unzipTo } from "./lib/import-time";
import { MODULE_DIR } from "./lib/module-writer";

const IMPORT_RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 21);
const WARM_INVOCATIONS = Number(process.env.BENCH_WARM_INVOCATIONS ?? 500);
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-AbCdEf";

/** Import-time targets (DESIGN.md and the performance issue). */
const IMPORT_TARGET_MS: Record<string, number> = { metric: 40 };
const DEFAULT_IMPORT_TARGET_MS = 60;

function dirSize(dir: string, suffix: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(suffix)) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

export interface FunctionFigures {
  name: string;
  zipBytes: number;
  entryBytes: number;
  allCodeBytes: number;
  importMedianMs: number;
  targetMs: number;
}

/** Sizes and import time of every built function. */
export function measureFunctions(): FunctionFigures[] {
  const dist = join(MODULE_DIR, "dist");
  return readdirSync(dist)
    .filter((file) => file.endsWith(".zip"))
    .sort()
    .map((file) => {
      const name = file.replace(/\.zip$/, "");
      const dir = unzipTo(join(dist, file));
      const entry = join(dir, "index.mjs");
      return {
        name,
        zipBytes: statSync(join(dist, file)).size,
        entryBytes: statSync(entry).size,
        allCodeBytes: dirSize(dir, ".mjs"),
        importMedianMs: median(importTimes(entry, IMPORT_RUNS)),
        targetMs: IMPORT_TARGET_MS[name] ?? DEFAULT_IMPORT_TARGET_MS,
      };
    });
}

export function functionsTable(figures: FunctionFigures[]): string {
  const rows = figures.map(
    (f) =>
      `| ${f.name} | ${kib(f.zipBytes)} | ${kib(f.entryBytes)} | ${kib(f.allCodeBytes)} | ${f.importMedianMs.toFixed(1)} ms | ≤ ${f.targetMs} ms ${f.importMedianMs <= f.targetMs ? "✓" : "✗"} |`,
  );
  return [
    `| function | zip | index.mjs | all code (with lazy chunks) | import, median of ${IMPORT_RUNS} | target |`,
    "|---|---:|---:|---:|---:|---|",
    ...rows,
  ].join("\n");
}

export interface WarmFigures {
  invocations: number;
  p50: number;
  p99: number;
  firstInvocationMs: number;
  connections: number;
}

/** The metric function kept warm, posting one service metric per invocation to a local Mackerel server. */
export async function measureWarmMetric(): Promise<WarmFigures> {
  const mackerel = await LocalMackerelServer.start({ services: ["bench"] });
  const proxy = await CountingProxy.start(mackerel.url);
  const secrets = await LocalAwsJsonServer.start(secretsManagerHandlers(new Map([[SECRET_ARN, "test-api-key"]])));
  const fn = await LocalLambda.start("metric", {
    env: {
      MACKEREL_API_KEY_SECRET_ARN: SECRET_ARN,
      MACKEREL_API_BASE_URL: proxy.url,
      MACKEREL_SERVICE_NAME: "bench",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    },
  });
  try {
    const latencies: number[] = [];
    let firstInvocationMs = 0;
    const start = Math.floor(Date.now() / 1000) - WARM_INVOCATIONS;
    for (let i = 0; i < WARM_INVOCATIONS; i++) {
      const t = performance.now();
      await fn.invokeOrThrow({ name: "bench.latency", value: i, time: start + i });
      const ms = performance.now() - t;
      if (i === 0) firstInvocationMs = ms;
      else latencies.push(ms);
    }
    const stored = mackerel.serviceMetrics("bench").length;
    if (stored !== WARM_INVOCATIONS)
      throw new Error(`expected ${WARM_INVOCATIONS} points in Mackerel, found ${stored}`);
    return {
      invocations: WARM_INVOCATIONS,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      firstInvocationMs,
      connections: proxy.connections,
    };
  } finally {
    await fn.stop();
    await secrets.close();
    await proxy.close();
    await mackerel.close();
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(MODULE_DIR, "dist"))) throw new Error("no built functions: run `npm run build` first");
  console.log(`Node ${process.version}, ${process.platform}/${process.arch}\n`);

  console.log("## Functions: size and cold-start import\n");
  const functions = measureFunctions();
  console.log(functionsTable(functions));

  console.log("\n## Metric function, warm, against a local Mackerel server\n");
  const warm = await measureWarmMetric();
  console.log("| invocations | first (cold, incl. key read) | p50 | p99 | TCP connections to Mackerel |");
  console.log("|---:|---:|---:|---:|---:|");
  console.log(
    `| ${warm.invocations} | ${warm.firstInvocationMs.toFixed(1)} ms | ${warm.p50.toFixed(2)} ms | ${warm.p99.toFixed(2)} ms | ${warm.connections} |`,
  );

  console.log("\n## Logs function: throughput against bare decode (I/O left out)\n");
  for (const ruleSet of RULE_SETS) console.log(`${logThroughputTable(measureLogThroughput(ruleSet))}\n`);

  console.log("## Regex engines, and the .* rules of issue #10\n");
  console.log(`${enginesTable(await measureEngines())}\n`);
  console.log(`${subsetTable(measureSubset())}\n`);
  console.log(`${dotStarTable(measureDotStar())}\n`);
  console.log(`${dotStarZipTable(await measureDotStarZip())}\n`);

  console.log("## Logs function from its zip: requests per invocation and peak memory\n");
  console.log(logsInvocationTable(await measureLogsInvocations()));

  console.log("\n## Redaction: per sample, per excerpt, and on long lines\n");
  console.log(redactionTable(measureRedaction()));

  console.log("\n## Runtime dependencies, each alone (tree-shaken use, bundled like the functions)\n");
  console.log(dependencyTable(await measureDependencies(IMPORT_RUNS)));

  const missed = functions.filter((f) => f.importMedianMs > f.targetMs);
  if (missed.length > 0) {
    console.log(`\nMISSED import targets: ${missed.map((f) => f.name).join(", ")}`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
