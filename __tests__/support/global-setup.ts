/**
 * Jest's global set-up: runs once, before any suite. Installs the Node 24 runtime the zips are also tested
 * on (scripts/lib/lambda-node.ts), so parallel suites never race to install it, and starts the one STS
 * stand-in every terraform plan of the run uses (the workers inherit its URL; global-teardown.ts stops it).
 */
import { ensureNode24 } from "../../scripts/lib/lambda-node";
import { LOCAL_STS_URL_ENV, type LocalSts, startLocalSts } from "../../scripts/lib/terraform";

/** Where the teardown finds the stand-in: jest runs set-up and teardown in one context. */
export const STS_HANDLE = Symbol.for("mackerel-serverless.local-sts");

export default function globalSetup(): void {
  ensureNode24();
  const sts = startLocalSts();
  (globalThis as { [STS_HANDLE]?: LocalSts })[STS_HANDLE] = sts;
  process.env[LOCAL_STS_URL_ENV] = sts.url;
}
