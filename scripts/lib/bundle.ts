/**
 * Bundles a function with esbuild and zips it deterministically: the same sources give the same
 * bytes (fixed timestamps, fixed order, fixed permissions), so the committed module only changes
 * when the code does.
 */
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { build, type Metafile } from "esbuild";
import { type Zippable, zipSync } from "fflate";

export const ROOT = join(__dirname, "..", "..");
export const FUNCTIONS_DIR = join(ROOT, "functions");

/** Every `functions/<name>/index.ts` except the shared code. */
export function listFunctions(): string[] {
  return readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== "shared")
    .filter((entry) => existsSync(join(FUNCTIONS_DIR, entry.name, "index.ts")))
    .map((entry) => entry.name)
    .sort();
}

export interface Bundle {
  name: string;
  /** File name in the zip → content. */
  files: Record<string, Uint8Array>;
  metafile: Metafile;
}

/** Bundles `functions/<name>/index.ts` into `index.mjs` (ESM, minified, external source map, node22). */
export async function bundleFunction(name: string): Promise<Bundle> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join("functions", name, "index.ts")],
    outdir: join("build", name),
    entryNames: "index",
    outExtension: { ".js": ".mjs" },
    // Dynamic imports (AWS SDK clients needed only on some paths) become chunks loaded on first use.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    minify: true,
    sourcemap: "external",
    sourcesContent: false,
    legalComments: "none",
    mainFields: ["module", "main"],
    // Some CommonJS dependencies call require() for Node built-ins; ESM output needs it defined.
    banner: { js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);' },
    metafile: true,
    write: false,
    logLevel: "warning",
  });
  const files: Record<string, Uint8Array> = {};
  const outdir = join(ROOT, "build", name) + "/";
  for (const output of result.outputFiles) {
    files[output.path.slice(outdir.length)] = output.contents;
  }
  return { name, files, metafile: result.metafile };
}

/** The DOS epoch in local time: fflate writes local-time fields, so this gives the same bytes in any TZ. */
const FIXED_MTIME = new Date(1980, 0, 1, 0, 0, 0);

/** Zips files in name order with fixed timestamps and mode 0644. */
export function deterministicZip(files: Record<string, Uint8Array>): Uint8Array {
  const entries: Zippable = {};
  for (const name of Object.keys(files).sort()) {
    entries[name] = [files[name]!, { mtime: FIXED_MTIME, level: 9, os: 3, attrs: 0o100644 << 16 }];
  }
  return zipSync(entries);
}
