/**
 * The host placeholder: a host write whose host id could not be resolved (Mackerel was down, or too slow)
 * names {@link SPOOL_HOST_PLACEHOLDER} and goes to the spool; the sender resolves the host (same settings,
 * same custom identifier) before posting it.
 */
import { MackerelUnavailableError } from "../errors.js";
import type { MackerelWrite } from "../mackerel-client.js";
import { namesHost, replaceHostId } from "./writes.js";

/**
 * Stands for the module's Mackerel host in a spooled write whose host id could not be resolved.
 * Mackerel host ids are letters and digits only, so it can never be a real id.
 */
export const SPOOL_HOST_PLACEHOLDER = "@mackerel-serverless-host";

/** True when a write still names the placeholder host (its host id was not resolved). */
export function usesHostPlaceholder(write: MackerelWrite): boolean {
  return namesHost(write, SPOOL_HOST_PLACEHOLDER);
}

/** The write with the placeholder host replaced by `hostId`. */
export function fillHostPlaceholder(write: MackerelWrite, hostId: string): MackerelWrite {
  return replaceHostId(write, SPOOL_HOST_PLACEHOLDER, hostId);
}

/**
 * The host id, or {@link SPOOL_HOST_PLACEHOLDER} when Mackerel cannot tell it now (unavailable, or no
 * answer within `budgetMs`) and the caller has a spool to put the writes in. A refusal (e.g. a read-only
 * key) is not hidden: it is thrown.
 */
export async function hostIdOrPlaceholder(
  resolve: () => Promise<string>,
  options: { budgetMs: number; spool: boolean },
): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new MackerelUnavailableError(`Mackerel did not resolve the host within ${options.budgetMs} ms`)),
      Math.max(0, options.budgetMs),
    );
  });
  try {
    return await Promise.race([resolve(), timeout]);
  } catch (error) {
    if (error instanceof MackerelUnavailableError && options.spool) return SPOOL_HOST_PLACEHOLDER;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
