/** Writes the synthesized modules as stable, pretty-printed JSON (the main module next to its zips). */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { synthesizeJobStatesModule } from "../../modules/construct/job-states-stack";
import { synthesizeModule } from "../../modules/construct/module-stack";

const MODULES = join(__dirname, "..", "..", "modules");
export const MODULE_DIR = join(MODULES, "mackerel-serverless");
export const JOB_STATES_MODULE_DIR = join(MODULES, "sfn-job-states");

/** Terraform JSON as committed (two-space indent, trailing newline). */
export function render(tf: Record<string, unknown>): string {
  return `${JSON.stringify(tf, null, 2)}\n`;
}

function write(dir: string, tf: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "main.tf.json");
  writeFileSync(file, render(tf));
  return file;
}

/** Writes both modules; returns the files written. */
export function writeModules(): string[] {
  return [write(MODULE_DIR, synthesizeModule()), write(JOB_STATES_MODULE_DIR, synthesizeJobStatesModule())];
}
