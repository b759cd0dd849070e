/**
 * The per-line matching of the rules of one log group, on the hot path (10,000 events per payload): per line as
 * little as it can. The literals the rules' patterns require are numbered (./literal-table.ts); a line is
 * reduced to the bits of those it holds, by one scan of the line or, for most events, by the scan of the
 * payload's JSON text before any event is parsed (./raw-events.ts). Most lines hold no include literal and are
 * done; a rule is then a mask test, decided outright when its patterns are plain words, and only the RE2
 * patterns whose literals occur run (on the message, decoded on first need).
 *
 * Rules match the raw message (for Lambda's JSON log format, the whole JSON line) without its final line break,
 * only its first {@link MAX_MATCH_CHARS} characters, with RE2 semantics (functions/shared/user-regexp.ts).
 */
import { MAX_MATCH_CHARS, type UserPattern } from "../shared/user-regexp.js";
import type { LogEvent } from "./decode.js";
import {
  escapeLiteral,
  isRawSafeLiteral,
  type LiteralTable,
  literalGroups,
  literalsIn,
  literalTable,
} from "./literal-table.js";
import type { RawLiteralScan, ScannedEvent } from "./raw-events.js";
import { testableOnJsonText } from "./raw-pattern.js";
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
  const line: LineState = { event: undefined, base: text, text, scanned: false, json: undefined };
  return ruleMatchesLine(rule, undefined, undefined, 0, line);
}

/**
 * One line as the per-rule checks see it, each part made on first need (a line decided by literal bits alone
 * costs no string): the event, when the line is an event's message (from ./raw-events.ts, its message is
 * decoded on first read); `base`, the message cut to {@link MAX_MATCH_CHARS} with its final line break, on
 * which literal checks run (sound, as the text rules match is a prefix of it, and exact for literals without
 * line breaks); `text` ({@link textToMatch}), what patterns match.
 */
interface LineState {
  event: LogEvent | undefined;
  base: string | undefined;
  text: string | undefined;
  /**
   * The event is one the payload scan read, its literals known ({@link ScannedEvent}): patterns that answer the
   * same on its message's JSON text (./raw-pattern.ts) run on that, `json`, and the message is not decoded.
   */
  scanned: boolean;
  json: string | undefined;
}

const cut = (message: string): string =>
  message.length > MAX_MATCH_CHARS ? message.slice(0, MAX_MATCH_CHARS) : message;
const baseOf = (line: LineState): string => (line.base ??= cut(line.event!.message));
const textOf = (line: LineState): string => (line.text ??= textToMatch(baseOf(line)));
const jsonOf = (line: LineState): string => (line.json ??= (line.event as ScannedEvent).jsonText);

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

function literalsOccur(literals: readonly string[], text: string): boolean {
  for (let i = 0; i < literals.length; i++) if (text.includes(literals[i]!)) return true;
  return false;
}

/** What a rule's patterns need beyond their sources, per pattern (see {@link patternsMatch}). */
interface PatternPlan {
  /** The bits of each pattern's literals in the table, or -1 when not all are in it. */
  readonly masks: readonly number[];
  /** Whether each pattern answers the same on a message's JSON text (./raw-pattern.ts). */
  readonly onJsonText: readonly boolean[];
}

/**
 * Whether one of `patterns` matches the line. With a plan, `held` is the literals the line holds: a pattern
 * none of whose literals is held cannot match; one held and the pattern plain (its literal is the pattern),
 * it matches. Otherwise the pattern's own prefilter decides whether its regex runs.
 */
function patternsMatch(
  patterns: readonly UserPattern[],
  plan: PatternPlan | undefined,
  held: number,
  line: LineState,
): boolean {
  for (let i = 0; i < patterns.length; i++) {
    const pattern = patterns[i]!;
    const mask = plan === undefined ? -1 : plan.masks[i]!;
    if (mask !== -1) {
      if ((mask & held) === 0) continue;
      if (pattern.plain) return true;
    } else if (pattern.plain) {
      if (baseOf(line).includes(pattern.source)) return true;
      continue;
    } else {
      const required = pattern.required;
      if (
        required !== undefined &&
        !(required.foldCase
          ? foldedOccur(foldedSearch(required.anyOf), baseOf(line))
          : literalsOccur(required.anyOf, baseOf(line)))
      ) {
        continue;
      }
    }
    const subject = line.scanned && plan!.onJsonText[i] ? jsonOf(line) : textOf(line);
    if (pattern.test(subject)) return true;
  }
  return false;
}

/**
 * The rules of one log group, prepared for the per-line loop. The literals their patterns require are numbered
 * in a {@link LiteralTable} (./literal-table.ts): a line is first reduced to the bits of the literals it holds
 * (one scan; most lines hold none and are done), then each rule is a mask test, and a rule made of plain words
 * is decided by it. A payload's JSON text is scanned the same way before any event is parsed
 * ({@link RuleMatcher.rawScan}). Above `MAX_TRACKED_LITERALS` (./literal-table.ts) literals there is no table:
 * one scan says whether a line holds any include literal, and each rule then checks its own.
 */
export interface RuleMatcher {
  readonly rules: readonly CompiledRule[];
  /**
   * Every literal an include pattern requires, and those of the exclude patterns that can be searched in a
   * message's JSON text; undefined above `MAX_TRACKED_LITERALS` (./literal-table.ts).
   */
  readonly table: LiteralTable | undefined;
  /** The bits of the include patterns' literals: a line holding none matches no rule (unless {@link everyLine}). */
  readonly includeBits: number;
  /** Some include pattern has no literals: no line can be skipped by its literals. */
  readonly everyLine: boolean;
  /**
   * Per rule, the bits of all its include patterns' literals, or -1 when one of them has none in the table: a
   * line holding none of a rule's bits cannot match it, so the rule is skipped without a look at its patterns.
   */
  readonly ruleMasks: readonly number[];
  /**
   * Per rule, when all its patterns are plain words in the table (most rules): the bits of its excludes' words
   * (the rule matches a line holding one of its {@link ruleMasks} and none of these); else -1.
   */
  readonly wordExcludeMasks: readonly number[];
  /** Per rule, what its include (exclude) patterns need: their literals' bits, where they may run. */
  readonly includePlans: readonly PatternPlan[];
  readonly excludePlans: readonly PatternPlan[];
  /** Without a table: alternations of the include literals (undefined when none), the first check of a line. */
  readonly exactScan: RegExp | undefined;
  readonly foldedScan: RegExp | undefined;
  /**
   * The scan of a payload's JSON text (./raw-events.ts): undefined when some include pattern requires no
   * literal or one that JSON may escape.
   */
  readonly rawScan: RawLiteralScan | undefined;
  /** Reused for every line (no allocation per line). */
  readonly line: LineState;
}

/** Prepares {@link matchingRules} for `rules` (the rules of one log group). */
export function ruleMatcher(rules: readonly CompiledRule[]): RuleMatcher {
  const includeExact = new Set<string>();
  const includeFolded = new Set<string>();
  let everyLine = false;
  for (const rule of rules) {
    for (const pattern of rule.includePatterns) {
      if (pattern.required === undefined) everyLine = true;
      else
        for (const literal of pattern.required.anyOf)
          (pattern.required.foldCase ? includeFolded : includeExact).add(literal);
    }
  }
  // Exclude literals join the table, looked for late (only in lines with an include literal), when the payload
  // scan can find them too (or the scan would be lost).
  const lateExact = new Set<string>();
  const lateFolded = new Set<string>();
  for (const rule of rules) {
    for (const pattern of rule.excludePatterns) {
      const required = pattern.required;
      if (required === undefined || !required.anyOf.every(isRawSafeLiteral)) continue;
      for (const literal of required.anyOf) {
        if (!(required.foldCase ? includeFolded : includeExact).has(literal)) {
          (required.foldCase ? lateFolded : lateExact).add(literal);
        }
      }
    }
  }
  const lists = [[...includeExact], [...includeFolded], [...lateExact], [...lateFolded]] as const;
  const table = literalTable(...lists);
  const maskOf = (pattern: UserPattern): number => {
    const required = pattern.required;
    if (table === undefined || required === undefined) return -1;
    let mask = 0;
    for (const literal of required.anyOf) {
      const b = table.bitOf(literal, required.foldCase);
      if (b === undefined) return -1;
      mask |= b;
    }
    return mask;
  };
  const includeMasks = rules.map((rule) => rule.includePatterns.map(maskOf));
  const excludeMasks = rules.map((rule) => rule.excludePatterns.map(maskOf));
  const plan = (patterns: readonly UserPattern[], masks: readonly number[]): PatternPlan => ({
    masks,
    onJsonText: patterns.map((pattern) => !pattern.plain && testableOnJsonText(pattern.source)),
  });
  const wordsOnly = (patterns: readonly UserPattern[], masks: readonly number[]) =>
    patterns.every((pattern, i) => pattern.plain && masks[i] !== -1);
  const scan = (set: Set<string>, flags: string) =>
    set.size === 0 ? undefined : new RegExp([...set].map(escapeLiteral).join("|"), flags);
  const includeBits = includeMasks.flat().reduce((all, mask) => (mask === -1 ? all : all | mask), 0);
  const rawSafe = [...includeExact, ...includeFolded].every(isRawSafeLiteral);
  return {
    rules,
    table,
    includeBits,
    everyLine,
    ruleMasks: includeMasks.map((masks) => (masks.includes(-1) ? -1 : masks.reduce((all, mask) => all | mask, 0))),
    wordExcludeMasks: rules.map((rule, r) =>
      wordsOnly(rule.includePatterns, includeMasks[r]!) && wordsOnly(rule.excludePatterns, excludeMasks[r]!)
        ? excludeMasks[r]!.reduce((all, mask) => all | mask, 0)
        : -1,
    ),
    includePlans: rules.map((rule, r) => plan(rule.includePatterns, includeMasks[r]!)),
    excludePlans: rules.map((rule, r) => plan(rule.excludePatterns, excludeMasks[r]!)),
    exactScan: table === undefined ? scan(includeExact, "") : undefined,
    foldedScan: table === undefined ? scan(includeFolded, "i") : undefined,
    rawScan:
      everyLine || !rawSafe
        ? undefined
        : table !== undefined
          ? { groups: table.groups, lateGroups: table.lateGroups, tracked: true, includeBits }
          : { groups: literalGroups(lists[0], lists[1]), lateGroups: [], tracked: false, includeBits: 0 },
    line: { event: undefined, base: undefined, text: undefined, scanned: false, json: undefined },
  };
}

/**
 * The rules that match `message` (cut and stripped as {@link textToMatch} says), in order, appended to `out`
 * (cleared first). Equivalent to `rules.filter((rule) => ruleMatchesText(rule, textToMatch(message)))`, only
 * faster; the property test in __tests__/functions/logs/prefilter.test.ts checks that on generated rules and lines.
 */
export function matchingRules(matcher: RuleMatcher, message: string, out: CompiledRule[]): CompiledRule[] {
  out.length = 0;
  const line = matcher.line;
  const base = cut(message);
  resetLine(line, undefined, base, false);
  const table = matcher.table;
  if (table === undefined) {
    // Many literals: one scan says whether any include literal occurs; each rule then checks its own.
    if (!matcher.everyLine && !(matcher.exactScan?.test(base) === true || matcher.foldedScan?.test(base) === true)) {
      return out;
    }
    for (const rule of matcher.rules) if (ruleMatchesLine(rule, undefined, undefined, 0, line)) out.push(rule);
    return out;
  }
  const held = literalsIn(table.groups, base);
  if (!matcher.everyLine && (held & matcher.includeBits) === 0) return out;
  return rulesHolding(matcher, held | literalsIn(table.lateGroups, base), out);
}

/**
 * {@link matchingRules} for an event whose literals are known: `held`, the bits of the literals of
 * `matcher.table` that occur in its message's first {@link MAX_MATCH_CHARS} characters (from the payload scan,
 * ./raw-events.ts). The message is read only if a pattern that is not a plain word must run.
 */
export function matchingEventRules(
  matcher: RuleMatcher,
  event: ScannedEvent,
  held: number,
  out: CompiledRule[],
): CompiledRule[] {
  out.length = 0;
  resetLine(matcher.line, event, undefined, true);
  return rulesHolding(matcher, held, out);
}

/**
 * Lets go of the last line the matcher saw: the matcher outlives the payload, and that line may be a slice of
 * the payload's whole JSON text.
 */
export function releaseLine(matcher: RuleMatcher): void {
  resetLine(matcher.line, undefined, undefined, false);
}

/** Points the reused line at another message, the parts derived from the previous one dropped. */
function resetLine(line: LineState, event: LogEvent | undefined, base: string | undefined, scanned: boolean): void {
  line.event = event;
  line.base = base;
  line.text = undefined;
  line.scanned = scanned;
  line.json = undefined;
}

function rulesHolding(matcher: RuleMatcher, held: number, out: CompiledRule[]): CompiledRule[] {
  const { rules, ruleMasks, wordExcludeMasks, includePlans, excludePlans, line } = matcher;
  for (let r = 0; r < rules.length; r++) {
    const mask = ruleMasks[r]!;
    if (mask !== -1 && (mask & held) === 0) continue;
    const excluded = wordExcludeMasks[r]!;
    if (excluded !== -1) {
      if ((excluded & held) === 0) out.push(rules[r]!);
      continue;
    }
    if (ruleMatchesLine(rules[r]!, includePlans[r], excludePlans[r], held, line)) out.push(rules[r]!);
  }
  return out;
}

function ruleMatchesLine(
  rule: CompiledRule,
  includePlan: PatternPlan | undefined,
  excludePlan: PatternPlan | undefined,
  held: number,
  line: LineState,
): boolean {
  return (
    patternsMatch(rule.includePatterns, includePlan, held, line) &&
    !patternsMatch(rule.excludePatterns, excludePlan, held, line)
  );
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
 * The literal scan of the rules that apply to `logGroup`, for a payload's JSON text ({@link
 * RuleMatcher.rawScan}): what `decodeForRules` needs to skip the events no rule can match.
 */
export function rawLiteralSearches(rules: readonly CompiledRule[], logGroup: string): RawLiteralScan | undefined {
  return matcherFor(rules, rulesForLogGroup(rules, logGroup)).rawScan;
}
