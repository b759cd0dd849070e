/**
 * Decodes a CloudWatch Logs subscription event: `{"awslogs":{"data": base64(gzip(JSON))}}`.
 *
 * This is the hot path of the logs function (a 1–2 MB payload of 10,000 events), so every check here is
 * measured against the bare base64 + gunzip + JSON.parse: no regex over the base64 text (it costs a third of
 * the decode), no per-event zod parse (it copies every event), and the parsed payload is returned as is.
 *
 * It never throws for bad input: a corrupt payload can never succeed, and a thrown error would make Lambda
 * retry the asynchronous invocation for nothing. The handler logs, counts and drops it.
 */
import { isAscii } from "node:buffer";
import { gunzipSync } from "node:zlib";
import * as z from "zod/mini";

/** One log event as CloudWatch Logs delivers it. */
export interface LogEvent {
  readonly id: string;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly message: string;
}

/** A decoded DATA_MESSAGE. Extra fields CloudWatch may add later are kept, untyped. */
export interface SubscriptionPayload {
  readonly messageType: "DATA_MESSAGE";
  /** The AWS account id of the log data. */
  readonly owner: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly subscriptionFilters: readonly string[];
  readonly logEvents: readonly LogEvent[];
  /** `ACCOUNT_LEVEL_POLICY` for events delivered by an account-level subscription policy. */
  readonly policyLevel?: string;
}

/** Which decoding step failed. */
export type CorruptReason = "base64" | "gzip" | "json" | "shape";

/** The outcome of decoding: data to process, a control message to skip, or a corrupt payload to drop. */
export type DecodeResult =
  { readonly kind: "data"; readonly payload: SubscriptionPayload } | { readonly kind: "control" } | CorruptResult;

/** A payload that can never be processed: which step failed, and a short, bounded description. */
export interface CorruptResult {
  readonly kind: "corrupt";
  readonly reason: CorruptReason;
  readonly detail: string;
}

/** Tunables of {@link decodeSubscriptionEvent}. */
export interface DecodeOptions {
  /**
   * Refuse payloads that decompress to more than this many bytes (a gzip bomb, or not a CloudWatch payload):
   * the parsed JSON takes a few times its size in memory and must fit a 128 MB function.
   */
  readonly maxDecompressedBytes?: number;
}

/** Default of {@link DecodeOptions.maxDecompressedBytes}: CloudWatch payloads are around 1 MB compressed. */
export const MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024;

/** Longest piece of a bad value quoted in a `detail`, so a corrupt payload cannot flood the logs. */
const DETAIL_MAX = 200;

/**
 * Decodes a subscription event. Never throws for bad input.
 *
 * @param event - the Lambda event as received.
 * @returns `data` with the payload as parsed (not copied), `control` for a CONTROL_MESSAGE, or `corrupt` with
 *   the failing step and a short, bounded description.
 */
export function decodeSubscriptionEvent(event: unknown, options: DecodeOptions = {}): DecodeResult {
  const text = payloadText(event, options);
  if (typeof text !== "string") return text;
  return parsePayloadText(text);
}

/** The JSON step of {@link decodeSubscriptionEvent}: parses the decompressed text, then checks its shape. */
export function parsePayloadText(text: string): DecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return corrupt("json", describe(error));
  }
  return interpretPayload(parsed);
}

/**
 * The base64 and gzip steps of {@link decodeSubscriptionEvent}: the payload's JSON text, or why there is none.
 */
export function payloadText(event: unknown, options: DecodeOptions = {}): string | CorruptResult {
  const data = (event as { awslogs?: { data?: unknown } } | null | undefined)?.awslogs?.data;
  if (typeof data !== "string") return corrupt("shape", "event.awslogs.data must be a string");

  const compressed = decodeBase64(data);
  if (typeof compressed === "string") return corrupt("base64", compressed);

  if (compressed.length < 2 || compressed[0] !== 0x1f || compressed[1] !== 0x8b) {
    return corrupt("gzip", "not gzip data (the first two bytes are not 1f 8b)");
  }
  const max = options.maxDecompressedBytes ?? MAX_DECOMPRESSED_BYTES;
  let json: Buffer;
  try {
    json = gunzipSync(compressed, { maxOutputLength: max, chunkSize: outputChunkSize(compressed, max) });
  } catch (error) {
    const tooLarge = (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
    return corrupt("gzip", tooLarge ? `decompresses to more than ${max} bytes` : describe(error));
  }
  // Pure ASCII (most logs) reads the same as Latin-1, which skips UTF-8 decoding: a fifth of the decode.
  return isAscii(json) ? json.toString("latin1") : json.toString("utf8");
}

/**
 * The gzip trailer's ISIZE is the uncompressed length (mod 2^32): inflating into one buffer of that size
 * instead of growing 16 KiB chunks takes a third off gunzip. Bounded, since the trailer is untrusted.
 */
function outputChunkSize(compressed: Buffer, max: number): number {
  // A gzip member is at least 18 bytes (10 of header, 8 of trailer); let gunzip report anything shorter.
  if (compressed.length < 18) return 64 * 1024;
  const declared = compressed.readUInt32LE(compressed.length - 4);
  return Math.min(Math.max(declared + 1, 64 * 1024), max + 1);
}

/**
 * Decodes strict base64 (as CloudWatch sends it: padded, no whitespace). Node's decoder silently skips
 * characters outside the alphabet, so instead of scanning the text we compare the decoded length with the
 * length valid base64 of that size must have: every skipped character makes it shorter.
 *
 * @returns the bytes, or a description of the problem.
 */
function decodeBase64(text: string): Buffer | string {
  if (text.length === 0) return "empty";
  if (text.length % 4 !== 0) return `length ${text.length} is not a multiple of 4`;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const bytes = Buffer.from(text, "base64");
  if (bytes.length !== (text.length / 4) * 3 - padding) {
    return "contains characters outside the base64 alphabet (or padding in the middle)";
  }
  return bytes;
}

const envelopeSchema = z.looseObject({
  messageType: z.literal("DATA_MESSAGE"),
  owner: z.string(),
  logGroup: z.string().check(z.minLength(1)),
  logStream: z.string(),
  subscriptionFilters: z.array(z.string()),
  // Checked by the loop in interpretPayload: a per-event zod parse would copy 10,000 objects.
  logEvents: z.custom<unknown[]>(Array.isArray, "must be an array"),
  policyLevel: z.optional(z.string()),
});

/**
 * The shape step of {@link decodeSubscriptionEvent}, for an already parsed payload: a CONTROL_MESSAGE is
 * recognized by its type alone; a DATA_MESSAGE must have every documented field with its type.
 */
export function interpretPayload(value: unknown): DecodeResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return corrupt("shape", "the payload must be a JSON object");
  }
  const messageType = (value as { messageType?: unknown }).messageType;
  if (messageType === "CONTROL_MESSAGE") return { kind: "control" };
  if (messageType !== "DATA_MESSAGE") {
    return corrupt("shape", `messageType must be DATA_MESSAGE or CONTROL_MESSAGE, got ${quote(messageType)}`);
  }

  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    return corrupt("shape", issue ? `${issue.path.join(".") || "payload"}: ${issue.message}` : "invalid payload");
  }
  const events = envelope.data.logEvents;
  for (let i = 0; i < events.length; i++) {
    const problem = eventProblem(events[i]);
    if (problem !== undefined) return corrupt("shape", `logEvents[${i}]${problem}`);
  }
  // The original object, not zod's copy: the events were checked in place above.
  return { kind: "data", payload: value as SubscriptionPayload };
}

/** What is wrong with one log event, or undefined. Hand-rolled: it runs 10,000 times per payload. */
function eventProblem(event: unknown): string | undefined {
  if (typeof event !== "object" || event === null) return " must be an object";
  const { id, timestamp, message } = event as { id?: unknown; timestamp?: unknown; message?: unknown };
  if (typeof id !== "string") return ".id must be a string";
  if (typeof timestamp !== "number" || !Number.isFinite(timestamp)) return ".timestamp must be a finite number";
  if (typeof message !== "string") return ".message must be a string";
  return undefined;
}

function corrupt(reason: CorruptReason, detail: string): CorruptResult {
  return { kind: "corrupt", reason, detail };
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, DETAIL_MAX);
}

function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > DETAIL_MAX ? `${text.slice(0, DETAIL_MAX)}…` : text;
}
