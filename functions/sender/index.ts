/**
 * The sender function: drains the spool (SQS FIFO event source, partial batch responses) into Mackerel.
 * Thin: parse, decide, act; the rules live in `envelope.ts`, `expiry.ts` and `schedule.ts`, the queue calls in
 * `queue.ts`, and sending is the one send loop of every function (`resend.ts`, shared/delivery/send.ts).
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
import { SPOOL_ENVELOPE_VERSION, type SpoolEnvelope } from "../shared/delivery/envelope.js";
import { ALL_KINDS, Delivery, POSTED_METRICS } from "../shared/delivery/service.js";
import type { DeliveryCounts } from "../shared/delivery/writes.js";
import { emitMetrics } from "../shared/emf.js";
import { ConfigurationError } from "../shared/errors.js";
import type { LambdaContext } from "../shared/lambda.js";
import { logger } from "../shared/logger.js";
import type { MackerelWrite } from "../shared/mackerel-client.js";
import { createRuntime, type Runtime } from "../shared/runtime.js";
import { parseEnvelope } from "./envelope.js";
import { dropExpired, inOccurrenceOrder } from "./expiry.js";
import { deadLetter, delayRetries, type ReceivedMessage, type StopReason } from "./queue.js";
import { resend } from "./resend.js";
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

const log = logger.child({ function: "sender" });
let runtime: Runtime | undefined;

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
  runtime ??= createRuntime(undefined, { client: { maxAttempts: 2 } });
  const rt = runtime;
  const deadLetterQueueUrl = rt.env.DEAD_LETTER_QUEUE_URL;
  const spoolQueueUrl = rt.env.SPOOL_QUEUE_URL;
  if (!deadLetterQueueUrl || !spoolQueueUrl) {
    throw new ConfigurationError("SPOOL_QUEUE_URL and DEAD_LETTER_QUEUE_URL: are required by the sender");
  }
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
  const delivery = new Delivery(rt, context, log);

  const items: Item[] = (event.Records ?? []).map((record) => prepare(record, nowSeconds, counts));
  const failures: Item[] = [];
  counts.MessagesReceived = items.length;

  let stopped: StopReason | undefined;
  // Queue order, never re-sorted by time: see the header (a correction must land after the value it corrects).
  for (const item of items) {
    // Nothing to send (malformed, or everything expired): settled without Mackerel, even after a stop.
    if (item.malformed !== undefined) {
      if (await deadLetter(deadLetterQueueUrl, received(item), item.record.body, item.malformed, log)) {
        counts.MessagesDeadLettered!++;
      } else failures.push(item);
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

    const outcome = await resend(delivery, item.writes);
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
      if (await deadLetter(deadLetterQueueUrl, received(item), JSON.stringify(envelope), reason, log, first)) {
        counts.MessagesDeadLettered!++;
      } else {
        stopped = "deadLetter";
        failures.push(item);
      }
    }
  }

  for (const item of items) if (!failures.includes(item)) countExpired(item, counts);
  if (failures.length > 0) {
    counts.MessagesRetried = failures.length;
    await delayRetries(spoolQueueUrl, failures.map(received), stopped, log);
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

function addPosted(counts: Counts, posted: DeliveryCounts): void {
  for (const kind of ALL_KINDS) counts[POSTED_METRICS[kind]]! += posted[kind];
}

/** The message's identity, for the queue calls. */
function received(item: Item): ReceivedMessage {
  return {
    messageId: item.record.messageId,
    receiptHandle: item.record.receiptHandle,
    receiveCount: item.receiveCount,
    ...(item.envelope ? { origin: item.envelope.origin } : {}),
  };
}
