/**
 * Log rules: the `log_rules` configuration (validated with zod, compiled once per container) and their
 * evaluation against a decoded payload.
 *
 * Evaluation is on the hot path (10,000 events per payload), so it does per payload what it can (the log group
 * globs: a payload has one log group), per event as little as it can (the prefilter: one scan of the message
 * for the literals that the applicable rules' include patterns require; most lines contain none and are done),
 * and per candidate the rest (the RE2 patterns of the rules whose literals occur, excludes, minute buckets,
 * normalizing a sample).
 *
 * Rules match the raw message (for Lambda's JSON log format, the whole JSON line) without its final line break,
 * only its first {@link MAX_MATCH_CHARS} characters, with RE2 semantics (functions/shared/user-regexp.ts).
 */
import * as z from "zod/mini";
import { LogRuleConfigError, type LogRuleIssue, UserRegExpError } from "../shared/errors.js";
import { CHECK_NAME } from "../shared/names.js";
import type { LogEvent, SubscriptionPayload } from "./decode.js";
import { addToMinute, type MinuteCounts } from "./minutes.js";
import { logEventContext, normalizeLogEvent, type LogEventContext, type NormalizedLogEvent } from "./normalize.js";
import { createRedactor, type Redactor } from "../shared/redact.js";
import { compileUserPattern, MAX_MATCH_CHARS, type UserPattern } from "../shared/user-regexp.js";

/** Statuses a log rule can report (OK is reported by the recovery tick). */
export const RULE_STATUSES = ["WARNING", "CRITICAL"] as const;
export type RuleStatus = (typeof RULE_STATUSES)[number];

/** Defaults of the optional rule fields. */
export const RULE_DEFAULTS = {
  status: "CRITICAL",
  recoverAfterMinutes: 10,
  maxSamples: 5,
} as const satisfies { status: RuleStatus; recoverAfterMinutes: number; maxSamples: number };

/** Most samples a rule may ask for: more would not fit Mackerel's 1024-character message anyway. */
export const MAX_SAMPLES_LIMIT = 20;

/** CloudWatch Logs' own limit on log group names. */
const LOG_GROUP_NAME_MAX = 512;
/** Log group name characters (CloudWatch Logs' rule) plus the glob wildcards. */
const LOG_GROUP_GLOB = /^[A-Za-z0-9._/#*?-]+$/;

const patterns = (what: string) =>
  z.array(z.string({ error: "must be a string" }), { error: `must be a list of ${what}` });

/** A whole number with a rule-specific message for "not a number" and for "not whole". */
const wholeNumber = (notNumber: string, notWhole: string) => z.number({ error: notNumber }).check(z.int(notWhole));

// Optional fields are `nullish`: Terraform encodes an unset optional object attribute as null.
const ruleSchema = z.strictObject(
  {
    name: z
      .string({ error: "is required (a string)" })
      .check(
        z.regex(
          CHECK_NAME,
          "must be 1–64 characters of a-zA-Z0-9_- (it names the check and the metric logs.<name>.count)",
        ),
      ),
    log_groups: z.nullish(
      z
        .array(
          z
            .string({ error: "must be a string" })
            .check(
              z.maxLength(LOG_GROUP_NAME_MAX, `must be at most ${LOG_GROUP_NAME_MAX} characters`),
              z.regex(
                LOG_GROUP_GLOB,
                "must be a log group name glob: letters, digits, . _ / # - and the wildcards * and ?",
              ),
            ),
          { error: "must be a list of log group name globs" },
        )
        .check(z.minLength(1, "must list at least one glob (omit it to match every log group)")),
    ),
    include: patterns("regular expressions").check(z.minLength(1, "must list at least one regular expression")),
    exclude: z.nullish(patterns("regular expressions")),
    status: z.nullish(z.enum(RULE_STATUSES, { error: "must be WARNING or CRITICAL" })),
    recover_after_minutes: z.nullish(
      wholeNumber("must be a number of minutes", "must be whole minutes").check(z.gte(1, "must be at least 1")),
    ),
    max_samples: z.nullish(
      wholeNumber("must be a number", "must be an integer").check(
        z.gte(1, "must be at least 1"),
        z.lte(MAX_SAMPLES_LIMIT, `must be at most ${MAX_SAMPLES_LIMIT}`),
      ),
    ),
    notification_interval: z.nullish(
      wholeNumber("must be a number of minutes", "must be whole minutes").check(
        z.gte(10, "must be at least 10 minutes (Mackerel's minimum)"),
      ),
    ),
    redact: z.nullish(patterns("regular expressions")),
  },
  { error: (issue) => (issue.code === "invalid_type" ? "must be an object" : undefined) },
);

const rulesSchema = z.array(ruleSchema, { error: "must be a list of rules" });

type RuleConfig = z.infer<typeof ruleSchema>;

/** A validated rule with its patterns compiled. Immutable; compile once per container. */
export interface CompiledRule {
  readonly name: string;
  readonly status: RuleStatus;
  readonly recoverAfterMinutes: number;
  readonly maxSamples: number;
  readonly notificationInterval: number | undefined;
  /** The globs as configured; undefined for every log group. */
  readonly logGroups: readonly string[] | undefined;
  /** Pattern sources as configured. */
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** Whether the rule applies to a log group (its globs). */
  readonly appliesTo: (logGroup: string) => boolean;
  /** The compiled include and exclude patterns (RE2), each with its prefilter literals. */
  readonly includePatterns: readonly UserPattern[];
  readonly excludePatterns: readonly UserPattern[];
  /** Built-in redaction plus the rule's `redact` patterns, for its samples. */
  readonly redact: Redactor;
}

/** What one rule matched in one payload (or, merged by the caller, in several). */
export interface RuleMatch {
  count: number;
  /** The first matches, normalized, at most the rule's `max_samples`; not redacted yet. */
  firstSamples: NormalizedLogEvent[];
  /** Matches per epoch minute (seconds), by the events' own timestamps. */
  minuteCounts: MinuteCounts;
  logGroups: Set<string>;
  /** Epoch milliseconds of the latest matching event. */
  lastMatchAt: number;
}

/**
 * Validates and compiles the `log_rules` configuration.
 *
 * @param raw - the parsed list, or its JSON text (as an environment variable holds it).
 * @throws {@link LogRuleConfigError} listing every problem with the rule index and name, the field and the rule
 *   broken; regexes are checked too (RE2 syntax, as Terraform's `regex()` checks them at plan).
 */
export function compileRules(raw: unknown): CompiledRule[] {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new LogRuleConfigError([{ field: "", problem: `is not valid JSON: ${(error as Error).message}` }]);
    }
  }
  const parsed = rulesSchema.safeParse(value);
  if (!parsed.success) throw new LogRuleConfigError(parsed.error.issues.map((i) => zodIssue(i, value)));

  const issues: LogRuleIssue[] = [];
  const seen = new Map<string, number>();
  const rules: CompiledRule[] = [];
  parsed.data.forEach((config, index) => {
    const report = (field: string, problem: string) => issues.push({ index, rule: config.name, field, problem });
    const first = seen.get(config.name);
    if (first !== undefined) report("name", `duplicates the name of log_rules[${first}]`);
    else seen.set(config.name, index);
    const rule = compileRule(config, report);
    if (rule) rules.push(rule);
  });
  if (issues.length > 0) throw new LogRuleConfigError(issues);
  return rules;
}

function compileRule(config: RuleConfig, report: (field: string, problem: string) => void): CompiledRule | undefined {
  let ok = true;
  const compile = (field: string, sources: readonly string[]): UserPattern[] =>
    sources.flatMap((source, j) => {
      try {
        return [compileUserPattern(source)];
      } catch (error) {
        if (!(error instanceof UserRegExpError)) throw error;
        ok = false;
        report(`${field}[${j}]`, error.message);
        return [];
      }
    });
  const include = compile("include", config.include);
  const exclude = compile("exclude", config.exclude ?? []);
  // Checked here so that a broken redact pattern is reported with its field; the redactor compiles its own.
  compile("redact", config.redact ?? []);
  if (!ok) return undefined;
  const logGroups = config.log_groups ?? undefined;
  return {
    name: config.name,
    status: config.status ?? RULE_DEFAULTS.status,
    recoverAfterMinutes: config.recover_after_minutes ?? RULE_DEFAULTS.recoverAfterMinutes,
    maxSamples: config.max_samples ?? RULE_DEFAULTS.maxSamples,
    notificationInterval: config.notification_interval ?? undefined,
    logGroups,
    include: config.include,
    exclude: config.exclude ?? [],
    appliesTo: logGroupMatcher(logGroups),
    includePatterns: include,
    excludePatterns: exclude,
    redact: createRedactor(config.redact ?? []),
  };
}

function zodIssue(issue: z.core.$ZodIssue, value: unknown): LogRuleIssue {
  const [index, ...rest] = issue.path;
  if (typeof index !== "number") return { field: "", problem: issue.message };
  const name = (Array.isArray(value) ? (value[index] as { name?: unknown } | undefined) : undefined)?.name;
  const rule = typeof name === "string" ? name : undefined;
  const field = rest.reduce<string>(
    (path, key) => (typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${String(key)}` : String(key)),
    "",
  );
  if (issue.code === "unrecognized_keys") {
    const known = Object.keys(ruleSchema.shape).join(", ");
    return { index, rule, field: issue.keys.join(", "), problem: `is not a known field (known: ${known})` };
  }
  return { index, rule, field, problem: issue.message };
}

/** A matcher for `globs` (`*`: any characters, `/` included; `?`: one character); all log groups when undefined. */
function logGroupMatcher(globs: readonly string[] | undefined): (logGroup: string) => boolean {
  if (globs === undefined) return () => true;
  const exact = new Set(globs.filter((g) => !/[*?]/.test(g)));
  const wild = globs.filter((g) => /[*?]/.test(g));
  return (logGroup) => exact.has(logGroup) || wild.some((glob) => globMatch(glob, logGroup));
}

/**
 * Glob match without regexes: the classic two-pointer walk that backtracks only to the last `*`, so it is
 * O(glob × name) at worst and cannot blow up.
 *
 * @internal exported for tests.
 */
export function globMatch(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let starAt = -1;
  let starText = 0;
  while (t < text.length) {
    const c = glob[g];
    if (c === "*") {
      starAt = g++;
      starText = t;
    } else if (c !== undefined && (c === "?" || c === text[t])) {
      g++;
      t++;
    } else if (starAt !== -1) {
      g = starAt + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (glob[g] === "*") g++;
  return g === glob.length;
}

/** The rules whose `log_groups` globs match `logGroup`, in configuration order. */
export function rulesForLogGroup(rules: readonly CompiledRule[], logGroup: string): CompiledRule[] {
  return rules.filter((rule) => rule.appliesTo(logGroup));
}

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
    manyLiterals: exact.size + folded.size > SCAN_THRESHOLD,
    includeLiterals,
    line: { base: "", text: undefined },
    literalHits: new Uint8Array(exactList.length + foldedList.length),
  };
}

/** Fills `matcher.literalHits` for the line (the includes loop); returns whether any literal occurs. */
function recordLiterals(matcher: RuleMatcher, line: LineState): boolean {
  const hits = matcher.literalHits;
  let any = false;
  const exact = matcher.exact;
  const base = line.base;
  for (let i = 0; i < exact.length; i++) {
    if (base.includes(exact[i]!)) {
      hits[i] = 1;
      any = true;
    } else hits[i] = 0;
  }
  const folded = matcher.foldedSearches;
  for (let i = 0; i < folded.length; i++) {
    if (folded[i]!.test(base)) {
      hits[exact.length + i] = 1;
      any = true;
    } else hits[exact.length + i] = 0;
  }
  return any;
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
 * faster; the property test in __tests__/logs/prefilter.test.ts checks that on generated rules and lines.
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
  if (!matcher.everyLine && !holdsLiteral(matcher, line)) return out;
  if (!recordLiterals(matcher, line) && !matcher.everyLine) return out;
  const literalHits = matcher.literalHits;
  for (let r = 0; r < rules.length; r++) {
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

function matcherFor(rules: readonly CompiledRule[], applicable: readonly CompiledRule[]): RuleMatcher {
  let byKey = matcherCache.get(rules);
  if (!byKey) matcherCache.set(rules, (byKey = new Map()));
  const key = applicable.map((r) => r.name).join("\n");
  let matcher = byKey.get(key);
  if (matcher === undefined) byKey.set(key, (matcher = ruleMatcher(applicable)));
  return matcher;
}

/** The payload fields evaluation reads. */
export type EvaluatedPayload = Pick<SubscriptionPayload, "logGroup" | "logStream" | "logEvents">;

/**
 * Evaluates every rule on a payload.
 *
 * @returns a match per rule that matched at least one event, keyed by rule name (rules that did not match are
 *   absent). Samples are normalized but not redacted (redaction happens when the report is built).
 */
export function evaluate(rules: readonly CompiledRule[], payload: EvaluatedPayload): Map<string, RuleMatch> {
  const matches = new Map<string, RuleMatch>();
  const applicable = rulesForLogGroup(rules, payload.logGroup);
  if (applicable.length === 0 || payload.logEvents.length === 0) return matches;

  const matcher = matcherFor(rules, applicable);
  const context = logEventContext(payload);
  const normalized = new Map<LogEvent, NormalizedLogEvent>();
  const events = payload.logEvents;
  const matched: CompiledRule[] = [];
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    matchingRules(matcher, event.message, matched);
    for (let r = 0; r < matched.length; r++) record(matches, matched[r]!, event, context, normalized);
  }
  return matches;
}

function record(
  matches: Map<string, RuleMatch>,
  rule: CompiledRule,
  event: LogEvent,
  context: LogEventContext,
  normalized: Map<LogEvent, NormalizedLogEvent>,
): void {
  let match = matches.get(rule.name);
  if (!match) {
    match = {
      count: 0,
      firstSamples: [],
      minuteCounts: new Map(),
      logGroups: new Set([context.logGroup]),
      lastMatchAt: event.timestamp,
    };
    matches.set(rule.name, match);
  }
  match.count++;
  addToMinute(match.minuteCounts, event.timestamp);
  if (event.timestamp > match.lastMatchAt) match.lastMatchAt = event.timestamp;
  if (match.firstSamples.length < rule.maxSamples) {
    let sample = normalized.get(event);
    if (!sample) normalized.set(event, (sample = normalizeLogEvent(context, event)));
    match.firstSamples.push(sample);
  }
}
