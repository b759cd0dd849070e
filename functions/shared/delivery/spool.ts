/**
 * The spool: where writes go that Mackerel could not take now (5xx, 429, timeouts, network errors after
 * the in-call retries), for the sender function to deliver later. An SQS FIFO queue with one message
 * group, so the sender sees spooled writes in the order they were spooled. Messages: `envelope.ts`.
 */
import { createHash } from "node:crypto";
import { MackerelUnavailableError } from "../errors.js";
import type { MackerelWrite } from "../mackerel-client.js";
import { batchSpoolMessages, encodeSpoolMessages } from "./envelope.js";
import { ReportOrderHold } from "./order-hold.js";
import { type SendSpoolBatch, type SpoolBatchEntry, sendSpoolBatch } from "./sqs.js";

/** The one FIFO message group of the spool: one group means one total order. */
export const SPOOL_MESSAGE_GROUP_ID = "spool";

/**
 * Why writes are spooled: Mackerel failed (`unavailable`), the host id could not be resolved
 * (`unresolvedHost`), or they must queue behind earlier spooled check reports (`ordering`).
 */
export type SpoolCause = "unavailable" | "unresolvedHost" | "ordering";

/** Where writes go that Mackerel could not take now. */
export interface Spool {
  /** @param remainingTime - the invocation's remaining time: the spool gives up shortly before it. */
  put(writes: MackerelWrite[], cause?: SpoolCause, remainingTime?: () => number): Promise<void>;
  /** True when `write` must wait behind writes spooled earlier (check reports: Mackerel keeps the newest). */
  holdsBack?(write: MackerelWrite): boolean;
}

export interface SqsSpoolOptions {
  queueUrl: string;
  /** The spooling function's name (envelope `origin`). */
  origin: string;
  now?: () => number;
  send?: SendSpoolBatch;
}

/** Attempts per batch when SQS fails some entries for a retryable cause. */
const BATCH_ATTEMPTS = 3;

/**
 * The SQS spool. `put` throws {@link MackerelUnavailableError} (the one "try again later" name) when the
 * queue cannot take the writes: they were NOT saved, and the caller must fail so that its own retry
 * (Step Functions' Retry, Lambda's asynchronous retry) tries again.
 */
export class SqsSpool implements Spool {
  private readonly now: () => number;
  private readonly send: SendSpoolBatch;
  private readonly hold: ReportOrderHold;

  constructor(private readonly options: SqsSpoolOptions) {
    this.now = options.now ?? Date.now;
    this.send = options.send ?? sendSpoolBatch;
    this.hold = new ReportOrderHold(this.now);
  }

  /** Check reports wait behind what this container spooled recently (`order-hold.ts`). */
  holdsBack(write: MackerelWrite): boolean {
    return this.hold.holdsBack(write);
  }

  async put(writes: MackerelWrite[], cause: SpoolCause = "unavailable", remainingTime?: () => number): Promise<void> {
    const now = this.now();
    const bodies = encodeSpoolMessages(writes, { firstAttemptAt: now, origin: this.options.origin });
    for (const batch of batchSpoolMessages(bodies)) {
      let entries: SpoolBatchEntry[] = batch.map((body, i) => ({
        Id: String(i),
        MessageBody: body,
        MessageGroupId: SPOOL_MESSAGE_GROUP_ID,
        // Same body, same id: a retried send within SQS's 5-minute window is not queued twice.
        MessageDeduplicationId: createHash("sha256").update(body).digest("hex"),
      }));
      for (let attempt = 1; entries.length > 0; attempt++) {
        let failed: Awaited<ReturnType<SendSpoolBatch>>["failed"];
        try {
          ({ failed } = await this.send(this.options.queueUrl, entries, remainingTime?.()));
        } catch (error) {
          throw new MackerelUnavailableError(`the spool refused the writes: ${describe(error)}`, undefined, error);
        }
        // Held back from now on only once something is in the spool: a put that failed left nothing to overtake.
        if (cause !== "ordering" && failed.length < entries.length) this.hold.spooled(now);
        if (failed.length === 0) break;
        const permanent = failed.find((f) => f.senderFault);
        if (permanent || attempt >= BATCH_ATTEMPTS) {
          const first = permanent ?? failed[0]!;
          throw new MackerelUnavailableError(
            `the spool refused ${failed.length} messages: ${first.message ?? "no reason"}`,
          );
        }
        const retry = new Set(failed.map((f) => f.id));
        entries = entries.filter((entry) => retry.has(entry.Id));
      }
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
