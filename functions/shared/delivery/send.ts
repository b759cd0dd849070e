/**
 * The send loop every function uses, the sender included: writes in order, one look-up of a retired host
 * per call, refusals collected (never thrown), and nothing more sent once Mackerel is found unavailable.
 */
import { MackerelRejectedError, MackerelUnavailableError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { MackerelClient, MackerelWrite } from "../mackerel-client.js";
import { usesHostPlaceholder } from "./host-placeholder.js";
import { type DeliveryCounts, noCounts, replaceHostId, writeHostId, writeSize } from "./writes.js";

/** What the send loop needs of the host resolver: a new id when Mackerel says the stored one is gone. */
export interface HostRefresher {
  /** Looks the host up again by its custom identifier (registering it if needed); returns the id to use. */
  replace(staleHostId: string): Promise<string>;
}

/** A write Mackerel refused for good, with the refusal. */
export interface Refusal {
  write: MackerelWrite;
  error: MackerelRejectedError;
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

export interface SendOptions {
  client: MackerelClient;
  log: Logger;
  /** The host resolver: on "host not found", the host is looked up again once and the write re-sent. */
  host?: HostRefresher;
  /** True when a write must not be sent now but spooled behind earlier ones (`order-hold.ts`). */
  holdsBack?: (write: MackerelWrite) => boolean;
}

export interface SendResult {
  posted: DeliveryCounts;
  rejected: Refusal[];
  /** Writes not sent, in order: for the spool, or for the sender to retry. */
  unsent: MackerelWrite[];
  /** Set when Mackerel was found unavailable: nothing was sent after it. */
  unavailable?: MackerelUnavailableError;
  /** Some writes still named the host placeholder (the host id was not resolved). */
  unresolvedHost: boolean;
  /** Some check reports were held back behind earlier spooled ones. */
  heldBack: boolean;
}

/**
 * Sends every write in order. Writes naming the host placeholder and writes held back are not sent; once
 * Mackerel is found unavailable the rest are not tried (no point burning the invocation's time on retries
 * that will fail the same way). Refusals are collected; any other error is thrown.
 */
export async function sendWrites(writes: readonly MackerelWrite[], options: SendOptions): Promise<SendResult> {
  const { client, log } = options;
  const result: SendResult = { posted: noCounts(), rejected: [], unsent: [], unresolvedHost: false, heldBack: false };
  let rehost = options.host;
  let replaced: { from: string; to: string } | undefined;
  for (const original of writes) {
    const write = replaced ? replaceHostId(original, replaced.from, replaced.to) : original;
    if (writeSize(write) === 0) continue;
    if (usesHostPlaceholder(write)) {
      result.unresolvedHost = true;
      result.unsent.push(write);
      continue;
    }
    if (options.holdsBack?.(write)) {
      result.heldBack = true;
      result.unsent.push(write);
      continue;
    }
    if (result.unavailable) {
      result.unsent.push(write);
      continue;
    }
    try {
      const sent = await sendOnce(client, write, rehost, log);
      if (sent.replaced) {
        // Once per call: the rest of the writes go to the new host directly.
        replaced = sent.replaced;
        rehost = undefined;
      }
      result.posted[write.kind] += writeSize(write);
    } catch (error) {
      if (error instanceof MackerelRejectedError) {
        log.error("Mackerel refused a write", { kind: write.kind, size: writeSize(write), error });
        result.rejected.push({ write, error });
      } else if (error instanceof MackerelUnavailableError) {
        result.unavailable = error;
        result.unsent.push(write);
      } else {
        throw error;
      }
    }
  }
  return result;
}
