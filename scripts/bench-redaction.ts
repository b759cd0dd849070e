/**
 * What redaction costs: per sample as the logs function redacts it (everything that can be shown of the
 * message and a margin, see `redactShown`), per HTTP body excerpt, and on whole long lines (16 KiB and
 * 256 KiB, ordinary and hostile) to show the rules stay linear. Reproduce with `npm run bench:redaction`
 * (part of `npm run bench`).
 */
import { excerpt } from "../functions/check/redact";
import { redactBuiltIn, redactShown } from "../functions/shared/redact";
import { median } from "./lib/import-time";

export interface RedactionFigure {
  name: string;
  chars: number;
  /** Median per call, µs. */
  medianUs: number;
}

const STAMP = "2024-05-01T12:00:00.000Z\t8f5a2c1e-89ab-4def-8123-456789abcdef";
const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** The cases measured: [name, text, what is done with it]. */
function cases(): [string, string, (text: string) => string][] {
  const sample = (text: string) => redactShown(text, 1024);
  const whole = (text: string) => redactBuiltIn(text);
  const ordinaryLine = `${STAMP}\tERROR\tpayment failed for order 1234: upstream returned 503 after 3 retries\n`;
  const jsonLine = JSON.stringify({
    level: "ERROR",
    timestamp: "2024-05-01T12:00:00.000Z",
    requestId: "8f5a2c1e-89ab-4def-8123-456789abcdef",
    message: "payment failed",
    order: { id: 1234, items: 3, total: 99.5 },
    trace: "Root=1-5759e988-bd862e3fe1be46a994272793",
  });
  const secretLine = `${STAMP}\tERROR\tcall failed password=hunter2 token ghp_${fill("aB3", 36)} for ops@example.com\n`;
  const stack = `${STAMP}\tERROR\tInvoke Error\n${fill("    at Object.handler (/var/task/index.mjs:1:2345)\n", 4096)}`;
  const ordinary = (size: number) => fill(`${STAMP} INFO processed order 1234 in 12 ms key=value `, size);
  const hostile = (size: number) => fill("password=a://x:y@", size);
  const body = `<html><body>${fill("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit</p>\n", 1024 * 1024)}`;
  return [
    ["sample: Lambda text line", ordinaryLine, sample],
    ["sample: JSON log line", jsonLine, sample],
    ["sample: line with 3 secrets", secretLine, sample],
    ["sample: 4 KiB stack trace", stack, sample],
    ["sample: 256 KiB line (redacted: shown part + 16 KiB)", ordinary(256 * 1024), sample],
    ["whole 16 KiB line, ordinary", ordinary(16 * 1024), whole],
    ["whole 256 KiB line, ordinary", ordinary(256 * 1024), whole],
    ["whole 16 KiB line, hostile", hostile(16 * 1024), whole],
    ["whole 256 KiB line, hostile", hostile(256 * 1024), whole],
    ["HTTP excerpt of a 1 MiB body", body, (text) => excerpt(text, 300)],
  ];
}

/** Measures every case: median of `rounds` timed rounds (each round long enough to time). */
export function measureRedaction(rounds = 15): RedactionFigure[] {
  return cases().map(([name, text, run]) => {
    run(text); // warm: compile the expressions
    const first = performance.now();
    run(text);
    const once = Math.max(performance.now() - first, 0.001);
    const perRound = Math.max(1, Math.min(2000, Math.ceil(5 / once)));
    const samples: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      for (let i = 0; i < perRound; i++) run(text);
      samples.push(((performance.now() - t) / perRound) * 1000);
    }
    return { name, chars: text.length, medianUs: median(samples) };
  });
}

export function redactionTable(figures: RedactionFigure[]): string {
  const fmt = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);
  const rows = figures.map((f) => `| ${f.name} | ${f.chars.toLocaleString("en-US")} | ${fmt(f.medianUs)} |`);
  return ["| what | characters | median per call |", "|---|---:|---:|", ...rows].join("\n");
}

if (require.main === module) {
  console.log(redactionTable(measureRedaction()));
}
