/**
 * Cold-start import time: how long a fresh Node.js process takes to import a bundle (Lambda's init
 * phase for our code), measured as the median over many fresh processes.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { unzipSync } from "fflate";

const PROBE = `const t = performance.now();
await import(process.argv[2]);
process.stdout.write(String(performance.now() - t));
`;

let probeFile: string | undefined;

function probe(): string {
  if (!probeFile) {
    probeFile = join(mkdtempSync(join(tmpdir(), "import-probe-")), "probe.mjs");
    writeFileSync(probeFile, PROBE);
  }
  return probeFile;
}

/** Import times (ms) of `entry` in `runs` fresh processes of this Node.js. */
export function importTimes(entry: string, runs: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, [probe(), entry], { encoding: "utf8", env: { PATH: process.env.PATH } });
    times.push(Number(out));
  }
  return times;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Unzips a function zip into a fresh folder; returns the folder. */
export function unzipTo(zip: string): string {
  const dir = mkdtempSync(join(tmpdir(), "bench-fn-"));
  for (const [file, content] of Object.entries(unzipSync(readFileSync(zip)))) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
  return dir;
}
