/**
 * Sends a set of writes to Mackerel and says what happened to each. Permanent refusals are collected
 * and surfaced after every other write has had its chance; retryable failures go to the spool when
 * the function has one.
 */
import { MackerelRejectedError, MackerelUnavailableError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { MackerelClient, MackerelWrite } from "./mackerel-client.js";
import { usesHostPlaceholder } from "./spool.js";

/**
 * Why writes are spooled: Mackerel failed (`unavailable`), the host id could not be resolved
 * (`unresolvedHost`), or they must queue behind earlier spooled check reports (`ordering`).
 */
export type SpoolCause = "unavailable" | "unresolvedHost" | "ordering";

/** Where writes go that Mackerel could not take now (the SQS spool, `spool.ts`). */
export interface Spool {
  put(writes: MackerelWrite[], cause?: SpoolCause): Promise<void>;
  /** True when `write` must wait behind writes spooled earlier (check reports: Mackerel keeps the newest). */
  holdsBack?(write: MackerelWrite): boolean;
}

export interface DeliveryCounts {
  serviceMetrics: number;
  hostMetrics: number;
  checkReports: number;
}

export interface DeliveryResult {
  posted: DeliveryCounts;
  spooled: boolean;
  /** Data points and reports put on the spool, by kind. */
  spooledCounts: DeliveryCounts;
  /** Writes Mackerel refused for good, with the refusal. */
  rejected: { write: MackerelWrite; error: MackerelRejectedError }[];
}

/** How many data points or reports a write carries. */
export function writeSize(write: MackerelWrite): number {
  return write.kind === "checkReports" ? write.reports.length : write.points.length;
}

function countKey(write: MackerelWrite): keyof DeliveryCounts {
  return write.kind;
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
): Promise<DeliveryResult> {
  const posted: DeliveryCounts = { serviceMetrics: 0, hostMetrics: 0, checkReports: 0 };
  const rejected: DeliveryResult["rejected"] = [];
  const unsent: MackerelWrite[] = [];
  let unavailable: MackerelUnavailableError | undefined;
  let unresolvedHost = false;
  let heldBack = false;

  for (const write of writes) {
    if (writeSize(write) === 0) continue;
    // A write whose host could not be resolved (Mackerel was down) goes to the spool as it is: the sender
    // resolves the host. A check report may have to queue behind older spooled ones.
    if (usesHostPlaceholder(write)) {
      unresolvedHost = true;
      unsent.push(write);
      continue;
    }
    if (spool?.holdsBack?.(write)) {
      heldBack = true;
      unsent.push(write);
      continue;
    }
    // Once Mackerel is found unavailable, the rest go straight to the spool: no point burning the
    // invocation's time on retries that will fail the same way.
    if (unavailable) {
      unsent.push(write);
      continue;
    }
    try {
      await client.send(write);
      posted[countKey(write)] += writeSize(write);
    } catch (error) {
      if (error instanceof MackerelRejectedError) {
        log.error("Mackerel refused a write", { kind: write.kind, size: writeSize(write), error });
        rejected.push({ write, error });
      } else if (error instanceof MackerelUnavailableError) {
        unavailable = error;
        unsent.push(write);
      } else {
        throw error;
      }
    }
  }

  const spooledCounts: DeliveryCounts = { serviceMetrics: 0, hostMetrics: 0, checkReports: 0 };
  if (unsent.length === 0) return { posted, spooled: false, spooledCounts, rejected };
  if (!spool) {
    throw unavailable ?? new MackerelUnavailableError("Mackerel unavailable: the host id could not be resolved");
  }
  const cause: SpoolCause = unavailable ? "unavailable" : unresolvedHost ? "unresolvedHost" : "ordering";
  await spool.put(unsent, cause);
  for (const write of unsent) spooledCounts[countKey(write)] += writeSize(write);
  log.warn(
    cause === "ordering"
      ? "check reports spooled behind earlier spooled ones (Mackerel keeps the newest report per check)"
      : "Mackerel unavailable: writes spooled for the sender",
    {
      cause,
      writes: unsent.length,
      items: unsent.reduce((sum, w) => sum + writeSize(w), 0),
      ...(heldBack && cause !== "ordering" ? { heldBack } : {}),
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
export function throwIfRejected(result: DeliveryResult): void {
  if (result.rejected.length === 0) return;
  const first = result.rejected[0]!.error;
  const more = result.rejected.length - 1;
  throw new MackerelRejectedError(
    `${first.message}${more > 0 ? ` (and ${more} more refusals)` : ""}`,
    first.status,
    first.mackerelMessage,
  );
}
