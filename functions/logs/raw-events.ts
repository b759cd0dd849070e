/**
 * The events array of a subscription payload read straight from its JSON text, materializing only the events
 * some rule can match: the prefilter of the rules (the literals their include patterns require) runs over the
 * raw JSON text of each message, and `JSON.parse` runs only on the events where a literal occurs. Most lines
 * of a payload match nothing, so most of the parse is skipped (the cost of a payload is then about the scan).
 *
 * Exact, not heuristic; every step either proves its answer or gives up (the caller then parses everything):
 * - Each event must be CloudWatch Logs' serialization, `{"id":"<digits>","timestamp":<integer>,"message":"…"}`
 *   with nothing between the tokens, its message a JSON string by the grammar (escapes included), checked by
 *   {@link EVENT}. So the events array is valid JSON exactly when the walk reaches its `]`, and an event
 *   skipped is one `JSON.parse` would have accepted (id a string, timestamp a finite number, message a string).
 * - A literal occurs in a decoded message only if it occurs in the message's JSON text, when the literal is
 *   {@link isRawSafeLiteral} (no `"`, `\`, `/` or control character: nothing that JSON may escape) and the JSON
 *   text has no `\u` escape (which may encode any character; such messages are always materialized). The
 *   converse may fail (`\nERROR` holds `nERROR`): that only materializes an event for nothing.
 * - A literal cannot contain `"`, so a match never crosses a string's end: the leftmost match at or after the
 *   start of a message is the first occurrence in that message, if it starts before the message's end.
 */
import type { LogEvent } from "./decode.js";

/**
 * One event as CloudWatch Logs writes it; the message is a JSON string (no raw `"`, `\` or control
 * character; escapes as the grammar allows). Timestamps of up to 16 digits are always finite numbers.
 * Sticky: it matches at `lastIndex` only.
 */
const EVENT =
  // eslint-disable-next-line no-control-regex -- JSON strings cannot hold raw control characters (RFC 8259 §7)
  /\{"id":"[0-9]{1,64}","timestamp":(?:0|[1-9][0-9]{0,15}),"message":"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"\}/y;

/** Where the message's text starts within an event matched by {@link EVENT}. */
const MESSAGE_KEY = ',"message":"';

/** A `\u` escape makes the message's text say nothing about its characters: always materialized. */
const UNICODE_ESCAPE = /\\u/g;

/**
 * Whether a literal can be searched in the JSON text of a message: a JSON encoder may escape `"`, `\`, `/` and
 * control characters (and, with `\u`, anything, which {@link scanEventArray} handles apart); any other
 * character stands for itself.
 */
export function isRawSafeLiteral(literal: string): boolean {
  if (literal.length === 0) return false;
  for (let i = 0; i < literal.length; i++) {
    const c = literal.charCodeAt(i);
    if (c < 0x20 || c === 0x22 /* " */ || c === 0x5c /* \ */ || c === 0x2f /* / */) return false;
  }
  return true;
}

/** What the walk of an events array found. */
export interface ScannedEvents {
  /** How many events the array holds. */
  readonly count: number;
  readonly firstId: string | undefined;
  readonly lastId: string | undefined;
  /** The events in which a literal (or a `\u` escape) occurs, parsed, in payload order. */
  readonly candidates: LogEvent[];
  /** Index just after the array's `]`. */
  readonly end: number;
}

/**
 * Walks the events array that starts at `start` (its `[`) in `text`.
 *
 * @param searches - global (`g`) expressions of the literals, each an alternation of raw-safe literals
 *   (case-insensitive ones with `i`); none: no event can match. Their `lastIndex` is used and left changed.
 * @returns undefined when the array is not in CloudWatch Logs' serialization (the caller parses it all).
 */
export function scanEventArray(text: string, start: number, searches: readonly RegExp[]): ScannedEvents | undefined {
  if (text.charCodeAt(start) !== 0x5b /* [ */) return undefined;
  const candidates: LogEvent[] = [];
  if (text.charCodeAt(start + 1) === 0x5d /* ] */) {
    return { count: 0, firstId: undefined, lastId: undefined, candidates, end: start + 2 };
  }
  const all = searches.length > 0 ? [...searches, UNICODE_ESCAPE] : [];
  // Per search, the END of its leftmost match at or after the last position searched from (Infinity: none):
  // `test` instead of `exec`, so no match object per hit. A match holds no `"` (see the top of this file), so
  // it cannot straddle a message's quotes: it starts in a message exactly when it ends in it (at or before the
  // closing quote), and it starts before a message exactly when it ends before the message's start.
  const next = all.map(() => -1);
  // The first backslash at or after the last message start looked at (Infinity: none).
  let nextBackslash = -1;
  let count = 0;
  const firstStart = start + 1;
  let lastStart: number;
  let p = firstStart;
  for (;;) {
    EVENT.lastIndex = p;
    if (!EVENT.test(text)) return undefined;
    const end = EVENT.lastIndex;
    count++;
    lastStart = p;
    if (all.length > 0) {
      const messageEnd = end - 2;
      // Found lazily: most events end before the next match of every search, which settles them unread.
      let messageStart = -1;
      let hit = false;
      for (let s = 0; s < all.length && !hit; s++) {
        let at = next[s]!;
        if (at > messageEnd) continue;
        if (messageStart < 0) messageStart = text.indexOf(MESSAGE_KEY, p) + MESSAGE_KEY.length;
        if (at < messageStart) {
          const search = all[s]!;
          search.lastIndex = messageStart;
          next[s] = at = search.test(text) ? search.lastIndex : Infinity;
        }
        hit = at <= messageEnd;
      }
      if (hit) {
        if (nextBackslash < messageStart) nextBackslash = indexOrInfinity(text, "\\", messageStart);
        candidates.push(eventAt(text, p, messageStart, messageEnd, nextBackslash));
      }
    }
    const after = text.charCodeAt(end);
    if (after === 0x5d /* ] */) {
      return { count, firstId: idAt(text, firstStart), lastId: idAt(text, lastStart), candidates, end: end + 1 };
    }
    if (after !== 0x2c /* , */) return undefined;
    p = end + 1;
  }
}

function indexOrInfinity(text: string, search: string, from: number): number {
  const at = text.indexOf(search, from);
  return at < 0 ? Infinity : at;
}

/**
 * The event matched by {@link EVENT} at `start`, as `JSON.parse` would give it (the same fields in the same
 * order, the same values): its id has digits only, its timestamp at most 16 digits (`Number` reads them as
 * JSON does), and a message without escapes is its text as is (a slice, which V8 makes without copying).
 * `firstBackslash` is the first `\` at or after the message's start: when it is the message's only escape, a
 * final `\n` (it is not itself escaped, being the first), the message is the slice before it and a line break.
 */
function eventAt(
  text: string,
  start: number,
  messageStart: number,
  messageEnd: number,
  firstBackslash: number,
): LogEvent {
  const escaped = firstBackslash < messageEnd;
  const idStart = start + '{"id":"'.length;
  const idEnd = text.indexOf('"', idStart);
  const timestamp = Number(text.slice(idEnd + '","timestamp":'.length, messageStart - MESSAGE_KEY.length));
  const message = !escaped
    ? text.slice(messageStart, messageEnd)
    : firstBackslash === messageEnd - 2 && text.charCodeAt(messageEnd - 1) === 0x6e /* n */
      ? // The only escape is the final `\n` (Lambda's text format): no parse needed.
        `${text.slice(messageStart, messageEnd - 2)}\n`
      : (JSON.parse(text.slice(messageStart - 1, messageEnd + 1)) as string);
  return { id: text.slice(idStart, idEnd), timestamp, message };
}

/** The id of the event matched by {@link EVENT} at `start` (digits: no escape to decode). */
function idAt(text: string, start: number): string {
  const from = start + '{"id":"'.length;
  return text.slice(from, text.indexOf('"', from));
}
