/**
 * The events array of a subscription payload read straight from its JSON text, materializing only the events
 * some rule can match: the rules' literals (./literal-table.ts) are searched in the raw JSON text of the
 * messages, once over the whole text, and an event becomes a candidate only where an include literal occurs.
 * A candidate carries the bits of the literals its message holds, so most rules are decided without decoding
 * it; its message is decoded (as `JSON.parse` would) only when a regex must run or a sample is kept. Most lines
 * of a payload match nothing, so most of the parse is skipped (the cost of a payload is then about the scan).
 *
 * Exact, not heuristic; every step either proves its answer or gives up (the caller then parses everything):
 * - Each event must be CloudWatch Logs' serialization, `{"id":"<digits>","timestamp":<integer>,"message":"…"}`
 *   with nothing between the tokens, its message a JSON string by the grammar (escapes included), checked by
 *   {@link EVENT}. So the events array is valid JSON exactly when the walk reaches its `]`, and an event
 *   skipped is one `JSON.parse` would have accepted (id a string, timestamp a finite number, message a string).
 * - A literal occurs in a decoded message exactly when it occurs in the message's JSON text other than right
 *   after an escaping backslash, when the literal is {@link isRawSafeLiteral} (no `"`, `\`, `/` or control
 *   character: nothing that JSON may escape) and the JSON text has no `\u` escape (which may encode any
 *   character; such messages are always candidates, their literals unknown). Messages longer than rules see
 *   (MAX_MATCH_CHARS) are candidates with unknown literals too, as the raw text does not say where the cut is.
 * - A literal cannot contain `"`, so a match never crosses a string's end: a match lies in a message exactly
 *   when it ends at or before the message's closing quote and starts at or after its opening one.
 */
import { MAX_MATCH_CHARS } from "../shared/user-regexp.js";
import type { LogEvent } from "./decode.js";
import { type LiteralGroup, literalsFrom } from "./literal-table.js";

export { isRawSafeLiteral } from "./literal-table.js";

/**
 * A timestamp of at most 16 digits, which JSON reads as a finite number (exactly, up to 15). The 15 optional
 * digits are nested groups rather than `[0-9]{0,15}`, which V8 runs as a counted loop, markedly slower: the
 * bounded forms of the id and the timestamp took 0.4 ms of the 2.1 ms this expression spends on a 10,000-event
 * payload.
 */
const TIMESTAMP = `(?:0|[1-9]${"(?:[0-9]".repeat(15)}${")?".repeat(15)})`;
/** A message's characters between escapes: anything but `"`, `\` and control characters (RFC 8259 §7). */
const UNESCAPED = String.raw`[^"\\\x00-\x1f]*`;
const EVENT_HEAD = String.raw`\{"id":"[0-9]+","timestamp":${TIMESTAMP},"message":"`;

/**
 * One event as CloudWatch Logs writes it; the message is a JSON string (no raw `"`, `\` or control
 * character; escapes as the grammar allows). Sticky: it matches at `lastIndex` only. {@link PLAIN_EVENT} is
 * the same without `\u` escapes, the common case, in which the JSON text of the message says exactly which
 * literals it holds.
 */
const EVENT = new RegExp(
  String.raw`${EVENT_HEAD}${UNESCAPED}(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})${UNESCAPED})*"\}`,
  "y",
);
const PLAIN_EVENT = new RegExp(String.raw`${EVENT_HEAD}${UNESCAPED}(?:\\["\\/bfnrt]${UNESCAPED})*"\}`, "y");

/** Where the message's text starts within an event matched by {@link EVENT}. */
const MESSAGE_KEY = ',"message":"';
const ID_START = '{"id":"'.length;

/**
 * How to find, in a payload's JSON text, the events some rule may match (from functions/logs/rule-matcher.ts):
 * searches of raw-safe literals ({@link isRawSafeLiteral}).
 */
export interface RawLiteralScan {
  /**
   * When {@link tracked}, the include groups of a literal table (./literal-table.ts); else alternations of the
   * include literals. None: no event can match.
   */
  readonly groups: readonly LiteralGroup[];
  /** The table's late groups (exclude literals), looked for in candidates only; none when not tracked. */
  readonly lateGroups: readonly LiteralGroup[];
  /**
   * The candidates carry the bits of the table's literals their messages hold ({@link ScannedEvent.held}), and
   * an event is a candidate when it holds one of {@link includeBits}. Otherwise one occurrence of any literal
   * makes a candidate, whose literals are unknown.
   */
  readonly tracked: boolean;
  readonly includeBits: number;
}

/** No rule applies: every event is counted, none is a candidate. */
export const NO_LITERALS: RawLiteralScan = { groups: [], lateGroups: [], tracked: true, includeBits: 0 };

/**
 * An event of the payload as the scan found it: its message is decoded on first read (most candidates are
 * decided by their literals alone, see functions/logs/rule-matcher.ts), as `JSON.parse` would decode it.
 */
export class ScannedEvent implements LogEvent {
  #id: string | undefined;
  #message: string | undefined;
  readonly #text: string;
  readonly #start: number;
  readonly #messageStart: number;
  readonly #messageEnd: number;

  constructor(
    readonly timestamp: number,
    text: string,
    start: number,
    messageStart: number,
    messageEnd: number,
    /**
     * The bits of the scan's literals (its table's) that the message holds in its first MAX_MATCH_CHARS
     * characters, or -1 when unknown (the message has a `\u` escape or is longer, or the scan is not tracked).
     */
    readonly held: number,
  ) {
    this.#text = text;
    this.#start = start;
    this.#messageStart = messageStart;
    this.#messageEnd = messageEnd;
  }

  get id(): string {
    return (this.#id ??= idAt(this.#text, this.#start));
  }

  get message(): string {
    return (this.#message ??= messageAt(this.#text, this.#messageStart, this.#messageEnd));
  }

  /** The message's JSON text (between its quotes), a slice of the payload's (V8 makes it without copying). */
  get jsonText(): string {
    return this.#text.slice(this.#messageStart, this.#messageEnd);
  }
}

/** What the walk of an events array found. */
export interface ScannedEvents {
  /** How many events the array holds. */
  readonly count: number;
  readonly firstId: string | undefined;
  readonly lastId: string | undefined;
  /** The events in which an include literal (or a `\u` escape) occurs, in payload order. */
  readonly candidates: ScannedEvent[];
  /** Index just after the array's `]`. */
  readonly end: number;
}

/**
 * Walks the events array that starts at `start` (its `[`) in `text`.
 *
 * @param scan - the literals to look for (their searches' `lastIndex` and `nextEnd` are used and left changed).
 * @returns undefined when the array is not in CloudWatch Logs' serialization (the caller parses it all).
 */
export function scanEventArray(text: string, start: number, scan: RawLiteralScan): ScannedEvents | undefined {
  if (text.charCodeAt(start) !== 0x5b /* [ */) return undefined;
  const candidates: ScannedEvent[] = [];
  if (text.charCodeAt(start + 1) === 0x5d /* ] */) {
    return { count: 0, firstId: undefined, lastId: undefined, candidates, end: start + 2 };
  }
  const { groups, lateGroups, tracked, includeBits } = scan;
  // Per group, the END of its leftmost match at or after where it last searched (Infinity: none). A match
  // holds no `"` (see the top of this file), so it cannot straddle a message's quotes: it lies in a message
  // exactly when it ends in it (at or before the closing quote) and at or after the message's start.
  for (const group of groups) group.nextEnd = -1;
  for (const group of lateGroups) group.nextEnd = -1;
  let count = 0;
  const firstStart = start + 1;
  let lastStart: number;
  let p = firstStart;
  for (;;) {
    PLAIN_EVENT.lastIndex = p;
    let unicode = false;
    if (!PLAIN_EVENT.test(text)) {
      EVENT.lastIndex = p;
      if (!EVENT.test(text)) return undefined;
      unicode = true;
    }
    const end = (unicode ? EVENT : PLAIN_EVENT).lastIndex;
    count++;
    lastStart = p;
    if (groups.length > 0) {
      const messageEnd = end - 2;
      // Found lazily: most events end before the next match of every group, which settles them unread.
      let messageStart = -1;
      let held = 0;
      let unknown = unicode;
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g]!;
        if (group.nextEnd > messageEnd) continue;
        if (messageStart < 0) messageStart = text.indexOf(MESSAGE_KEY, p) + MESSAGE_KEY.length;
        if (!tracked || unknown || messageEnd - messageStart > MAX_MATCH_CHARS) {
          // The literals cannot be told from the JSON text (or are not tracked): the message will be read.
          if (nextMatchIn(group, text, messageStart, messageEnd)) unknown = true;
          continue;
        }
        held |= literalsInMessage(group, text, messageStart, messageEnd);
      }
      // Unknown: a `\u` escape, or a literal occurs and the scan cannot say which.
      if (unknown || (held & includeBits) !== 0) {
        if (messageStart < 0) messageStart = text.indexOf(MESSAGE_KEY, p) + MESSAGE_KEY.length;
        if (!unknown) {
          for (let g = 0; g < lateGroups.length; g++) {
            held |= literalsInMessage(lateGroups[g]!, text, messageStart, messageEnd);
          }
        }
        candidates.push(candidateAt(text, p, messageStart, messageEnd, unknown ? -1 : held));
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

/**
 * Whether `group` has a match in the message `text[messageStart, messageEnd)`; leaves its `nextEnd` at that
 * match's end, or past the message (searches only resume, so the text is scanned once per group in all).
 */
function nextMatchIn(group: LiteralGroup, text: string, messageStart: number, messageEnd: number): boolean {
  let at = group.nextEnd;
  if (at > messageEnd) return false;
  if (at < messageStart) {
    group.search.lastIndex = messageStart;
    group.nextEnd = at = group.search.test(text) ? group.search.lastIndex : Infinity;
  }
  return at <= messageEnd;
}

/** The bits of the literals of `group` in the message `text[messageStart, messageEnd)` (see literalsFrom). */
function literalsInMessage(group: LiteralGroup, text: string, messageStart: number, messageEnd: number): number {
  return nextMatchIn(group, text, messageStart, messageEnd)
    ? literalsFrom(group, text, group.nextEnd, messageStart, messageEnd, true)
    : 0;
}

/** The event matched by {@link EVENT} at `start`, its timestamp as `JSON.parse` would read it. */
function candidateAt(
  text: string,
  start: number,
  messageStart: number,
  messageEnd: number,
  held: number,
): ScannedEvent {
  const timestampEnd = messageStart - MESSAGE_KEY.length;
  let timestampStart = timestampEnd;
  while (text.charCodeAt(timestampStart - 1) !== 0x3a /* : */) timestampStart--;
  return new ScannedEvent(timestampAt(text, timestampStart, timestampEnd), text, start, messageStart, messageEnd, held);
}

/**
 * The integer of at most 16 digits (EVENT) at `text[from, to)`. Up to 15 digits it is below 2^53, so summing
 * digits is exact; 16 digits may need rounding, which `Number` does as JSON does. No string is made.
 */
function timestampAt(text: string, from: number, to: number): number {
  if (to - from > 15) return Number(text.slice(from, to));
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + (text.charCodeAt(i) - 0x30);
  return value;
}

/**
 * The message whose JSON text is `text[messageStart, messageEnd)`, as `JSON.parse` would decode it. Without
 * escapes it is that text as is (a slice, which V8 makes without copying); when its only escape is a final
 * `\n` (Lambda's text format), the slice before it and a line break.
 */
function messageAt(text: string, messageStart: number, messageEnd: number): string {
  const raw = text.slice(messageStart, messageEnd);
  const backslash = raw.indexOf("\\");
  if (backslash < 0) return raw;
  if (backslash === raw.length - 2 && raw.charCodeAt(raw.length - 1) === 0x6e /* n */) {
    return `${raw.slice(0, -2)}\n`;
  }
  return JSON.parse(text.slice(messageStart - 1, messageEnd + 1)) as string;
}

/** The id of the event matched by {@link EVENT} at `start` (digits: no escape to decode). */
function idAt(text: string, start: number): string {
  const from = start + ID_START;
  return text.slice(from, text.indexOf('"', from));
}
