/**
 * Where the committed modules live, and the main module read back as Terraform reads it: its `*.tf.json`
 * files (one per concern) as one configuration. No synthesis here, so tests can read the module cheaply.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { mergeModuleFiles } from "../../modules/construct/module-files";

const MODULES = join(__dirname, "..", "..", "modules");
export const MODULE_DIR = join(MODULES, "mackerel-serverless");
export const JOB_STATES_MODULE_DIR = join(MODULES, "sfn-job-states");

/** A module directory's `*.tf.json` files as one configuration (what Terraform reads). */
export function readModule(dir: string): Record<string, unknown> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".tf.json"))
    .sort();
  return mergeModuleFiles(files.map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown>));
}
