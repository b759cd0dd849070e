/**
 * Re-sending one spool message's writes: the send loop every function uses (shared/delivery/send.ts),
 * after the placeholder host is resolved, and without a spool (the message itself goes back to the queue).
 */
import { MackerelRejectedError, MackerelUnavailableError } from "../shared/errors.js";
import type { MackerelWrite } from "../shared/mackerel-client.js";
import {
  fillHostPlaceholder,
  SPOOL_HOST_PLACEHOLDER,
  usesHostPlaceholder,
} from "../shared/delivery/host-placeholder.js";
import { type Refusal, sendWrites } from "../shared/delivery/send.js";
import type { Delivery } from "../shared/delivery/service.js";
import { type DeliveryCounts, noCounts } from "../shared/delivery/writes.js";

/** What re-sending spooled writes did (the sender). */
export interface ResendResult {
  posted: DeliveryCounts;
  rejected: Refusal[];
  /** Set when Mackerel (or the host look-up) was unavailable: the message must be retried. */
  unavailable?: MackerelUnavailableError;
}

/**
 * Re-sends spooled writes, in order, with the send loop of `deliver` but no spool: the caller puts
 * the message back in the queue when the result is `unavailable`. The placeholder host is resolved first;
 * when Mackerel refuses that look-up, the host writes are refusals.
 */
export async function resend(delivery: Delivery, writes: readonly MackerelWrite[]): Promise<ResendResult> {
  const rejected: Refusal[] = [];
  let resolved: readonly MackerelWrite[] = writes;
  if (writes.some(usesHostPlaceholder)) {
    try {
      const hostId = await delivery.resolveHost(true);
      if (hostId === SPOOL_HOST_PLACEHOLDER) {
        const unavailable = new MackerelUnavailableError("the Mackerel host id is not resolved yet");
        return { posted: noCounts(), rejected, unavailable };
      }
      resolved = writes.map((w) => fillHostPlaceholder(w, hostId));
    } catch (error) {
      if (!(error instanceof MackerelRejectedError)) throw error;
      // The host cannot be found or registered (e.g. a read-only key): its writes cannot be delivered.
      delivery.log.error("Mackerel refused the host look-up; host writes go to the dead-letter queue", { error });
      resolved = writes.filter((write) => !usesHostPlaceholder(write));
      for (const write of writes) if (usesHostPlaceholder(write)) rejected.push({ write, error });
    }
  }
  const sent = await sendWrites(resolved, { client: delivery.client, log: delivery.log, host: delivery.host });
  return {
    posted: sent.posted,
    rejected: [...rejected, ...sent.rejected],
    ...(sent.unavailable ? { unavailable: sent.unavailable } : {}),
  };
}
