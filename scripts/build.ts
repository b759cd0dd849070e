/**
 * `npm run build`: bundles every function into `modules/mackerel-serverless/dist/<function>.zip`,
 * synthesizes the Terraform module with the CDKTF app (main.ts) and regenerates the README's
 * inputs/outputs tables. Deterministic: a rebuild of the same sources changes no byte.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bundleFunction, deterministicZip, listFunctions } from "./lib/bundle";
import { MODULE_DIR, writeModules } from "./lib/module-writer";
import { updateReadmeTables } from "./lib/readme-tables";

async function main(): Promise<void> {
  const dist = join(MODULE_DIR, "dist");
  mkdirSync(dist, { recursive: true });
  const functions = listFunctions();
  // Zips of functions that no longer exist must not linger in the committed module.
  for (const file of readdirSync(dist)) {
    if (!functions.includes(file.replace(/\.zip$/, ""))) rmSync(join(dist, file));
  }
  for (const name of functions) {
    const bundle = await bundleFunction(name);
    const zip = deterministicZip(bundle.files);
    writeFileSync(join(dist, `${name}.zip`), zip);
    const code = bundle.files["index.mjs"]!.length;
    console.log(
      `bundled ${name}: index.mjs ${(code / 1024).toFixed(1)} KiB, zip ${(zip.length / 1024).toFixed(1)} KiB`,
    );
  }
  for (const file of writeModules()) console.log(`synthesized ${file}`);
  console.log(`updated ${updateReadmeTables()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
