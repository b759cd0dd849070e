/**
 * `npm run bench:logs`: the logs function's hot path on a 10,000-event DATA_MESSAGE (~2 MB of JSON)
 * with 10 rules, I/O left out: events/s of the whole pipeline (decode, shape check, rule evaluation,
 * report building with redaction) against bare decode (base64 + gunzip + JSON.parse) of the same
 * payload, measured interleaved in the same process. Target: >= 80 % of bare decode.
 */
import { gunzipSync } from "node:zlib";
import { decodeSubscriptionEvent } from "../functions/logs/decode";
import { buildRuleReport } from "../functions/logs/report";
import { compileRules, evaluate } from "../functions/logs/rules";
import { median } from "./lib/import-time";
import { BENCH_RULES, encodeSubscriptionEvent, generatePayload } from "./local/log-events";

const EVENTS = Number(process.env.BENCH_LOG_EVENTS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_LOG_ROUNDS ?? 40);

export interface LogThroughput {
  events: number;
  jsonBytes: number;
  base64Bytes: number;
  bareMs: number;
  pipelineMs: number;
  ratio: number;
  rulesMatched: number;
}

export function measureLogThroughput(events = EVENTS, rounds = ROUNDS): LogThroughput {
  const payload = generatePayload({ events, errorRate: 0.02 });
  const json = JSON.stringify(payload);
  const event = encodeSubscriptionEvent(payload);
  const rules = compileRules(BENCH_RULES);
  const now = Date.now();

  const bare = () => JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, "base64")).toString("utf8"));
  let rulesMatched = 0;
  const pipeline = () => {
    const decoded = decodeSubscriptionEvent(event);
    if (decoded.kind !== "data") throw new Error(`payload did not decode: ${decoded.kind}`);
    const matches = evaluate(rules, decoded.payload);
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
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    bare();
    bareTimes.push(performance.now() - t);
    t = performance.now();
    pipeline();
    pipelineTimes.push(performance.now() - t);
  }
  const bareMs = median(bareTimes);
  const pipelineMs = median(pipelineTimes);
  return {
    events,
    jsonBytes: json.length,
    base64Bytes: event.awslogs.data.length,
    bareMs,
    pipelineMs,
    ratio: bareMs / pipelineMs,
    rulesMatched,
  };
}

export function logThroughputTable(t: LogThroughput): string {
  const rate = (ms: number) => `${Math.round((t.events / ms) * 1000).toLocaleString("en-US")} events/s`;
  return [
    `Payload: ${t.events.toLocaleString("en-US")} events, ${(t.jsonBytes / 1e6).toFixed(2)} MB JSON, ${(t.base64Bytes / 1e6).toFixed(2)} MB as delivered (base64 of gzip); 10 rules, ${t.rulesMatched} matched. Median of ${ROUNDS} interleaved rounds.`,
    "",
    "| path | time | throughput |",
    "|---|---:|---:|",
    `| bare decode (base64 + gunzip + JSON.parse) | ${t.bareMs.toFixed(2)} ms | ${rate(t.bareMs)} |`,
    `| logs pipeline (decode + rules + reports) | ${t.pipelineMs.toFixed(2)} ms | ${rate(t.pipelineMs)} |`,
    `| ratio (target ≥ 0.80) | ${t.ratio.toFixed(2)} ${t.ratio >= 0.8 ? "✓" : "✗"} | |`,
  ].join("\n");
}

if (require.main === module) {
  const figures = measureLogThroughput();
  console.log(logThroughputTable(figures));
  if (figures.ratio < 0.8) process.exitCode = 1;
}
