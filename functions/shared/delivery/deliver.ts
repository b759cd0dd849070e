/**
 * Sends a set of writes to Mackerel and says what happened to each. Permanent refusals are collected
 * and surfaced after every other write has had its chance; retryable failures go to the spool when
 * the function has one.
 */
import { MackerelRejectedError, MackerelUnavailableError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { MackerelClient, MackerelWrite } from "../mackerel-client.js";
import { type HostRefresher, type Refusal, sendWrites } from "./send.js";
import type { Spool, SpoolCause } from "./spool.js";
import { type DeliveryCounts, noCounts, writeSize } from "./writes.js";

export interface DeliveryResult {
  posted: DeliveryCounts;
  spooled: boolean;
  /** Data points and reports put on the spool, by kind. */
  spooledCounts: DeliveryCounts;
  /** Writes Mackerel refused for good, with the refusal. */
  rejected: Refusal[];
}

/**
 * Sends every write. Throws {@link MackerelUnavailableError} only when a write could neither be sent
 * nor spooled; never throws for refusals (they are returned, for the caller to surface).
 */
export async function deliver(
  writes: MackerelWrite[],
  client: MackerelClient,
  log: Logger,
  spool?: Spool,
  /** The host resolver: on "host not found", the host is looked up again once and the write re-sent. */
  host?: HostRefresher,
): Promise<DeliveryResult> {
  // A write whose host could not be resolved goes to the spool as it is (the sender resolves the host); a
  // check report may have to queue behind older spooled ones.
  const sent = await sendWrites(writes, { client, log, host, holdsBack: spool?.holdsBack?.bind(spool) });
  const { posted, rejected, unsent, unavailable } = sent;
  const spooledCounts = noCounts();
  if (unsent.length === 0) return { posted, spooled: false, spooledCounts, rejected };
  if (!spool) {
    throw unavailable ?? new MackerelUnavailableError("Mackerel unavailable: the host id could not be resolved");
  }
  const cause: SpoolCause = unavailable ? "unavailable" : sent.unresolvedHost ? "unresolvedHost" : "ordering";
  try {
    await spool.put(unsent, cause, client.remainingTimeMs);
  } catch (error) {
    // Neither Mackerel nor the spool took them: the caller must fail with the retryable name, so that its
    // own retry (Step Functions' Retry, Lambda's asynchronous retry) delivers them later.
    const spoolFailure = error instanceof Error ? error.message : String(error);
    throw new MackerelUnavailableError(
      `${unavailable ? unavailable.message : `writes had to be spooled (${cause})`}; and ${spoolFailure}`,
      unavailable?.status,
      error,
    );
  }
  for (const write of unsent) spooledCounts[write.kind] += writeSize(write);
  log.warn(
    cause === "ordering"
      ? "check reports spooled behind earlier spooled ones (Mackerel keeps the newest report per check)"
      : "Mackerel unavailable: writes spooled for the sender",
    {
      cause,
      writes: unsent.length,
      items: unsent.reduce((sum, w) => sum + writeSize(w), 0),
      ...(sent.heldBack && cause !== "ordering" ? { heldBack: true } : {}),
      ...(unavailable ? { error: unavailable } : {}),
    },
  );
  return { posted, spooled: true, spooledCounts, rejected };
}

/** How many data points and reports went to the spool in all. */
export function spooledTotal(result: DeliveryResult): number {
  const counts = result.spooledCounts;
  return counts.serviceMetrics + counts.hostMetrics + counts.checkReports;
}

/**
 * Surfaces Mackerel's refusals after everything else was delivered: one {@link MackerelRejectedError}
 * with the first refusal's status and message, and how many more there were.
 */
export function throwIfRejected(result: { rejected: readonly Refusal[] }): void {
  if (result.rejected.length === 0) return;
  const first = result.rejected[0]!.error;
  const more = result.rejected.length - 1;
  throw new MackerelRejectedError(
    `${first.message}${more > 0 ? ` (and ${more} more refusals)` : ""}`,
    first.status,
    first.mackerelMessage,
  );
}
