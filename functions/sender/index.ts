/**
 * The sender function: drains the spool (SQS FIFO event source, partial batch responses) into Mackerel.
 * Thin: parse, decide, act; the rules live in `envelope.ts`, `expiry.ts` and `schedule.ts`.
 *
 * - Messages are sent in queue order (the spool is FIFO): a later message may carry a newer value for
 *   the same (metric, time), such as a tick's correction of a minute, and Mackerel keeps the last value
 *   it receives. What Mackerel would ignore anyway (metrics 24 h old, check reports 6 h old) is dropped
 *   with a count and a log line.
 * - On a retryable failure the message and every later one of the batch go back to the queue (FIFO: order
 *   is kept) with a growing delay (`schedule.ts`); exhausted receives land in the dead-letter queue.
 * - Permanent refusals go to the dead-letter queue with their reason, never retried.
 * - Re-sending is idempotent: the spooled writes carry their own times and occurredAt, never restamped.
 */
import { createHash } from "node:crypto";
import type { DeliveryCounts } from "../shared/delivery.js";
import { replaceHostId, sendOnce, writeSize } from "../shared/delivery.js";
import { emitMetrics } from "../shared/emf.js";
import { MackerelRejectedError, MackerelUnavailableError } from "../shared/errors.js";
import type { LambdaContext } from "../shared/lambda.js";
import { logger } from "../shared/logger.js";
import type { MackerelClient, MackerelWrite } from "../shared/mackerel-client.js";
import { parseEnvironment, senderEnvironment, type SenderEnvironment } from "../shared/config.js";
import { createRuntime, type Runtime } from "../shared/runtime.js";
import {
  fillHostPlaceholder,
  hostIdOrPlaceholder,
  SPOOL_BODY_MAX_BYTES,
  SPOOL_ENVELOPE_VERSION,
  SPOOL_HOST_PLACEHOLDER,
  type SpoolEnvelope,
  sqs,
  usesHostPlaceholder,
} from "../shared/spool.js";
import { parseEnvelope } from "./envelope.js";
import { dropExpired, inOccurrenceOrder } from "./expiry.js";
import { retryDelaySeconds } from "./schedule.js";

/** The part of an SQS event record the sender reads. */
export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes?: { ApproximateReceiveCount?: string; SentTimestamp?: string };
}

export interface SqsEvent {
  Records?: SqsRecord[];
}

export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** Below this much time left, no new delivery is started: the message goes back to the queue untried. */
const MIN_REMAINING_MS = 8000;
/** Message group of the (FIFO) dead-letter queue. */
const DEAD_LETTER_GROUP_ID = "dead-letter";

const log = logger.child({ function: "sender" });
let runtime: Runtime<SenderEnvironment> | undefined;

type Counts = Record<string, number>;

interface Item {
  record: SqsRecord;
  receiveCount: number;
  envelope?: SpoolEnvelope;
  malformed?: string;
  /** What is left to send after expiry. */
  writes: MackerelWrite[];
  /** What expiry removed; counted and logged once the message is settled (not on every retry). */
  expired?: ReturnType<typeof dropExpired>;
}

/** Lambda entry point. */
export async function handler(event: SqsEvent, context: LambdaContext): Promise<SqsBatchResponse> {
  // The queue is the retry mechanism: one in-call retry is enough.
  runtime ??= createRuntime(parseEnvironment(senderEnvironment), { client: { maxAttempts: 2 } });
  const rt = runtime;
  const deadLetterQueueUrl = rt.env.DEAD_LETTER_QUEUE_URL;
  const spoolQueueUrl = rt.env.SPOOL_QUEUE_URL;
  const nowSeconds = Math.floor(Date.now() / 1000);
  const counts: Counts = {
    MessagesReceived: 0,
    ServiceMetricsPosted: 0,
    HostMetricsPosted: 0,
    CheckReportsPosted: 0,
    ExpiredServiceMetrics: 0,
    ExpiredHostMetrics: 0,
    ExpiredCheckReports: 0,
    WritesRejected: 0,
    MessagesMalformed: 0,
    MessagesDeadLettered: 0,
    MessagesRetried: 0,
  };
  const client = rt.client.withRemainingTime(() => context.getRemainingTimeInMillis());

  const items: Item[] = (event.Records ?? []).map((record) => prepare(record, nowSeconds, counts));
  const failures: Item[] = [];
  counts.MessagesReceived = items.length;

  let stopped: "unavailable" | "time" | "deadLetter" | undefined;
  // Queue order, never re-sorted by time: see the header (a correction must land after the value it corrects).
  for (const item of items) {
    // Nothing to send (malformed, or everything expired): settled without Mackerel, even after a stop.
    if (item.malformed !== undefined) {
      if (!(await deadLetter(deadLetterQueueUrl, item, item.record.body, item.malformed, counts))) {
        failures.push(item);
      }
      continue;
    }
    if (item.writes.length === 0) continue;
    if (stopped) {
      failures.push(item);
      continue;
    }
    if (context.getRemainingTimeInMillis() < MIN_REMAINING_MS) {
      stopped = "time";
      failures.push(item);
      continue;
    }

    const outcome = await send(rt, client, item.writes, context);
    addPosted(counts, outcome.posted);
    if (outcome.unavailable) {
      log.warn("Mackerel unavailable: message goes back to the spool", {
        messageId: item.record.messageId,
        receiveCount: item.receiveCount,
        retryInSeconds: retryDelaySeconds(item.receiveCount),
        error: outcome.unavailable,
      });
      stopped = "unavailable";
      failures.push(item);
      continue;
    }
    if (outcome.rejected.length > 0) {
      counts.WritesRejected! += outcome.rejected.length;
      const first = outcome.rejected[0]!.error;
      const envelope: SpoolEnvelope = {
        ...item.envelope!,
        v: SPOOL_ENVELOPE_VERSION,
        writes: outcome.rejected.map((r) => r.write),
      };
      const reason = `rejected: ${first.message}`;
      if (!(await deadLetter(deadLetterQueueUrl, item, JSON.stringify(envelope), reason, counts, first))) {
        stopped = "deadLetter";
        failures.push(item);
      }
    }
  }

  for (const item of items) if (!failures.includes(item)) countExpired(item, counts);
  if (failures.length > 0) {
    counts.MessagesRetried = failures.length;
    await delayRetries(spoolQueueUrl, failures, stopped);
  }
  emitMetrics(counts);
  log.info("batch done", { ...counts, ...(stopped ? { stopped } : {}) });
  return { batchItemFailures: failures.map((f) => ({ itemIdentifier: f.record.messageId })) };
}

function prepare(record: SqsRecord, nowSeconds: number, counts: Counts): Item {
  const receiveCount = Math.max(1, Number(record.attributes?.ApproximateReceiveCount ?? "1") || 1);
  const parsed = parseEnvelope(record.body);
  if (!parsed.ok) {
    counts.MessagesMalformed!++;
    return { record, receiveCount, malformed: parsed.reason, writes: [] };
  }
  const expired = dropExpired(parsed.envelope.writes, nowSeconds);
  return { record, receiveCount, envelope: parsed.envelope, writes: expired.writes.map(inOccurrenceOrder), expired };
}

/** Counts and logs what expiry dropped from a message that is now settled (deleted or dead-lettered). */
function countExpired(item: Item, counts: Counts): void {
  if (!item.expired || !item.envelope) return;
  const { expired, oldestExpired } = item.expired;
  if (expired.serviceMetrics + expired.hostMetrics + expired.checkReports === 0) return;
  counts.ExpiredServiceMetrics! += expired.serviceMetrics;
  counts.ExpiredHostMetrics! += expired.hostMetrics;
  counts.ExpiredCheckReports! += expired.checkReports;
  log.warn("dropped data Mackerel would ignore (metrics 24 h old, check reports 6 h old)", {
    messageId: item.record.messageId,
    origin: item.envelope.origin,
    expired,
    oldestExpired,
    firstAttemptAt: item.envelope.firstAttemptAt,
  });
}

interface SendOutcome {
  posted: DeliveryCounts;
  rejected: { write: MackerelWrite; error: MackerelRejectedError }[];
  unavailable?: MackerelUnavailableError;
}

/** Sends one message's writes in order; stops at the first retryable failure. */
async function send(
  rt: Runtime,
  client: MackerelClient,
  writes: MackerelWrite[],
  context: LambdaContext,
): Promise<SendOutcome> {
  const posted: DeliveryCounts = { serviceMetrics: 0, hostMetrics: 0, checkReports: 0 };
  const rejected: SendOutcome["rejected"] = [];
  let resolved = writes;
  if (writes.some(usesHostPlaceholder)) {
    try {
      const hostId = await hostIdOrPlaceholder(() => rt.host.hostId(), {
        budgetMs: Math.floor(context.getRemainingTimeInMillis() / 3),
        spool: true,
      });
      if (hostId === SPOOL_HOST_PLACEHOLDER) {
        return {
          posted,
          rejected,
          unavailable: new MackerelUnavailableError("the Mackerel host id is not resolved yet"),
        };
      }
      resolved = writes.map((w) => fillHostPlaceholder(w, hostId));
    } catch (error) {
      if (!(error instanceof MackerelRejectedError)) throw error;
      // The host cannot be found or registered (e.g. a read-only key): its writes cannot be delivered.
      log.error("Mackerel refused the host look-up; host writes go to the dead-letter queue", { error });
      resolved = [];
      for (const write of writes) {
        if (usesHostPlaceholder(write)) rejected.push({ write, error });
        else resolved.push(write);
      }
    }
  }
  let replaced: { from: string; to: string } | undefined;
  for (const original of resolved) {
    const write = replaced ? replaceHostId(original, replaced.from, replaced.to) : original;
    try {
      // A spooled write may name a host retired since: looked up again once per message, then re-sent.
      const sent = await sendOnce(client, write, replaced ? undefined : rt.host, log);
      replaced ??= sent.replaced;
      posted[write.kind] += writeSize(write);
    } catch (error) {
      if (error instanceof MackerelRejectedError) {
        log.error("Mackerel refused a spooled write", {
          kind: write.kind,
          size: writeSize(write),
          error,
          mackerelMessage: error.mackerelMessage,
        });
        rejected.push({ write, error });
      } else if (error instanceof MackerelUnavailableError) {
        return { posted, rejected, unavailable: error };
      } else {
        throw error;
      }
    }
  }
  return { posted, rejected };
}

function addPosted(counts: Counts, posted: DeliveryCounts): void {
  counts.ServiceMetricsPosted! += posted.serviceMetrics;
  counts.HostMetricsPosted! += posted.hostMetrics;
  counts.CheckReportsPosted! += posted.checkReports;
}

/** Sends a message to the dead-letter queue with its reason; false when that failed (retry later). */
async function deadLetter(
  queueUrl: string,
  item: Item,
  body: string,
  reason: string,
  counts: Counts,
  refusal?: MackerelRejectedError,
): Promise<boolean> {
  const fits = Buffer.byteLength(body, "utf8") <= SPOOL_BODY_MAX_BYTES;
  const kept = fits ? body : Buffer.from(body, "utf8").subarray(0, SPOOL_BODY_MAX_BYTES).toString("utf8");
  const attributes: Record<string, { DataType: string; StringValue: string }> = {
    reason: { DataType: "String", StringValue: reason.slice(0, 1000) || "unknown" },
    sourceMessageId: { DataType: "String", StringValue: item.record.messageId },
    receiveCount: { DataType: "Number", StringValue: String(item.receiveCount) },
  };
  if (item.envelope) attributes.origin = { DataType: "String", StringValue: item.envelope.origin || "unknown" };
  if (refusal) attributes.status = { DataType: "Number", StringValue: String(refusal.status) };
  if (refusal?.mackerelMessage) {
    attributes.mackerelMessage = { DataType: "String", StringValue: refusal.mackerelMessage.slice(0, 1000) };
  }
  if (!fits) attributes.truncated = { DataType: "String", StringValue: "true" };
  try {
    const { sdk, client } = await sqs();
    await client.send(
      new sdk.SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: kept,
        MessageAttributes: attributes,
        MessageGroupId: DEAD_LETTER_GROUP_ID,
        // A redelivered spool message dead-letters the same content once.
        MessageDeduplicationId: createHash("sha256").update(item.record.messageId).update(kept).digest("hex"),
      }),
    );
    counts.MessagesDeadLettered!++;
    log.error("message sent to the dead-letter queue", { messageId: item.record.messageId, reason });
    return true;
  } catch (error) {
    log.error("could not send to the dead-letter queue; the message will be retried", {
      messageId: item.record.messageId,
      reason,
      error,
    });
    return false;
  }
}

/**
 * Hides the failed messages for the backoff delay. A FIFO group stays blocked while any of its messages
 * is in flight, so all of them get the same delay: that of the most-received one.
 */
async function delayRetries(
  queueUrl: string,
  failures: Item[],
  stopped: "unavailable" | "time" | "deadLetter" | undefined,
): Promise<void> {
  const receives = Math.max(...failures.map((f) => f.receiveCount));
  // Out of time is not Mackerel's fault: retry at once.
  const delay = stopped === "time" ? 0 : retryDelaySeconds(receives);
  try {
    const { sdk, client } = await sqs();
    for (let i = 0; i < failures.length; i += 10) {
      const output = await client.send(
        new sdk.ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: failures.slice(i, i + 10).map((f, j) => ({
            Id: String(i + j),
            ReceiptHandle: f.record.receiptHandle,
            VisibilityTimeout: delay,
          })),
        }),
      );
      if (output.Failed && output.Failed.length > 0) {
        log.warn("could not delay some retries; the queue's visibility timeout applies", { failed: output.Failed });
      }
    }
  } catch (error) {
    // The messages still come back, after the queue's visibility timeout.
    log.warn("could not delay the retries; the queue's visibility timeout applies", { error });
  }
}
