/**
 * Spool messages: a JSON {@link SpoolEnvelope} of at most {@link SPOOL_BODY_MAX_BYTES}. A large set of
 * writes is split across messages (by data point / report, never inside one), and messages are grouped
 * into SendMessageBatch calls. Pure.
 */
import type { MackerelWrite } from "../mackerel-client.js";

/** Version of the envelope format; the sender refuses (dead-letters) other versions. */
export const SPOOL_ENVELOPE_VERSION = 1;

/** SQS's message size limit used by this module (body and attributes). */
export const SQS_MAX_MESSAGE_BYTES = 256 * 1024;

/** Largest envelope body: leaves room for the attributes the sender adds when it dead-letters a message. */
export const SPOOL_BODY_MAX_BYTES = SQS_MAX_MESSAGE_BYTES - 4 * 1024;

/** SendMessageBatch takes at most 10 entries. */
const SQS_BATCH_ENTRIES = 10;

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
  return (write.kind === "checkReports" ? { ...write, reports: items } : { ...write, points: items }) as MackerelWrite;
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
