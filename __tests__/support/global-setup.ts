/**
 * Jest's global set-up: runs once, before any suite. Installs the Node 24 runtime the zips are also tested
 * on (scripts/lib/lambda-node.ts), so parallel suites never race to install it.
 */
import { ensureNode24 } from "../../scripts/lib/lambda-node";

export default function globalSetup(): void {
  ensureNode24();
}
