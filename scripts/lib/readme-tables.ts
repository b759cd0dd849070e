/**
 * Generates the README's inputs and outputs tables from the construct's definitions, between
 * `<!-- BEGIN_INPUTS -->`/`<!-- END_INPUTS -->` and `<!-- BEGIN_OUTPUTS -->`/`<!-- END_OUTPUTS -->`.
 * The build rewrites them and CI fails when the committed README differs.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OUTPUTS } from "../../modules/construct/outputs";
import { VARIABLES } from "../../modules/construct/variables";
import { ROOT } from "./bundle";

const escape = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function inputsTable(): string {
  const rows = VARIABLES.map((v) => {
    const required = !("default" in v);
    const def = required ? "n/a" : `\`${JSON.stringify(v.default)}\``;
    return `| \`${v.name}\` | ${escape(v.details ?? v.description)} | \`${escape(v.type.replace(/\s+/g, " "))}\` | ${escape(def)} | ${required ? "yes" : "no"} |`;
  });
  return ["| Name | Description | Type | Default | Required |", "|---|---|---|---|---|", ...rows].join("\n");
}

export function outputsTable(): string {
  const rows = OUTPUTS.map((o) => `| \`${o.name}\` | ${escape(o.description)} |`);
  return ["| Name | Description |", "|---|---|", ...rows].join("\n");
}

function replaceBetween(text: string, marker: string, content: string): string {
  const begin = `<!-- BEGIN_${marker} -->`;
  const end = `<!-- END_${marker} -->`;
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  if (start < 0 || stop < start) throw new Error(`README.md lacks the ${begin} ... ${end} markers`);
  return `${text.slice(0, start + begin.length)}\n${content}\n${text.slice(stop)}`;
}

/** Rewrites the tables in README.md; returns its path. */
export function updateReadmeTables(readme: string = join(ROOT, "README.md")): string {
  if (!existsSync(readme)) throw new Error(`${readme} is missing`);
  let text = readFileSync(readme, "utf8");
  text = replaceBetween(text, "INPUTS", inputsTable());
  text = replaceBetween(text, "OUTPUTS", outputsTable());
  writeFileSync(readme, text);
  return readme;
}
