/**
 * The literals the rules of one log group require, numbered, and one way to find which of them occur in a
 * text: a global alternation per case mode, run once over the text, reporting every position where a literal
 * starts. The logs function runs it over a payload's whole JSON text (./raw-events.ts: no event is parsed to
 * learn which literals it holds) and, when a payload had to be parsed, over each decoded line.
 *
 * The result is a bit set (bit i: literal i occurs), so each rule is then decided by a mask test, and a rule
 * made of plain words by that test alone.
 */

/**
 * Most literals tracked as bits (bits 0–29 of a JavaScript int32, clear of the sign bit). Rule sets with more
 * literals skip the table: each rule then checks its own literals (functions/logs/rule-matcher.ts).
 */
export const MAX_TRACKED_LITERALS = 30;

/**
 * Literals of one case mode as one search. Alternatives are tried longest first, so the one reported at a
 * position is the longest literal starting there; the shorter literals starting there are its prefixes, found
 * through {@link LiteralGroup.prefixBits}.
 */
export interface LiteralGroup {
  /** Global alternation of the escaped literals, longest first (`gi` when {@link foldCase}). */
  readonly search: RegExp;
  /** Compared ignoring ASCII case; the literals are then lower case (see ../shared/required-literals.ts). */
  readonly foldCase: boolean;
  readonly literals: readonly string[];
  /** Per literal: its bit in the table. */
  readonly bits: readonly number[];
  /** Per literal: its last UTF-16 code unit (lower case when folding), the cheap first test of a match's end. */
  readonly lastCodes: Uint16Array;
  /**
   * Per ASCII code, the first literal ending with it (-1: none), the others chained by {@link nextEnding};
   * index 128 heads the literals ending with a non-ASCII code. So a match looks at its candidates only.
   */
  readonly firstEnding: Int8Array;
  readonly nextEnding: Int8Array;
  /** Per literal: the bits of the group's other literals that are prefixes of it (they occur where it does). */
  readonly prefixBits: readonly number[];
  /** The length of the longest literal. */
  readonly longest: number;
  /**
   * Scratch of one scan ({@link literalsFrom}; scans are synchronous): the end of the next match found ahead.
   */
  nextEnd: number;
}

/** Every literal of a rule set, numbered by bit, with the searches that find them. */
export interface LiteralTable {
  /** Literal i has bit `1 << i`: the first groups' literals, exact then folded, then the late groups'. */
  readonly literals: readonly string[];
  readonly groups: readonly LiteralGroup[];
  /**
   * Literals looked for only in lines that hold one of {@link groups}' (the excludes' literals: a line
   * without an include literal needs none of them), so they cost the other lines nothing.
   */
  readonly lateGroups: readonly LiteralGroup[];
  /** The bit of an exact (or, with `foldCase`, a case-folded) literal of the table; undefined when not in it. */
  bitOf(literal: string, foldCase: boolean): number | undefined;
}

/**
 * Whether a literal can be searched in the JSON text of a message: a JSON encoder may escape `"`, `\`, `/` and
 * control characters (and, with `\u`, anything, which ./raw-events.ts handles apart); any other
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

/** `text` as a regex matching it literally. */
export const escapeLiteral = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");

/**
 * The table of `exact` and `folded` (lower-case) literals, then the late ones; none may be empty. Undefined
 * above {@link MAX_TRACKED_LITERALS} literals in all.
 */
export function literalTable(
  exact: readonly string[],
  folded: readonly string[],
  lateExact: readonly string[] = [],
  lateFolded: readonly string[] = [],
): LiteralTable | undefined {
  const literals = [...exact, ...folded, ...lateExact, ...lateFolded];
  if (literals.length > MAX_TRACKED_LITERALS || literals.includes("")) return undefined;
  // Exact and folded literals apart (the same text can be both), in the order of `literals`.
  const bits = new Map<string, number>();
  let bit = 0;
  [exact, folded, lateExact, lateFolded].forEach((list, l) => {
    for (const literal of list) bits.set(`${l % 2 === 0 ? "=" : "~"}${literal}`, 1 << bit++);
  });
  return {
    literals,
    groups: literalGroups(exact, folded),
    lateGroups: literalGroups(lateExact, lateFolded, exact.length + folded.length),
    bitOf: (literal, foldCase) => bits.get(`${foldCase ? "~" : "="}${literal}`),
  };
}

/**
 * The searches of `exact` and `folded` literals (bits numbered as in {@link literalTable}; meaningless above
 * {@link MAX_TRACKED_LITERALS}, where only the searches are used).
 */
export function literalGroups(exact: readonly string[], folded: readonly string[], firstBit = 0): LiteralGroup[] {
  return [...chunks(exact, firstBit, false), ...chunks(folded, firstBit + exact.length, true)];
}

/**
 * Most literals in one alternation. A narrower alternation scans faster in V8 (its skip tables lose reach as
 * each position's set of possible characters grows) but each group is another pass over the text, and which
 * wins depends on the literals: on the three benchmark rule sets (`npm run bench:logs`), groups of at most 8
 * instead of one saved 0.3 ms per payload on one set and cost 1 ms on another. So a typical set is one pass.
 */
const GROUP_SIZE = 16;

/** `literals` as groups of at most {@link GROUP_SIZE}, of balanced sizes, their bits from `firstBit` on. */
function chunks(literals: readonly string[], firstBit: number, foldCase: boolean): LiteralGroup[] {
  if (literals.length === 0) return [];
  const size = Math.ceil(literals.length / Math.ceil(literals.length / GROUP_SIZE));
  const groups: LiteralGroup[] = [];
  for (let i = 0; i < literals.length; i += size) {
    groups.push(literalGroup(literals.slice(i, i + size), firstBit + i, foldCase));
  }
  return groups;
}

function literalGroup(literals: readonly string[], firstBit: number, foldCase: boolean): LiteralGroup {
  const bits = literals.map((_, i) => 1 << (firstBit + i));
  const byLength = [...literals].sort((a, b) => b.length - a.length);
  const lastCodes = Uint16Array.from(literals, (literal) => literal.charCodeAt(literal.length - 1));
  const firstEnding = new Int8Array(129).fill(-1);
  const nextEnding = new Int8Array(literals.length).fill(-1);
  for (let k = literals.length - 1; k >= 0; k--) {
    const head = Math.min(lastCodes[k]!, 128);
    nextEnding[k] = firstEnding[head]!;
    firstEnding[head] = k;
  }
  return {
    search: new RegExp(byLength.map(escapeLiteral).join("|"), foldCase ? "gi" : "g"),
    foldCase,
    literals,
    bits,
    lastCodes,
    firstEnding,
    nextEnding,
    prefixBits: literals.map((literal) =>
      literals.reduce((mask, other, j) => (other !== literal && literal.startsWith(other) ? mask | bits[j]! : mask), 0),
    ),
    longest: byLength[0]!.length,
    nextEnd: Infinity,
  };
}

/** Which literals of `groups` (a table's) occur in `text` (a decoded line): bit i for literal i. */
export function literalsIn(groups: readonly LiteralGroup[], text: string): number {
  let held = 0;
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    group.search.lastIndex = 0;
    if (group.search.test(text)) held |= literalsFrom(group, text, group.search.lastIndex, 0, text.length, false);
  }
  return held;
}

/**
 * The bits of the literals of `group` that occur in `text` from the match of `group.search` that ends at
 * `end` (the leftmost found by a search that began at or before `from`) up to `limit`, then the end of the
 * first match past `limit` in {@link LiteralGroup.nextEnd} (Infinity: none), for the caller's next region.
 *
 * Per match: of the literals ending where it ends that occur there, the one starting leftmost at or after
 * `from` is the match (one starting earlier, at or after `from`, would have been found instead), its prefixes
 * occur at its start too, and the search resumes one past that start, so every start position is reported.
 *
 * @param inJsonString - `text` is the JSON text of a string without `\u` escapes (./raw-events.ts): an
 *   occurrence right after an escaping backslash (`\n` + `nERROR`) is not one in the decoded string, so it is
 *   not marked. Literals hold no backslash, so no other character of an occurrence can be part of an escape.
 */
export function literalsFrom(
  group: LiteralGroup,
  text: string,
  end: number,
  from: number,
  limit: number,
  inJsonString: boolean,
): number {
  const { literals, lastCodes, firstEnding, nextEnding, bits, search } = group;
  let held = 0;
  while (end <= limit) {
    let code = text.charCodeAt(end - 1);
    if (group.foldCase && code >= 0x41 && code <= 0x5a) code |= 0x20;
    let start = end;
    let longest = -1;
    for (let k = firstEnding[code < 128 ? code : 128]!; k >= 0; k = nextEnding[k]!) {
      if (lastCodes[k] !== code) continue;
      const literal = literals[k]!;
      const at = end - literal.length;
      if (at < from || !(group.foldCase ? occursFolded(text, literal, at) : text.startsWith(literal, at))) continue;
      if (!(inJsonString && escapedAt(text, at))) held |= bits[k]!;
      if (at < start) {
        start = at;
        longest = k;
      }
    }
    if (longest >= 0) {
      if (!(inJsonString && escapedAt(text, start))) held |= group.prefixBits[longest]!;
    } else {
      // Not reached (the match is one of the literals); resuming at the earliest start it could have is safe.
      start = Math.max(from, end - group.longest);
    }
    from = start + 1;
    search.lastIndex = from;
    end = search.test(text) ? search.lastIndex : Infinity;
  }
  group.nextEnd = end;
  return held;
}

/** Whether `literal` (lower case) occurs at `at` in `text`, ASCII letters compared ignoring case. */
function occursFolded(text: string, literal: string, at: number): boolean {
  for (let j = 0; j < literal.length; j++) {
    let c = text.charCodeAt(at + j);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== literal.charCodeAt(j)) return false;
  }
  return true;
}

/** Whether the character at `at` of a JSON string's text is the second of an escape: odd backslashes before it. */
function escapedAt(text: string, at: number): boolean {
  let i = at - 1;
  while (text.charCodeAt(i) === 0x5c /* \ */) i--;
  return (at - 1 - i) % 2 === 1;
}
