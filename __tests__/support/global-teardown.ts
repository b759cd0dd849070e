/** Jest's global teardown: stops the STS stand-in the global set-up started. */
import type { LocalSts } from "../../scripts/lib/terraform";
import { STS_HANDLE } from "./global-setup";

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as { [STS_HANDLE]?: LocalSts };
  await holder[STS_HANDLE]?.stop();
  delete holder[STS_HANDLE];
}
