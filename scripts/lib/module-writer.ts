/**
 * Writes the synthesized modules as stable, pretty-printed JSON: the main module in files by concern
 * (modules/construct/module-files.ts) next to its zips, the job states module as one main.tf.json.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { synthesizeJobStatesModule } from "../../modules/construct/job-states-stack";
import { synthesizeModuleFiles } from "../../modules/construct/module-stack";
import { JOB_STATES_MODULE_DIR, MODULE_DIR } from "./committed-module";

export { JOB_STATES_MODULE_DIR, MODULE_DIR, readModule } from "./committed-module";

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

/** Writes both modules; returns the files written. */
export function writeModules(): string[] {
  const main = synthesizeModuleFiles().files as Record<string, Record<string, unknown>>;
  return [...write(MODULE_DIR, main), ...write(JOB_STATES_MODULE_DIR, { main: synthesizeJobStatesModule() })];
}
