/**
 * Writes the synthesized modules as stable, pretty-printed JSON: the main module in files by concern
 * (modules/construct/module-files.ts) next to its zips, the job states module as one main.tf.json.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { synthesizeJobStatesModule } from "../../modules/construct/job-states-stack";
import { mergeModuleFiles } from "../../modules/construct/module-files";
import { synthesizeModuleFiles } from "../../modules/construct/module-stack";

const MODULES = join(__dirname, "..", "..", "modules");
export const MODULE_DIR = join(MODULES, "mackerel-serverless");
export const JOB_STATES_MODULE_DIR = join(MODULES, "sfn-job-states");

/** Terraform JSON as committed (two-space indent, trailing newline). */
export function render(tf: Record<string, unknown>): string {
  return `${JSON.stringify(tf, null, 2)}\n`;
}

/** Writes `<name>.tf.json` for each file and removes any other `*.tf.json` (a file no longer synthesized). */
function write(dir: string, files: Record<string, Record<string, unknown>>): string[] {
  mkdirSync(dir, { recursive: true });
  const names = Object.keys(files).map((name) => `${name}.tf.json`);
  for (const stale of readdirSync(dir).filter((f) => f.endsWith(".tf.json") && !names.includes(f))) {
    rmSync(join(dir, stale));
  }
  return Object.entries(files).map(([name, tf]) => {
    const file = join(dir, `${name}.tf.json`);
    writeFileSync(file, render(tf));
    return file;
  });
}

/** A module directory's `*.tf.json` files as one configuration (what Terraform reads). */
export function readModule(dir: string): Record<string, unknown> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".tf.json"))
    .sort();
  return mergeModuleFiles(files.map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown>));
}

/** Writes both modules; returns the files written. */
export function writeModules(): string[] {
  const main = synthesizeModuleFiles().files as Record<string, Record<string, unknown>>;
  return [...write(MODULE_DIR, main), ...write(JOB_STATES_MODULE_DIR, { main: synthesizeJobStatesModule() })];
}
