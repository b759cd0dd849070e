/**
 * `npm run build:lib` (and `prepack`, so `npm pack` at the root builds it): the package a CDKTF user
 * installs. `lib/index.js` is the construct bundled as CommonJS, with `cdktf`, `constructs` and
 * `@cdktf/provider-aws` left to the user's app (peer dependencies) and the little the construct borrows
 * from the functions (their input parsers, so props are validated as the functions will read them)
 * bundled in; `lib/types/` holds the declarations. CommonJS apps `require` it; ESM apps `import` its
 * named exports (esbuild annotates them for Node's CommonJS named-export detection). The zips it
 * deploys are the committed `modules/mackerel-serverless/dist/*.zip`, shipped beside it.
 */
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { ROOT } from "./lib/bundle";

/** What the user's app provides: the package must use the app's copies, not bring its own. */
export const PEER_DEPENDENCIES = ["cdktf", "constructs", "@cdktf/provider-aws"];

async function main(): Promise<void> {
  const lib = join(ROOT, "lib");
  rmSync(lib, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ["modules/construct/index.ts"],
    outfile: "lib/index.js",
    bundle: true,
    platform: "node",
    format: "cjs",
    // The oldest Node.js that cdktf 0.21 supports.
    target: "node18",
    // The AWS SDK only behind dynamic imports of function code the construct never calls (the state
    // store's client): left out, so the package neither carries nor needs it.
    external: [...PEER_DEPENDENCIES.flatMap((name) => [name, `${name}/*`]), "@aws-sdk/*"],
    sourcemap: false,
    legalComments: "inline",
    metafile: true,
    logLevel: "warning",
  });
  writeFileSync(join(lib, "meta.json"), JSON.stringify(result.metafile));
  execFileSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", join(ROOT, "tsconfig.lib.json")], {
    stdio: "inherit",
  });
  const inputs = Object.keys(result.metafile.inputs);
  // On stderr: `npm pack --json` (which runs this as prepack) keeps stdout for its JSON.
  console.error(
    `built lib/index.js (${(result.metafile.outputs["lib/index.js"]!.bytes / 1024).toFixed(1)} KiB from ${inputs.length} files) and lib/types`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
