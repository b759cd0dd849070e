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
  /** @param remainingTime - the invocation's remaining time: the spool gives up shortly before it. */
  put(writes: MackerelWrite[], cause?: SpoolCause, remainingTime?: () => number): Promise<void>;
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

/** What `deliver` needs of the host resolver: a new id when Mackerel says the stored one is gone. */
export interface HostRefresher {
  /** Looks the host up again by its custom identifier (registering it if needed); returns the id to use. */
  replace(staleHostId: string): Promise<string>;
}

/** The host id a host write names (the first point's or report's), or undefined for service metrics. */
export function writeHostId(write: MackerelWrite): string | undefined {
  if (write.kind === "hostMetrics") return write.points[0]?.hostId;
  if (write.kind === "checkReports") return write.reports[0]?.source.hostId;
  return undefined;
}

/** The write with host `from` replaced by `to`. */
export function replaceHostId(write: MackerelWrite, from: string, to: string): MackerelWrite {
  if (write.kind === "hostMetrics") {
    return { ...write, points: write.points.map((p) => (p.hostId === from ? { ...p, hostId: to } : p)) };
  }
  if (write.kind === "checkReports") {
    return {
      ...write,
      reports: write.reports.map((r) => (r.source.hostId === from ? { ...r, source: { ...r.source, hostId: to } } : r)),
    };
  }
  return write;
}

/**
 * Mackerel says the write's host does not exist (retired or deleted): host metrics answer 404, check
 * reports 404 or 400 with a message naming the host.
 */
export function isHostNotFound(error: MackerelRejectedError, write: MackerelWrite): boolean {
  const hostId = writeHostId(write);
  if (!hostId) return false;
  if (error.status === 404) return true;
  const message = error.mackerelMessage ?? "";
  return error.status === 400 && /host/i.test(message) && message.includes(hostId);
}

/**
 * Sends one write; when Mackerel says its host is gone and `host` can find (or register) the module's
 * host again, sends it once more to that host. Returns the host id that replaced the stale one, if any.
 */
export async function sendOnce(
  client: MackerelClient,
  write: MackerelWrite,
  host: HostRefresher | undefined,
  log: Logger,
): Promise<{ replaced?: { from: string; to: string } }> {
  try {
    await client.send(write);
    return {};
  } catch (error) {
    if (!(error instanceof MackerelRejectedError) || !host || !isHostNotFound(error, write)) throw error;
    const stale = writeHostId(write)!;
    const fresh = await host.replace(stale);
    if (fresh === stale) throw error;
    log.warn("the Mackerel host was not found (retired?): looked it up again by custom identifier", {
      staleHostId: stale,
      hostId: fresh,
    });
    await client.send(replaceHostId(write, stale, fresh));
    return { replaced: { from: stale, to: fresh } };
  }
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
  /** The host resolver: on "host not found", the host is looked up again once and the write re-sent. */
  host?: HostRefresher,
): Promise<DeliveryResult> {
  const posted: DeliveryCounts = { serviceMetrics: 0, hostMetrics: 0, checkReports: 0 };
  const rejected: DeliveryResult["rejected"] = [];
  const unsent: MackerelWrite[] = [];
  let unavailable: MackerelUnavailableError | undefined;
  let unresolvedHost = false;
  let heldBack = false;

  let rehost: HostRefresher | undefined = host;
  let replaced: { from: string; to: string } | undefined;
  for (const original of writes) {
    const write = replaced ? replaceHostId(original, replaced.from, replaced.to) : original;
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
      const sent = await sendOnce(client, write, rehost, log);
      if (sent.replaced) {
        // Once per invocation: the rest of the writes go to the new host directly.
        replaced = sent.replaced;
        rehost = undefined;
      }
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
