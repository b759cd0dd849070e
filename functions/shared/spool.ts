/**
 * The spool: where writes go that Mackerel could not take now (5xx, 429, timeouts, network errors after
 * the in-call retries), for the sender function to deliver later. An SQS FIFO queue with one message
 * group, so the sender sees spooled writes in the order they were spooled.
 *
 * A message is a JSON {@link SpoolEnvelope} of at most {@link SPOOL_BODY_MAX_BYTES}; a large set of
 * writes is split across messages (by data point / report, never inside one). The AWS SDK for SQS is
 * imported lazily: only failures need it, so it costs nothing on the happy path's cold start.
 *
 * Any function that writes to Mackerel uses it the same way: `deliver(writes, client, log, runtime.spool)`.
 */
import { createHash } from "node:crypto";
import type { Spool, SpoolCause } from "./delivery.js";
import { deadlineSignal, sdkClientConfig } from "./aws-sdk.js";
import { MackerelUnavailableError } from "./errors.js";
import type { CheckReport, MackerelWrite } from "./mackerel-client.js";

/** Version of the envelope format; the sender refuses (dead-letters) other versions. */
export const SPOOL_ENVELOPE_VERSION = 1;

/** SQS's message size limit used by this module (body and attributes). */
export const SQS_MAX_MESSAGE_BYTES = 256 * 1024;

/** Largest envelope body: leaves room for the attributes the sender adds when it dead-letters a message. */
export const SPOOL_BODY_MAX_BYTES = SQS_MAX_MESSAGE_BYTES - 4 * 1024;

/** SendMessageBatch takes at most 10 entries. */
const SQS_BATCH_ENTRIES = 10;

/** The one FIFO message group of the spool: one group means one total order. */
export const SPOOL_MESSAGE_GROUP_ID = "spool";

/**
 * Stands for the module's Mackerel host in a spooled write whose host id could not be resolved because
 * Mackerel was down; the sender resolves it (same settings, same custom identifier) before posting.
 * Mackerel host ids are letters and digits only, so it can never be a real id.
 */
export const SPOOL_HOST_PLACEHOLDER = "@mackerel-serverless-host";

/**
 * After a container spooled because Mackerel failed, its check reports keep going to the spool for this
 * long: Mackerel ignores a report older than one it already has for the same check, so a report posted
 * live while older ones still wait in the spool would make Mackerel drop those (and their alerts). Twice
 * the sender's longest retry delay (15 min, functions/sender/schedule.ts): by then the spool has been
 * retried since Mackerel came back.
 */
export const CHECK_REPORT_ORDER_HOLD_MS = 30 * 60 * 1000;

/** One spool message. */
export interface SpoolEnvelope {
  v: typeof SPOOL_ENVELOPE_VERSION;
  writes: MackerelWrite[];
  /** When the function first tried to send these writes, epoch ms. */
  firstAttemptAt: number;
  /** The function that spooled them (its Lambda name). */
  origin: string;
}

const byteLength = (text: string): number => Buffer.byteLength(text, "utf8");

function itemsOf(write: MackerelWrite): unknown[] {
  return write.kind === "checkReports" ? write.reports : write.points;
}

function withItems(write: MackerelWrite, items: unknown[]): MackerelWrite {
  return write.kind === "checkReports"
    ? { ...write, reports: items as CheckReport[] }
    : ({ ...write, points: items } as MackerelWrite);
}

/**
 * Encodes writes as envelope bodies of at most `maxBytes` each (UTF-8), splitting a write's points or
 * reports across messages when needed. Every item lands in exactly one message, in order.
 */
export function encodeSpoolMessages(
  writes: MackerelWrite[],
  meta: { firstAttemptAt: number; origin: string },
  maxBytes: number = SPOOL_BODY_MAX_BYTES,
): string[] {
  const envelope = (w: MackerelWrite[]): SpoolEnvelope => ({
    v: SPOOL_ENVELOPE_VERSION,
    writes: w,
    firstAttemptAt: meta.firstAttemptAt,
    origin: meta.origin,
  });
  const baseSize = byteLength(JSON.stringify(envelope([])));
  const bodies: string[] = [];
  let current: { write: MackerelWrite; items: unknown[] }[] = [];
  let size = baseSize;

  const flush = () => {
    if (current.length === 0) return;
    const body = JSON.stringify(envelope(current.map((piece) => withItems(piece.write, piece.items))));
    // The arithmetic below is exact for JSON.stringify; this guards against a future change breaking it.
    if (byteLength(body) > maxBytes) throw new Error(`spool message of ${byteLength(body)} bytes exceeds ${maxBytes}`);
    bodies.push(body);
    current = [];
    size = baseSize;
  };

  for (const write of writes) {
    const items = itemsOf(write);
    if (items.length === 0) continue;
    const shellSize = byteLength(JSON.stringify(withItems(write, [])));
    let piece: { write: MackerelWrite; items: unknown[] } | undefined;
    for (const item of items) {
      const itemSize = byteLength(JSON.stringify(item));
      // A new piece costs its shell (and a comma after a previous piece); another item costs a comma.
      let need = piece ? itemSize + 1 : shellSize + itemSize + (current.length > 0 ? 1 : 0);
      if (size + need > maxBytes) {
        if (current.length === 0) throw new Error(`one ${write.kind} item of ${itemSize} bytes exceeds ${maxBytes}`);
        flush();
        piece = undefined;
        need = shellSize + itemSize;
      }
      if (!piece) {
        piece = { write, items: [] };
        current.push(piece);
      }
      piece.items.push(item);
      size += need;
    }
  }
  flush();
  return bodies;
}

/** Groups message bodies into SendMessageBatch calls: at most 10 entries and 256 KiB in all per call. */
export function batchSpoolMessages(bodies: string[], maxBatchBytes: number = SQS_MAX_MESSAGE_BYTES): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let size = 0;
  for (const body of bodies) {
    const bytes = byteLength(body);
    if (batch.length > 0 && (batch.length === SQS_BATCH_ENTRIES || size + bytes > maxBatchBytes)) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(body);
    size += bytes;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** True when a write still names the placeholder host (its host id was not resolved). */
export function usesHostPlaceholder(write: MackerelWrite): boolean {
  if (write.kind === "serviceMetrics") return false;
  if (write.kind === "hostMetrics") return write.points.some((p) => p.hostId === SPOOL_HOST_PLACEHOLDER);
  return write.reports.some((r) => r.source.hostId === SPOOL_HOST_PLACEHOLDER);
}

/** The write with the placeholder host replaced by `hostId`. */
export function fillHostPlaceholder(write: MackerelWrite, hostId: string): MackerelWrite {
  if (write.kind === "hostMetrics") {
    return { ...write, points: write.points.map((p) => (p.hostId === SPOOL_HOST_PLACEHOLDER ? { ...p, hostId } : p)) };
  }
  if (write.kind === "checkReports") {
    return {
      ...write,
      reports: write.reports.map((r) =>
        r.source.hostId === SPOOL_HOST_PLACEHOLDER ? { ...r, source: { ...r.source, hostId } } : r,
      ),
    };
  }
  return write;
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

type SqsModule = typeof import("@aws-sdk/client-sqs");
let sqsModule: Promise<SqsModule> | undefined;
let sharedClient: InstanceType<SqsModule["SQSClient"]> | undefined;

/** The SQS SDK and one client per container, loaded on first use (honours AWS_ENDPOINT_URL_SQS). */
export async function sqs(): Promise<{ sdk: SqsModule; client: InstanceType<SqsModule["SQSClient"]> }> {
  sqsModule ??= import("@aws-sdk/client-sqs");
  const sdk = await sqsModule;
  sharedClient ??= new sdk.SQSClient(sdkClientConfig());
  return { sdk, client: sharedClient };
}

/** One entry of a SendMessageBatch call, as this module sends it. */
export interface SpoolBatchEntry {
  Id: string;
  MessageBody: string;
  MessageGroupId: string;
  MessageDeduplicationId: string;
}

/** Sends one batch; returns the ids of entries that failed with a retryable (server-side) cause, or throws. */
export type SendSpoolBatch = (
  queueUrl: string,
  entries: SpoolBatchEntry[],
  /** Time the invocation has left: the call gives up shortly before it. */
  remainingMs?: number,
) => Promise<{ failed: { id: string; senderFault: boolean; message?: string }[] }>;

/** Longest a spool write may take, its SDK retries included: SQS answers in milliseconds when it is up. */
const SPOOL_CALL_CAP_MS = 5000;
/** Time kept after a spool write for returning or failing the invocation. */
const SPOOL_RESERVE_MS = 300;

const sendWithSdk: SendSpoolBatch = async (queueUrl, entries, remainingMs = Number.POSITIVE_INFINITY) => {
  const { sdk, client } = await sqs();
  const output = await client.send(new sdk.SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }), {
    abortSignal: deadlineSignal(remainingMs, SPOOL_CALL_CAP_MS, SPOOL_RESERVE_MS),
  });
  return {
    failed: (output.Failed ?? []).map((f) => ({
      id: f.Id ?? "",
      senderFault: f.SenderFault === true,
      message: f.Message,
    })),
  };
};

export interface SqsSpoolOptions {
  queueUrl: string;
  /** The spooling function's name (envelope `origin`). */
  origin: string;
  now?: () => number;
  send?: SendSpoolBatch;
}

/**
 * The SQS spool. `put` throws {@link MackerelUnavailableError} (the one "try again later" name) when the
 * queue cannot take the writes: they were NOT saved, and the caller must fail so that its own retry
 * (Step Functions' Retry, Lambda's asynchronous retry) tries again.
 */
export class SqsSpool implements Spool {
  private lastFailureAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly send: SendSpoolBatch;

  constructor(private readonly options: SqsSpoolOptions) {
    this.now = options.now ?? Date.now;
    this.send = options.send ?? sendWithSdk;
  }

  /** Check reports wait behind what this container spooled in the last {@link CHECK_REPORT_ORDER_HOLD_MS}. */
  holdsBack(write: MackerelWrite): boolean {
    return write.kind === "checkReports" && this.now() - this.lastFailureAt < CHECK_REPORT_ORDER_HOLD_MS;
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
        if (cause !== "ordering" && failed.length < entries.length) this.lastFailureAt = now;
        if (failed.length === 0) break;
        const permanent = failed.find((f) => f.senderFault);
        if (permanent || attempt >= 3) {
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
