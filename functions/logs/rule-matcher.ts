/**
 * The per-line matching of the rules of one log group, on the hot path (10,000 events per payload): per event
 * as little as it can (the prefilter: one scan of the message for the literals that the applicable rules'
 * include patterns require; most lines contain none and are done), per candidate the rest (the RE2 patterns
 * of the rules whose literals occur, then excludes).
 *
 * Rules match the raw message (for Lambda's JSON log format, the whole JSON line) without its final line break,
 * only its first {@link MAX_MATCH_CHARS} characters, with RE2 semantics (functions/shared/user-regexp.ts).
 */
import { MAX_MATCH_CHARS, type UserPattern } from "../shared/user-regexp.js";
import { isRawSafeLiteral } from "./raw-events.js";
import { type CompiledRule, rulesForLogGroup } from "./rule-config.js";

/**
 * The part of a message rules see: at most {@link MAX_MATCH_CHARS} characters, without a final line break
 * (Lambda's text format ends every message with `\n`; with RE2's `$`, the end of the text, `timed out$` should
 * still match). Both are slices, which V8 makes without copying.
 */
export function textToMatch(message: string): string {
  let end = message.length > MAX_MATCH_CHARS ? MAX_MATCH_CHARS : message.length;
  if (end > 0 && message.charCodeAt(end - 1) === 10) {
    end--;
    if (end > 0 && message.charCodeAt(end - 1) === 13) end--;
  }
  return end === message.length ? message : message.slice(0, end);
}

/** Whether the rule matches a text from {@link textToMatch}: an include pattern matches and no exclude does. */
export function ruleMatchesText(rule: CompiledRule, text: string): boolean {
  const line: LineState = { base: text, text };
  return anyMatches(rule.includePatterns, line) && !anyMatches(rule.excludePatterns, line);
}

/**
 * One line as the per-rule checks see it. `base` is the message cut to {@link MAX_MATCH_CHARS} (the final
 * line break still there): literal checks run on it, which is sound (the text rules match is a prefix of it)
 * and exact for literals without line breaks. `text` ({@link textToMatch}) is made on first need, so a line
 * that only meets literal checks costs no string.
 */
interface LineState {
  base: string;
  text: string | undefined;
}

const textOf = (line: LineState): string => (line.text ??= textToMatch(line.base));
/**
 * Case-insensitive (ASCII) searches for folded literals: the `i` flag without `u` folds ASCII letters only (V8
 * never maps non-ASCII to ASCII there), which is what the folded literals need (ASCII, without k and s).
 * Cheaper than lower-casing every line.
 */
const foldedSearches = new WeakMap<readonly string[], readonly RegExp[]>();
function foldedSearch(literals: readonly string[]): readonly RegExp[] {
  let searches = foldedSearches.get(literals);
  if (!searches) foldedSearches.set(literals, (searches = literals.map((l) => new RegExp(escapeLiteral(l), "i"))));
  return searches;
}

function foldedOccur(searches: readonly RegExp[], text: string): boolean {
  for (let i = 0; i < searches.length; i++) if (searches[i]!.test(text)) return true;
  return false;
}

/**
 * Whether one of `patterns` matches the line; each regex runs only if its prefilter passes. `hits`, when given,
 * says per pattern whether its literals are known to occur (1), known not to (0), or unknown (undefined).
 */
function anyMatches(
  patterns: readonly UserPattern[],
  line: LineState,
  literals?: readonly (readonly number[] | undefined)[],
  hits?: Uint8Array,
): boolean {
  for (let i = 0; i < patterns.length; i++) {
    const pattern = patterns[i]!;
    let known: number | undefined;
    const indices = literals?.[i];
    if (indices !== undefined) {
      known = 0;
      for (let k = 0; k < indices.length; k++) if (hits![indices[k]!] === 1) known = 1;
    }
    if (known === 0) continue;
    if (pattern.plain) {
      if (known === 1 || line.base.includes(pattern.source)) return true;
      continue;
    }
    const required = pattern.required;
    if (
      known === undefined &&
      required !== undefined &&
      !(required.foldCase
        ? foldedOccur(foldedSearch(required.anyOf), line.base)
        : literalsOccur(required.anyOf, line.base))
    ) {
      continue;
    }
    if (pattern.test(textOf(line))) return true;
  }
  return false;
}

function literalsOccur(literals: readonly string[], text: string): boolean {
  for (let i = 0; i < literals.length; i++) if (text.includes(literals[i]!)) return true;
  return false;
}

/**
 * The rules of one log group, prepared for the per-line loop: the first check of a line is whether it holds
 * any literal that an include pattern requires (most lines hold none and are done): one V8 expression of
 * escaped literals only (no quantifier, so no backtracking beyond one literal per position), a native scan
 * measured faster than a loop of `includes`. A candidate line then records which literals it holds, so most
 * rules are decided by a table look-up. When some include pattern requires no literal, every line is a
 * candidate.
 */
export interface RuleMatcher {
  readonly rules: readonly CompiledRule[];
  /** The case-sensitive literals, and the case-insensitive (ASCII, lower case) ones. */
  readonly exact: readonly string[];
  readonly folded: readonly string[];
  /** `folded` as case-insensitive searches ({@link foldedSearch}). */
  readonly foldedSearches: readonly RegExp[];
  /** Alternations of the same (undefined when there are none): the first check of every line. */
  readonly exactScan: RegExp | undefined;
  readonly foldedScan: RegExp | undefined;
  /** Some include pattern has no literals: no line can be skipped by the first check. */
  readonly everyLine: boolean;
  /** More than {@link SCAN_THRESHOLD} literals: a candidate line runs each rule's own checks, no table. */
  readonly manyLiterals: boolean;
  /**
   * Per rule, per include pattern: the indices of its literals in `exact` (then `folded`, after them), or
   * undefined for a pattern without literals. Used when the first check is the includes loop: it records
   * which literals occur, so a rule none of whose literals occur costs nothing more.
   */
  readonly includeLiterals: readonly (readonly (readonly number[] | undefined)[])[];
  /**
   * Per rule, the literals of all its include patterns as bits (bit i: literal i of `includeLiterals`), or -1
   * when one of them has no literals. With few literals, a rule none of whose bits a line holds cannot match
   * it (each include pattern's literals are known absent), so it is skipped without a look at its patterns.
   */
  readonly ruleMasks: readonly number[];
  /**
   * The literals as global searches over a payload's JSON text (./raw-events.ts): empty when there are no
   * rules; undefined when some include pattern requires no literal or one that JSON may escape.
   */
  readonly rawSearches: readonly RegExp[] | undefined;
  /** The exact literals as one global alternation, when none is a prefix of another. */
  readonly exactEnumeration: RegExp | undefined;
  /** The last UTF-16 code unit of each exact literal: the cheap first test of which literal ends a match. */
  readonly exactLastCodes: Uint16Array;
  /** Reused for every line (no allocation per line): the line, and which literals occur in it. */
  readonly line: LineState;
  readonly literalHits: Uint8Array;
}

/** Above this many literals a table of which literals occur costs more than each rule checking its own. */
export const SCAN_THRESHOLD = 16;

const escapeLiteral = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");

/** Prepares {@link matchingRules} for `rules` (the rules of one log group). */
export function ruleMatcher(rules: readonly CompiledRule[]): RuleMatcher {
  const exact = new Set<string>();
  const folded = new Set<string>();
  let everyLine = false;
  for (const rule of rules) {
    for (const pattern of rule.includePatterns) {
      if (pattern.required === undefined) everyLine = true;
      else for (const literal of pattern.required.anyOf) (pattern.required.foldCase ? folded : exact).add(literal);
    }
  }
  // The `i` flag without `u` folds ASCII letters only (V8 never maps non-ASCII to ASCII there), which is what
  // the folded literals need: they are ASCII, without k and s.
  const scan = (set: Set<string>, flags: string) =>
    set.size === 0 ? undefined : new RegExp([...set].map(escapeLiteral).join("|"), flags);
  const exactList = [...exact];
  const foldedList = [...folded];
  const index = new Map<string, number>();
  exactList.forEach((literal, i) => index.set(`=${literal}`, i));
  foldedList.forEach((literal, i) => index.set(`~${literal}`, exactList.length + i));
  const includeLiterals = rules.map((rule) =>
    rule.includePatterns.map((pattern) =>
      pattern.required?.anyOf.map((literal) => index.get(`${pattern.required!.foldCase ? "~" : "="}${literal}`)!),
    ),
  );
  return {
    rules,
    exact: exactList,
    folded: foldedList,
    foldedSearches: foldedSearch(foldedList),
    exactScan: scan(exact, ""),
    foldedScan: scan(folded, "i"),
    everyLine,
    rawSearches: everyLine || ![...exact, ...folded].every(isRawSafeLiteral) ? undefined : rawSearches(exact, folded),
    exactEnumeration: enumeration(exactList),
    exactLastCodes: Uint16Array.from(exactList, (literal) => literal.charCodeAt(literal.length - 1)),
    manyLiterals: exact.size + folded.size > SCAN_THRESHOLD,
    includeLiterals,
    ruleMasks: includeLiterals.map((patterns) =>
      patterns.some((indices) => indices === undefined)
        ? -1
        : patterns.reduce((mask, indices) => indices!.reduce((m, i) => m | (1 << i), mask), 0),
    ),
    line: { base: "", text: undefined },
    literalHits: new Uint8Array(exactList.length + foldedList.length),
  };
}

function rawSearches(exact: Set<string>, folded: Set<string>): RegExp[] {
  const searches: RegExp[] = [];
  if (exact.size > 0) searches.push(new RegExp([...exact].map(escapeLiteral).join("|"), "g"));
  if (folded.size > 0) searches.push(new RegExp([...folded].map(escapeLiteral).join("|"), "gi"));
  return searches;
}

/**
 * Fills `matcher.literalHits` for the line; returns the literals that occur as bits (bit i: literal i), which
 * is meaningful when there are at most {@link SCAN_THRESHOLD} literals (the only case it is called in).
 */
function recordLiterals(matcher: RuleMatcher, line: LineState): number {
  const hits = matcher.literalHits;
  let any = 0;
  const exact = matcher.exact;
  const base = line.base;
  const enumerate = matcher.exactEnumeration;
  if (enumerate !== undefined) {
    // One scan instead of an `includes` per literal. Restarting one character after each match reports every
    // position where a literal starts; at one position only one literal can match, as none is a prefix of
    // another (the condition of exactEnumeration): so every literal that occurs is reported.
    hits.fill(0, 0, exact.length);
    const lastCodes = matcher.exactLastCodes;
    enumerate.lastIndex = 0;
    // `test`, not `exec`: no match object nor matched string per match. Every literal that ends where the
    // match ends and occurs there is marked (it occurs); the match's start is the leftmost of those that start
    // at or after where the search began (one starting there earlier would have been the match), so the
    // search resumes one character after it, as with `exec` and `m.index + 1`.
    for (let from0 = 0; enumerate.test(base);) {
      const end = enumerate.lastIndex;
      const lastCode = base.charCodeAt(end - 1);
      let start = end;
      for (let i = 0; i < exact.length; i++) {
        if (lastCodes[i] !== lastCode) continue;
        const from = end - exact[i]!.length;
        if (from < 0 || !base.startsWith(exact[i]!, from)) continue;
        hits[i] = 1;
        any |= 1 << i;
        if (from >= from0 && from < start) start = from;
      }
      from0 = start + 1;
      enumerate.lastIndex = from0;
    }
  } else {
    for (let i = 0; i < exact.length; i++) {
      if (base.includes(exact[i]!)) {
        hits[i] = 1;
        any |= 1 << i;
      } else hits[i] = 0;
    }
  }
  const folded = matcher.foldedSearches;
  for (let i = 0; i < folded.length; i++) {
    if (folded[i]!.test(base)) {
      hits[exact.length + i] = 1;
      any |= 1 << (exact.length + i);
    } else hits[exact.length + i] = 0;
  }
  return any;
}

/** A global alternation of `literals` when none is a prefix of another (see recordLiterals), else undefined. */
function enumeration(literals: readonly string[]): RegExp | undefined {
  if (literals.length === 0 || literals.includes("")) return undefined;
  for (const a of literals) for (const b of literals) if (a !== b && b.startsWith(a)) return undefined;
  return new RegExp(literals.map(escapeLiteral).join("|"), "g");
}

function holdsLiteral(matcher: RuleMatcher, line: LineState): boolean {
  return (
    (matcher.exactScan !== undefined && matcher.exactScan.test(line.base)) ||
    (matcher.foldedScan !== undefined && matcher.foldedScan.test(line.base))
  );
}

/**
 * The rules that match `message` (cut and stripped as {@link textToMatch} says), in order, appended to `out`
 * (cleared first). Equivalent to `rules.filter((rule) => ruleMatchesText(rule, textToMatch(message)))`, only
 * faster; the property test in __tests__/functions/logs/prefilter.test.ts checks that on generated rules and lines.
 */
export function matchingRules(matcher: RuleMatcher, message: string, out: CompiledRule[]): CompiledRule[] {
  out.length = 0;
  const line = matcher.line;
  line.base = message.length > MAX_MATCH_CHARS ? message.slice(0, MAX_MATCH_CHARS) : message;
  line.text = undefined;
  const rules = matcher.rules;
  if (matcher.manyLiterals) {
    // Many literals: one scan says whether any occurs; each rule then checks its own.
    if (!matcher.everyLine && !holdsLiteral(matcher, line)) return out;
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r]!;
      if (anyMatches(rule.includePatterns, line) && !anyMatches(rule.excludePatterns, line)) out.push(rule);
    }
    return out;
  }
  // Few literals: the includes loop records which occur, so most rules are decided by a table look-up.
  // The alternations reject most lines in one native scan; the loop then says which literals a candidate holds.
  // With the one-scan enumeration, recording the literals is that first check.
  if (!matcher.everyLine && matcher.exactEnumeration === undefined && !holdsLiteral(matcher, line)) return out;
  const held = recordLiterals(matcher, line);
  if (held === 0 && !matcher.everyLine) return out;
  const literalHits = matcher.literalHits;
  const ruleMasks = matcher.ruleMasks;
  for (let r = 0; r < rules.length; r++) {
    const mask = ruleMasks[r]!;
    if (mask !== -1 && (mask & held) === 0) continue;
    const rule = rules[r]!;
    const literals = matcher.includeLiterals[r]!;
    if (anyMatches(rule.includePatterns, line, literals, literalHits) && !anyMatches(rule.excludePatterns, line)) {
      out.push(rule);
    }
  }
  return out;
}

/** Per rule list, per set of applicable rules: the prepared matcher. */
const matcherCache = new WeakMap<readonly CompiledRule[], Map<string, RuleMatcher>>();

export function matcherFor(rules: readonly CompiledRule[], applicable: readonly CompiledRule[]): RuleMatcher {
  let byKey = matcherCache.get(rules);
  if (!byKey) matcherCache.set(rules, (byKey = new Map()));
  const key = applicable.map((r) => r.name).join("\n");
  let matcher = byKey.get(key);
  if (matcher === undefined) byKey.set(key, (matcher = ruleMatcher(applicable)));
  return matcher;
}

/**
 * The literal searches of the rules that apply to `logGroup`, for a payload's JSON text ({@link
 * RuleMatcher.rawSearches}): what `decodeForRules` needs to skip the events no rule can match.
 */
export function rawLiteralSearches(rules: readonly CompiledRule[], logGroup: string): readonly RegExp[] | undefined {
  return matcherFor(rules, rulesForLogGroup(rules, logGroup)).rawSearches;
}
