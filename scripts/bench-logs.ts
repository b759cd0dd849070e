/**
 * `npm run bench:logs`: the logs function's hot path on a 10,000-event DATA_MESSAGE (~2 MB of JSON)
 * with 10 rules, I/O left out: events/s of the whole pipeline (decode, shape check, rule evaluation,
 * report building with redaction) against bare decode (base64 + gunzip + JSON.parse) of the same
 * payload, measured interleaved in the same process. Target: >= 80 % of bare decode.
 */
import { gunzipSync } from "node:zlib";
import { decodeForRules } from "../functions/logs/decode-for-rules";
import { buildRuleReport } from "../functions/logs/report";
import { compileRules, evaluate, rawLiteralSearches } from "../functions/logs/rules";
import { logsInvocationTable, measureLogsInvocations } from "./bench-logs-invocations";
import { REALISTIC_PATTERNS, REALISTIC_RULES } from "./bench-regex";
import { median } from "./lib/import-time";
import { BENCH_RULES, BENCH_RULES_SIMPLE, encodeSubscriptionEvent, generatePayload } from "./local/log-events";

const EVENTS = Number(process.env.BENCH_LOG_EVENTS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_LOG_ROUNDS ?? 40);

export interface LogThroughput {
  rules: string;
  events: number;
  jsonBytes: number;
  base64Bytes: number;
  bareMs: number;
  pipelineMs: number;
  ratio: number;
  /** Fastest round of each: the least disturbed by other processes on a shared machine. */
  bareBestMs: number;
  pipelineBestMs: number;
  bestRatio: number;
  rulesMatched: number;
  /** Share of events that are errors in the payload. */
  errorRate: number;
  /** CPU time (user + system, median per round) of each, and their ratio: bare / pipeline. */
  bareCpuMs: number;
  pipelineCpuMs: number;
  cpuRatio: number;
}

export function measureLogThroughput(
  ruleSet: { label: string; rules: unknown[]; errorRate?: number },
  events = EVENTS,
  rounds = ROUNDS,
): LogThroughput {
  const errorRate = ruleSet.errorRate ?? 0.02;
  const payload = generatePayload({ events, errorRate });
  const json = JSON.stringify(payload);
  const event = encodeSubscriptionEvent(payload);
  const rules = compileRules(ruleSet.rules);
  const now = Date.now();

  const bare = () => JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, "base64")).toString("utf8"));
  let rulesMatched = 0;
  const pipeline = () => {
    // As the handler does: the events no rule can match are counted, not parsed.
    const decoded = decodeForRules(event, (logGroup) => rawLiteralSearches(rules, logGroup));
    if (decoded.kind !== "data") throw new Error(`payload did not decode: ${decoded.kind}`);
    const matches = evaluate(rules, { ...decoded.payload, logEvents: decoded.payload.candidateEvents });
    rulesMatched = matches.size;
    for (const rule of rules) {
      const match = matches.get(rule.name);
      if (match) buildRuleReport(rule, match, now);
    }
  };

  for (let i = 0; i < 5; i++) {
    bare();
    pipeline();
  }
  const bareTimes: number[] = [];
  const pipelineTimes: number[] = [];
  const bareCpu: number[] = [];
  const pipelineCpu: number[] = [];
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  for (let i = 0; i < rounds; i++) {
    let cpu = process.cpuUsage();
    let t = performance.now();
    bare();
    bareTimes.push(performance.now() - t);
    bareCpu.push(cpuMs(cpu));
    cpu = process.cpuUsage();
    t = performance.now();
    pipeline();
    pipelineTimes.push(performance.now() - t);
    pipelineCpu.push(cpuMs(cpu));
  }
  const bareMs = median(bareTimes);
  const pipelineMs = median(pipelineTimes);
  const bareBestMs = Math.min(...bareTimes);
  const pipelineBestMs = Math.min(...pipelineTimes);
  return {
    rules: ruleSet.label,
    bareBestMs,
    pipelineBestMs,
    bestRatio: bareBestMs / pipelineBestMs,
    events,
    jsonBytes: json.length,
    base64Bytes: event.awslogs.data.length,
    bareMs,
    pipelineMs,
    ratio: bareMs / pipelineMs,
    rulesMatched,
    errorRate,
    bareCpuMs: median(bareCpu),
    pipelineCpuMs: median(pipelineCpu),
    cpuRatio: median(bareCpu) / median(pipelineCpu),
  };
}

export function logThroughputTable(t: LogThroughput): string {
  const rate = (ms: number) => `${Math.round((t.events / ms) * 1000).toLocaleString("en-US")} events/s`;
  return [
    `Payload: ${t.events.toLocaleString("en-US")} events (${Math.round(t.errorRate * 100)} % ERROR), ${(t.jsonBytes / 1e6).toFixed(2)} MB JSON, ${(t.base64Bytes / 1e6).toFixed(2)} MB as delivered (base64 of gzip); ${t.rules}, ${t.rulesMatched} matched. Median of ${ROUNDS} interleaved rounds.`,
    "",
    "| path | median | throughput (median) | best round |",
    "|---|---:|---:|---:|",
    `| bare decode (base64 + gunzip + JSON.parse) | ${t.bareMs.toFixed(2)} ms | ${rate(t.bareMs)} | ${t.bareBestMs.toFixed(2)} ms |`,
    `| logs pipeline (decode + rules + reports) | ${t.pipelineMs.toFixed(2)} ms | ${rate(t.pipelineMs)} | ${t.pipelineBestMs.toFixed(2)} ms |`,
    `| ratio to bare decode (target ≥ 0.80) | ${t.ratio.toFixed(2)} ${t.ratio >= 0.8 ? "✓" : "✗"} | | ${t.bestRatio.toFixed(2)} ${t.bestRatio >= 0.8 ? "✓" : "✗"} |`,
    "",
    `CPU per payload (median): bare decode ${t.bareCpuMs.toFixed(2)} ms, logs pipeline ${t.pipelineCpuMs.toFixed(2)} ms: the pipeline runs at ${t.cpuRatio.toFixed(2)}× the speed of a bare decode.`,
  ].join("\n");
}

/** The two rule sets measured: the common shape, and a heavier one (the ratio depends on the patterns). */
export const RULE_SETS = [
  { label: "10 rules, one pattern each", rules: BENCH_RULES_SIMPLE },
  { label: "10 rules, 16 patterns (word boundaries, case folding, classes, excludes)", rules: BENCH_RULES },
  {
    label: `the realistic 10-rule set (${REALISTIC_PATTERNS.map((p) => `\`${p}\``).join(", ")}; each with exclude ["HealthCheck"]; target CPU ≥ 1.0× bare decode)`,
    rules: REALISTIC_RULES,
    errorRate: 0.25,
  },
];

if (require.main === module) {
  for (const ruleSet of RULE_SETS) {
    console.log(`${logThroughputTable(measureLogThroughput(ruleSet))}\n`);
  }
  measureLogsInvocations()
    .then((figures) => console.log(logsInvocationTable(figures)))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
