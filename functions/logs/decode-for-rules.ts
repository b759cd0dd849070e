/**
 * Decoding a subscription payload for the rules: like {@link decodeSubscriptionEvent}, but the events no rule
 * can match are counted, not parsed (see ./raw-events.ts). The result is the same as a full decode followed
 * by dropping the events the prefilter rules out; whenever that cannot be proved for a payload (another
 * serialization, escaped names, a corrupt payload), the payload is parsed in full, so errors read the same.
 */
import {
  type CorruptResult,
  type DecodeOptions,
  decodeSubscriptionEvent,
  interpretPayload,
  type LogEvent,
  parsePayloadText,
  payloadText,
  type DecodeResult,
  type SubscriptionPayload,
} from "./decode.js";
import { type RawLiteralScan, scanEventArray } from "./raw-events.js";

/** A decoded DATA_MESSAGE as the rules need it: every event counted, the ones that may match parsed. */
export interface RulePayload extends Omit<SubscriptionPayload, "logEvents"> {
  /** How many events the payload holds. */
  readonly eventCount: number;
  readonly firstEventId: string | undefined;
  readonly lastEventId: string | undefined;
  /**
   * The events some rule may match, in payload order: a superset of those that match (all events when the
   * payload was parsed in full). Every other event is certain to match no rule.
   */
  readonly candidateEvents: readonly LogEvent[];
  /**
   * The scan that found the candidates, when it read which literals they hold (their `held` bits, see
   * ./raw-events.ts); undefined after a full parse.
   */
  readonly literalScan?: RawLiteralScan;
}

export type RuleDecodeResult =
  { readonly kind: "data"; readonly payload: RulePayload } | { readonly kind: "control" } | CorruptResult;

/**
 * The literal scan of the rules that apply to a log group (./raw-events.ts): `NO_LITERALS` when no rule
 * applies; undefined when an event cannot be ruled out by literals (a pattern requires none, or one that JSON
 * may escape).
 */
export type LiteralSearchesFor = (logGroup: string) => RawLiteralScan | undefined;

const LOG_EVENTS_KEY = '"logEvents":[';
/** The log group, read before the envelope is parsed to choose the searches; checked against it after. */
const LOG_GROUP = /"logGroup":"([^"\\]*)"/;

/**
 * Decodes a subscription event for rule evaluation. Never throws for bad input.
 *
 * @param searchesFor - the literal searches for the payload's log group.
 */
export function decodeForRules(
  event: unknown,
  searchesFor: LiteralSearchesFor,
  options: DecodeOptions = {},
): RuleDecodeResult {
  const text = payloadText(event, options);
  if (typeof text !== "string") return text;
  return prefilteredPayload(text, searchesFor) ?? fullPayload(parsePayloadText(text));
}

/**
 * The fast path of {@link decodeForRules} on a payload's JSON text: undefined when it does not apply (the
 * caller then parses the text in full).
 *
 * The envelope is parsed by `JSON.parse` with the events array replaced by `0`: the walk proved the array a
 * JSON value, so the envelope text is valid exactly when the payload is, and `logEvents` being `0` proves
 * the walked array is the top-level `logEvents` (the one a full parse keeps, duplicates included).
 */
export function prefilteredPayload(text: string, searchesFor: LiteralSearchesFor): RuleDecodeResult | undefined {
  const key = text.indexOf(LOG_EVENTS_KEY);
  if (key < 0) return undefined;
  const group = LOG_GROUP.exec(text);
  if (group === null) return undefined;
  const scan = searchesFor(group[1]!);
  if (scan === undefined) return undefined;
  const arrayStart = key + LOG_EVENTS_KEY.length - 1;
  const scanned = scanEventArray(text, arrayStart, scan);
  if (scanned === undefined) return undefined;
  let envelope: unknown;
  try {
    envelope = JSON.parse(`${text.slice(0, arrayStart)}0${text.slice(scanned.end)}`);
  } catch {
    return undefined;
  }
  if (typeof envelope !== "object" || envelope === null) return undefined;
  const fields = envelope as Record<string, unknown>;
  if (fields.logEvents !== 0 || fields.logGroup !== group[1]) return undefined;
  // The walk proved every event's shape; reading the candidates' messages here would decode them all.
  fields.logEvents = [];
  const checked = interpretPayload(fields);
  // A shape error is reported by the full parse, with the index of the event at fault.
  if (checked.kind === "corrupt") return undefined;
  if (checked.kind === "control") return checked;
  fields.logEvents = scanned.candidates;
  return rulePayload(checked.payload, scanned.count, scanned.firstId, scanned.lastId, scan.tracked ? scan : undefined);
}

function rulePayload(
  payload: SubscriptionPayload,
  eventCount: number,
  firstEventId: string | undefined,
  lastEventId: string | undefined,
  literalScan?: RawLiteralScan,
): RuleDecodeResult {
  const { logEvents, ...rest } = payload;
  const counted = { ...rest, eventCount, firstEventId, lastEventId, candidateEvents: logEvents };
  return { kind: "data", payload: literalScan === undefined ? counted : { ...counted, literalScan } };
}

/** A full decode as a {@link RulePayload} (every event a candidate). */
export function fullPayload(result: DecodeResult): RuleDecodeResult {
  if (result.kind !== "data") return result;
  const events = result.payload.logEvents;
  return rulePayload(result.payload, events.length, events[0]?.id, events.at(-1)?.id);
}

/** {@link decodeForRules} without a prefilter: every event parsed. */
export function decodeAllForRules(event: unknown, options: DecodeOptions = {}): RuleDecodeResult {
  return fullPayload(decodeSubscriptionEvent(event, options));
}
