/**
 * `npm run bench:regex`: the regex engines measured for the log rules and `body_regex`, and the rule engine's
 * own targets (numbers in the README, "Performance").
 *
 * 1. Engines on two workloads: ten realistic rules as one alternation over 10,000 ordinary log lines (MB/s),
 *    and `.*ERROR.*` on one 16 KiB line without ERROR (ms): V8's backtracking engine, V8's linear (`l`)
 *    engine, re2-wasm (Google's RE2 compiled to WebAssembly) and re2js (a JavaScript port of RE2).
 * 2. The rule engine (compileRules + evaluate) on 64 lines of 16 KiB of near misses plus two matching lines,
 *    with the five `.*` rules of issue #10: the time and the exact counts.
 * 3. The patterns of the benchmarks' rule sets that run on V8 (functions/shared/linear-v8.ts): time per line
 *    on re2js and on their V8 translation, on ordinary lines holding a near miss of each.
 */
import { setFlagsFromString } from "node:v8";
import { RE2JS } from "re2js";
import { compileRules, evaluate } from "../functions/logs/rules";
import { translateToV8 } from "../functions/shared/linear-v8";
import type { LogsResult } from "../functions/logs/index";
import { median } from "./lib/import-time";
import { HEAP_LIMIT_MB, startLogsBenchWorld } from "./lib/logs-bench-world";
import { mulberry32 } from "./testing";
import { encodeSubscriptionEvent } from "./local/log-events";

/** The realistic rule set: what operators write (each also excludes HealthCheck). */
export const REALISTIC_PATTERNS = [
  "ERROR",
  "Exception",
  "Task timed out",
  "FATAL",
  "panic:",
  "OutOfMemory",
  "Traceback",
  "timeout after [0-9]+ ms",
  "status=5[0-9][0-9]",
  "denied",
];
export const REALISTIC_RULES = REALISTIC_PATTERNS.map((pattern, i) => ({
  name: `rule${i}`,
  include: [pattern],
  exclude: ["HealthCheck"],
}));

/** The five `.*` rules of issue #10 that stalled the V8 engine. */
export const DOT_STAR_RULES = [
  { name: "errors", include: [".*ERROR.*"] },
  { name: "timeouts", include: [".*[Tt]imeout.*"] },
  { name: "refused", include: [".*refused.*"] },
  { name: "fatal", include: [".*FATAL.*"] },
  { name: "a12", include: ["(.*a){12}"] },
];

/**
 * 64 lines of 16 KiB that almost match every rule (ERRO, imeou, refuse, FATA, 11 a's), then two lines that
 * match: the first ERROR + refused + twelve a's, the second FATAL + Timeout + twelve a's.
 */
export function dotStarLines(): { lines: string[]; expected: Record<string, number> } {
  // Near misses among pseudo-random words (no a, so that twelve a's never occur), which gzip cannot shrink
  // much: the payload is about 1 MB as delivered too.
  const random = mulberry32(10);
  const word = () =>
    Array.from(
      { length: 3 + Math.floor(random() * 6) },
      () => "bcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(random() * 35)],
    ).join("");
  const nearMiss = ["ERRO", "imeou", "refuse", "FATA"];
  const big = (i: number) => {
    let line = `${i} ${"a ".repeat(11)}`;
    while (line.length < 16 * 1024) line += `${random() < 0.1 ? nearMiss[Math.floor(random() * 4)] : word()} `;
    return line.slice(0, 16 * 1024);
  };
  const lines = Array.from({ length: 64 }, (_, i) => big(i));
  lines.push(`ERROR connection refused ${"a".repeat(12)}`, `FATAL Timeout ${"a".repeat(12)}`);
  return { lines, expected: { errors: 1, refused: 1, fatal: 1, timeouts: 1, a12: 2 } };
}

export interface DotStarFigures {
  ms: number;
  counts: Record<string, number>;
  exact: boolean;
  bytes: number;
}

/** Runs {@link DOT_STAR_RULES} on {@link dotStarLines} with the rule engine; median of a few runs. */
export function measureDotStar(runs = 5): DotStarFigures {
  const { lines, expected } = dotStarLines();
  const rules = compileRules(DOT_STAR_RULES);
  const payload = {
    logGroup: "/aws/lambda/x",
    logStream: "s",
    logEvents: lines.map((message, i) => ({ id: String(i), timestamp: Date.now(), message })),
  };
  const times: number[] = [];
  let counts: Record<string, number> = {};
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const matches = evaluate(rules, payload);
    times.push(performance.now() - started);
    counts = Object.fromEntries([...matches].map(([name, m]) => [name, m.count]));
  }
  const exact = JSON.stringify(Object.entries(counts).sort()) === JSON.stringify(Object.entries(expected).sort());
  return { ms: median(times), counts, exact, bytes: lines.reduce((sum, l) => sum + l.length, 0) };
}

interface Engine {
  name: string;
  compile(source: string): ((text: string) => boolean) | string;
}

async function engines(): Promise<Engine[]> {
  setFlagsFromString("--enable-experimental-regexp-engine");
  const { RE2 } = (await import("re2-wasm")) as unknown as {
    RE2: new (source: string, flags: string) => { test(text: string): boolean };
  };
  const attempt = (make: () => (text: string) => boolean): ((text: string) => boolean) | string => {
    try {
      return make();
    } catch (error) {
      return `refused (${(error as Error).message.slice(0, 40)})`;
    }
  };
  return [
    { name: "V8 backtracking (RegExp)", compile: (s) => attempt(() => RegExp.prototype.test.bind(new RegExp(s))) },
    {
      name: "V8 linear engine (`l` flag)",
      // eslint-disable-next-line no-invalid-regexp -- V8's `l` flag, enabled above
      compile: (s) => attempt(() => RegExp.prototype.test.bind(new RegExp(s, "l"))),
    },
    {
      name: "re2-wasm 1.0.2",
      compile: (s) =>
        attempt(() => {
          const re = new RE2(s, "u");
          return (text) => re.test(text);
        }),
    },
    {
      name: "re2js 2.10.0 (chosen)",
      compile: (s) =>
        attempt(() => {
          const re = RE2JS.compile(s);
          return (text) => re.test(text);
        }),
    },
  ];
}

/** 10,000 ordinary log lines (what most of a payload is: nothing matches). */
function ordinaryLines(): string[] {
  return Array.from(
    { length: 10_000 },
    (_, i) =>
      `2026-11-21T10:00:00.000Z\t${i.toString(16).padStart(8, "0")}-4f1c-4b8e\tINFO\tprocessed order batch size=25 duration=${i % 300}ms path=/v1/orders/${i}`,
  );
}

export interface EngineRow {
  engine: string;
  alternationMBps: number | string;
  dotStarLineMs: number | string;
}

export async function measureEngines(): Promise<EngineRow[]> {
  const lines = ordinaryLines();
  const bytes = lines.reduce((sum, l) => sum + l.length, 0);
  const alternation = REALISTIC_PATTERNS.map((p) => `(?:${p})`).join("|");
  const line16 = "x"
    .repeat(100)
    .concat(" ")
    .repeat(170)
    .slice(0, 16 * 1024);
  const rows: EngineRow[] = [];
  for (const engine of await engines()) {
    const alt = engine.compile(alternation);
    const dot = engine.compile(".*ERROR.*");
    let alternationMBps: number | string = typeof alt === "string" ? alt : 0;
    if (typeof alt !== "string") {
      const times: number[] = [];
      for (let round = 0; round < 5; round++) {
        const started = performance.now();
        for (const line of lines) alt(line);
        times.push(performance.now() - started);
      }
      alternationMBps = bytes / 1e6 / (median(times) / 1000);
    }
    let dotStarLineMs: number | string = typeof dot === "string" ? dot : 0;
    if (typeof dot !== "string") {
      const times: number[] = [];
      for (let round = 0; round < 5; round++) {
        const started = performance.now();
        dot(line16);
        times.push(performance.now() - started);
      }
      dotStarLineMs = median(times);
    }
    rows.push({ engine: engine.name, alternationMBps, dotStarLineMs });
  }
  return rows;
}

export function enginesTable(rows: EngineRow[]): string {
  const cell = (v: number | string, digits: number) => (typeof v === "string" ? v : v.toFixed(digits));
  return [
    "Workloads: the 10 realistic patterns as one alternation over 10,000 ordinary log lines (1.1 MB, nothing " +
      "matches); `.*ERROR.*` on one 16 KiB line without ERROR. Median of 5 rounds.",
    "",
    "| engine | 10-pattern alternation | `.*ERROR.*`, 16 KiB line |",
    "|---|---:|---:|",
    ...rows.map((r) => `| ${r.engine} | ${cell(r.alternationMBps, 0)} MB/s | ${cell(r.dotStarLineMs, 3)} ms |`),
  ].join("\n");
}

/** The patterns of BENCH_RULES and REALISTIC_PATTERNS that run on V8 (the others are plain words). */
export const V8_SUBSET_PATTERNS = [
  "duration=\\d\\d\\d\\d+ms",
  "status=5\\d\\d",
  "status=5[0-9][0-9]",
  "timeout after [0-9]+ ms",
  "\\bERROR\\b",
  "(?i)throttl",
  "Runtime\\.OutOfMemory",
];

export interface SubsetRow {
  pattern: string;
  re2jsNs: number;
  v8Ns: number;
}

/**
 * Each pattern on 10,000 ordinary lines that hold a near miss of every one (`duration=123ms`, `status=200`,
 * `timeout after 5 s`, `ERRORS`, `throt`, `Runtime.OutOfMem`): nothing matches, every line is searched to its
 * end, as the lines that pass the prefilter are. Nanoseconds per line, median of 5 rounds.
 */
export function measureSubset(): SubsetRow[] {
  const lines = ordinaryLines().map((line) => `${line} status=200 timeout after 5 s ERRORS=0 throt Runtime.OutOfMem`);
  const perLine = (test: (line: string) => boolean): number => {
    const times: number[] = [];
    for (let round = 0; round < 5; round++) {
      const started = performance.now();
      for (const line of lines) if (test(line)) throw new Error("a near miss matched");
      times.push(performance.now() - started);
    }
    return (median(times) * 1e6) / lines.length;
  };
  return V8_SUBSET_PATTERNS.map((pattern) => {
    const v8 = translateToV8(pattern);
    if (v8 === undefined) throw new Error(`${pattern} is no longer in the V8 subset`);
    const re = RE2JS.compile(pattern);
    return { pattern, re2jsNs: perLine((line) => re.test(line)), v8Ns: perLine((line) => v8.test(line)) };
  });
}

export function subsetTable(rows: SubsetRow[]): string {
  return [
    "Workload: the rule sets' patterns that run on V8, each on 10,000 ordinary log lines (~175 characters) " +
      "holding a near miss of every one. Time per line, median of 5 rounds.",
    "",
    "| pattern | re2js | V8 translation | speed-up |",
    "|---|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| \`${r.pattern}\` | ${r.re2jsNs.toFixed(0)} ns | ${r.v8Ns.toFixed(0)} ns | ${(r.re2jsNs / r.v8Ns).toFixed(1)}× |`,
    ),
  ].join("\n");
}

export function dotStarTable(f: DotStarFigures): string {
  return [
    `Workload: 64 lines of 16 KiB of near misses plus two matching lines (${(f.bytes / 1e6).toFixed(2)} MB), ` +
      `rules ${DOT_STAR_RULES.map((r) => `\`${r.include[0]}\``).join(", ")}; rule engine only (compileRules + evaluate).`,
    "",
    `| time (median of 5) | counts | exact | target ≤ 1 s |`,
    `|---:|---|---|---|`,
    `| ${f.ms.toFixed(1)} ms | ${JSON.stringify(f.counts)} | ${f.exact ? "✓" : "✗"} | ${f.ms <= 1000 ? "✓" : "✗"} |`,
  ].join("\n");
}

export interface DotStarZipFigures {
  encodedBytes: number;
  ms: number;
  counts: Record<string, number>;
  exact: boolean;
  peakRssBytes: number;
}

/**
 * The same 64-line payload through the BUILT logs function (LocalLambda: a fresh process running the zip,
 * dynalite, the local Mackerel server), with the five `.*` rules: invocation time, counts and the process's
 * peak RSS (Lambda's Max Memory Used is the whole process).
 */
export async function measureDotStarZip(): Promise<DotStarZipFigures> {
  const world = await startLogsBenchWorld(DOT_STAR_RULES, "bench-dotstar");
  const logs = world.logs;
  try {
    const { lines, expected } = dotStarLines();
    const now = Date.now();
    const event = encodeSubscriptionEvent({
      messageType: "DATA_MESSAGE",
      owner: "123456789012",
      logGroup: "/aws/lambda/bench",
      logStream: "bench/dotstar",
      subscriptionFilters: ["bench"],
      logEvents: lines.map((message, i) => ({ id: `${36_000_000_000_000_000n + BigInt(i)}`, timestamp: now, message })),
    });
    // Warm the container first (key read, host look-up, SDK load), as after the first delivery.
    await logs.invokeOrThrow(
      encodeSubscriptionEvent({
        messageType: "DATA_MESSAGE",
        owner: "123456789012",
        logGroup: "/aws/lambda/bench",
        logStream: "bench/warm-up",
        subscriptionFilters: ["bench"],
        logEvents: [{ id: "1", timestamp: now, message: "ERROR warm-up" }],
      }),
    );
    const started = performance.now();
    const result = (await logs.invokeOrThrow(event)) as LogsResult;
    const ms = performance.now() - started;
    if (result.outcome !== "processed") throw new Error(`not processed: ${result.outcome}`);
    const counts = result.matched;
    const exact = JSON.stringify(Object.entries(counts).sort()) === JSON.stringify(Object.entries(expected).sort());
    return {
      encodedBytes: event.awslogs.data.length,
      ms,
      counts,
      exact,
      peakRssBytes: (await logs.stats()).maxRssBytes,
    };
  } finally {
    await world.close();
  }
}

export function dotStarZipTable(f: DotStarZipFigures): string {
  const mb = f.peakRssBytes / 1024 / 1024;
  return [
    `The same payload (${(f.encodedBytes / 1e6).toFixed(2)} MB as delivered) through the built logs zip (fresh process, ` +
      `${HEAP_LIMIT_MB} MB V8 heap limit, dynalite, local Mackerel), container warmed by one small payload:`,
    "",
    "| invocation (decode, rules, DynamoDB, report) | counts | exact | peak RSS of the process | target |",
    "|---:|---|---|---:|---|",
    `| ${f.ms.toFixed(0)} ms | ${JSON.stringify(f.counts)} | ${f.exact ? "✓" : "✗"} | ${mb.toFixed(0)} MB | ≤ 1 s ${f.ms <= 1000 ? "✓" : "✗"}, ≤ 128 MB ${mb <= 128 ? "✓" : "✗"} |`,
  ].join("\n");
}

if (require.main === module) {
  measureEngines()
    .then((rows) => {
      console.log(`${enginesTable(rows)}\n`);
      console.log(`${dotStarTable(measureDotStar())}\n`);
      console.log(`${subsetTable(measureSubset())}\n`);
      return measureDotStarZip().then((f) => console.log(dotStarZipTable(f)));
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
