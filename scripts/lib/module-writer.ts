/** Writes the synthesized module next to its zips, as stable, pretty-printed JSON. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { synthesizeModule } from "../../modules/construct/module-stack";

export const MODULE_DIR = join(__dirname, "..", "..", "modules", "mackerel-serverless");

/** The module's Terraform JSON as committed (two-space indent, trailing newline). */
export function renderModule(): string {
  return `${JSON.stringify(synthesizeModule(), null, 2)}\n`;
}

export function writeModule(dir: string = MODULE_DIR): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "main.tf.json");
  writeFileSync(file, renderModule());
  return file;
}
