/**
 * The Node.js binaries the built zips run under in tests and benchmarks: the project's pinned Node 22 (the `node`
 * dev dependency, which is also what npm scripts run under) and Node 24 for `nodejs24.x`.
 *
 * Node 24 cannot be a dev dependency: its package also provides a `node` bin, and npm would link it over the
 * pinned Node 22 in `node_modules/.bin`, so every npm script would silently run on 24. It is installed from
 * the npm registry (the platform package `node-<os>-<arch>`, the one the `node` package itself installs) into
 * `node_modules/.cache/lambda-node24` on first use: jest's global set-up does it once before the suites run.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./bundle";

/** The exact Node 24 release the zips are tested on (`nodejs24.x`). */
export const NODE24_VERSION = "24.22.3";

const NODE24_DIR = join(ROOT, "node_modules", ".cache", "lambda-node24");
const PLATFORM_PACKAGE = `node-${process.platform}-${process.arch}`;

export type LambdaNodeVersion = "22" | "24";

function node24Binary(): string {
  return join(NODE24_DIR, NODE24_VERSION, "node_modules", PLATFORM_PACKAGE, "bin", "node");
}

/** Installs Node 24 if it is not there yet (idempotent; one process at a time, e.g. jest's global set-up). */
export function ensureNode24(): string {
  const binary = node24Binary();
  if (existsSync(binary)) return binary;
  const staging = `${join(NODE24_DIR, NODE24_VERSION)}.tmp-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  try {
    execFileSync(
      "npm",
      [
        "install",
        "--no-save",
        "--no-package-lock",
        "--no-audit",
        "--no-fund",
        "--prefix",
        staging,
        `${PLATFORM_PACKAGE}@${NODE24_VERSION}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    if (!existsSync(binary)) renameSync(staging, join(NODE24_DIR, NODE24_VERSION));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}

/** The binary of a Node.js major version of the managed runtime. */
export function lambdaNodeBinary(version: LambdaNodeVersion): string {
  return version === "22" ? join(ROOT, "node_modules", "node", "bin", "node") : ensureNode24();
}
