/**
 * User-supplied regular expressions (log rule `include`/`exclude`/`redact`) run on untrusted log lines, so a
 * pattern such as `(a+)+$` must not be able to stall the function with catastrophic backtracking.
 *
 * Defence in depth:
 * 1. V8's linear-time engine as a fallback: with `--enable-experimental-regexp-engine-on-excessive-backtracks`
 *    a backtracking match that exceeds `--regexp-backtracks-before-fallback` backtracks is re-run on the
 *    linear-time (automaton) engine, so the worst case is linear in the input.
 * 2. Patterns the linear engine cannot run (backreferences, lookahead, large counted repetitions such as
 *    `\d{1,30}`, the `i` and `u` flags) would get no fallback, so they are refused at compile time. V8 itself
 *    decides that: a pattern compiles with the `l` (linear) flag only if the linear engine can run it.
 * 3. Only a bounded prefix of each log line is matched ({@link MAX_MATCH_CHARS}).
 *
 * Case-insensitive matching cannot use the `i` flag (the linear engine does not support it), so a pattern that
 * starts with RE2's `(?i)` (the syntax Terraform's `regex()` validates) is rewritten to match both ASCII cases
 * explicitly (`error` → `[eE][rR][rR][oO][rR]`). And `$` also matches before a final line break (see
 * {@link rewritePattern}).
 */
import { setFlagsFromString } from "node:v8";

/**
 * Backtracks a match may take before V8 re-runs it on the linear engine. This is V8's own default, set
 * explicitly so the behaviour does not depend on the default of a future V8.
 */
export const BACKTRACKS_BEFORE_FALLBACK = 50_000;

/**
 * Rules see at most this many UTF-16 code units of each log message (16 KiB of ASCII): it bounds the work per
 * line even on the linear engine, and what matters in a log line is at its start. Lambda lines are at most
 * 256 KiB, so a keyword only in the tail of a huge line is not seen.
 */
export const MAX_MATCH_CHARS = 16 * 1024;

/** Longest user pattern accepted: longer ones are almost certainly generated or pasted by mistake. */
export const MAX_PATTERN_LENGTH = 1000;

/** What the regular expression engine of this process provides, after {@link enableLinearRegExpFallback}. */
export interface RegExpEngineSupport {
  /** The linear-time fallback and the `l` flag (used to check patterns) are available. */
  readonly linear: boolean;
}

/** Why a user pattern was refused. */
export type RegExpProblem = "empty" | "too-long" | "syntax" | "not-linear";

/** A user pattern that cannot be used; `message` states the rule broken, for the caller to prefix with the field. */
export class UserRegExpError extends Error {
  override readonly name = "UserRegExpError";
  constructor(
    message: string,
    readonly problem: RegExpProblem,
    readonly pattern: string,
  ) {
    super(message);
  }
}

let support: RegExpEngineSupport | undefined;

/**
 * Turns on V8's linear-time fallback for excessive backtracking (process-wide) and the `l` flag used to check
 * patterns. Idempotent; every compile function here calls it first, so no user pattern can run without the
 * fallback. (V8 reads the fallback flags when a match runs, so expressions created earlier are covered too.)
 *
 * Note: `setFlagsFromString` after start-up is officially "use with care"; these flags only affect regular
 * expressions, and the tests prove they take effect on the pinned Node.js 22.
 */
export function enableLinearRegExpFallback(): RegExpEngineSupport {
  if (support) return support;
  setFlagsFromString("--enable-experimental-regexp-engine-on-excessive-backtracks");
  setFlagsFromString(`--regexp-backtracks-before-fallback=${BACKTRACKS_BEFORE_FALLBACK}`);
  // Only makes the `l` flag legal, which is how we ask V8 whether the linear engine can run a pattern.
  setFlagsFromString("--enable-experimental-regexp-engine");
  // A V8 without the experimental engine refuses the flag: compileUserRegExp then falls back to a syntactic check.
  const linear = compilesLinear("a");
  support = { linear };
  return support;
}

/** Backreferences and lookahead: what the linear engine refuses, for a V8 that cannot tell us itself. */
const NON_LINEAR_SYNTAX = /\\[1-9]|\\k<|\(\?[=!]/;

const LINEAR_RULE =
  "must be runnable in linear time: no backreferences (\\1, \\k<name>), no lookahead ((?=, (?!), " +
  "no counted repetition above a small bound (such as {1,30}); use + or * instead";

/**
 * Compiles a user pattern safely: refuses what the linear-time engine cannot run, supports a leading `(?i)` for
 * ASCII case-insensitive matching, and returns a RegExp that falls back to linear time on excessive
 * backtracking.
 *
 * @param source - the pattern as the user wrote it (JavaScript syntax, no flags; RE2's common subset works).
 * @param flags - extra flags for the compiled expression: `g` for replacing; never `i`/`u`, which the linear
 *   engine cannot run.
 * @throws {@link UserRegExpError} naming the rule broken.
 */
export function compileUserRegExp(source: string, flags: "" | "g" = ""): RegExp {
  const { linear } = enableLinearRegExpFallback();
  if (source.length === 0) throw new UserRegExpError("must not be empty (it would match every line)", "empty", source);
  if (source.length > MAX_PATTERN_LENGTH) {
    throw new UserRegExpError(`must be at most ${MAX_PATTERN_LENGTH} characters`, "too-long", source);
  }
  const body = toLinearSource(source);
  try {
    new RegExp(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^Invalid regular expression: \/.*\/\w*: /s, "") : "";
    const hint = /\(\?[a-zA-Z]/.test(body) ? " (only a leading (?i) is supported of RE2's inline flags)" : "";
    throw new UserRegExpError(`is not a valid regular expression: ${reason}${hint}`, "syntax", source);
  }
  if (linear ? !compilesLinear(body) : NON_LINEAR_SYNTAX.test(body)) {
    throw new UserRegExpError(LINEAR_RULE, "not-linear", source);
  }
  return new RegExp(body, flags);
}

/**
 * One expression that matches when any of `regexps` matches (`(?:a)|(?:b)`), so a line costs one scan instead
 * of one per pattern. Returns undefined when the combination is not safe to run: it does not compile (e.g.
 * duplicate group names) or the linear engine could not run it (its size budget is per expression).
 */
export function combineAlternatives(regexps: readonly RegExp[]): RegExp | undefined {
  if (regexps.length === 0) return undefined;
  if (regexps.length === 1) return regexps[0];
  const { linear } = enableLinearRegExpFallback();
  const source = regexps.map((re) => `(?:${re.source})`).join("|");
  try {
    if (linear && !compilesLinear(source)) return undefined;
    return new RegExp(source);
  } catch {
    return undefined;
  }
}

/** Whether V8's linear-time engine can run `source` (the `l` flag is legal once the engine is enabled). */
function compilesLinear(source: string): boolean {
  try {
    // eslint-disable-next-line no-invalid-regexp -- V8's `l` (linear) flag, enabled at run time above.
    new RegExp(source, "l");
    return true;
  } catch {
    return false;
  }
}

/** The pattern as compiled: see {@link rewritePattern}. */
function toLinearSource(source: string): string {
  const foldCase = source.startsWith("(?i)");
  return rewritePattern(foldCase ? source.slice(4) : source, foldCase);
}

const isAsciiLetter = (code: number): boolean => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
const otherCase = (ch: string): string => (ch >= "a" ? ch.toUpperCase() : ch.toLowerCase());

/** What `$` becomes: the end of the text, or just before one final line break. */
const LINE_END = String.raw`(?:\r?\n)?$`;

/**
 * Rewrites a user pattern for matching log messages with the linear-time engine:
 *
 * - `$` (outside character classes) also matches before one final line break, as Lambda's text format ends
 *   every message with `\n` and `timed out$` should still match. Rewriting the pattern costs nothing per
 *   event, unlike stripping the newline from every message.
 * - With `foldCase` (a leading `(?i)`), ASCII letters match in either case without the `i` flag (which the
 *   linear engine cannot run): a letter (also written `\x41`/`\u0041`) becomes `[aA]`, and character classes
 *   gain the other case of their letters and letter ranges. Non-ASCII letters are not folded.
 *
 * Class escapes (`\d`, `\w`), other escapes and group syntax (`(?<name>`) are copied unchanged.
 *
 * @internal exported for tests.
 */
export function rewritePattern(source: string, foldCase: boolean): string {
  const fold = (code: number | undefined): string =>
    foldCase && code !== undefined && isAsciiLetter(code) ? otherCase(String.fromCharCode(code)) : "";
  let out = "";
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === "[") {
      const end = rewriteClass(source, i, foldCase);
      out += end.text;
      i = end.next;
    } else if (ch === "(" && source[i + 1] === "?") {
      const length = groupPrefixLength(source, i);
      out += source.slice(i, i + length);
      i += length;
    } else if (ch === "$") {
      out += LINE_END;
      i++;
    } else {
      const atom = readAtom(source, i);
      const other = fold(atom.code);
      out += other ? `[${atom.text}${other}]` : atom.text;
      i += atom.text.length;
    }
  }
  return out;
}

/** Rewrites the character class that starts at `start` (a `[`); returns it and the index after its `]`. */
function rewriteClass(source: string, start: number, foldCase: boolean): { text: string; next: number } {
  const atoms: string[] = [];
  let extra = "";
  const fold = (code: number | undefined): void => {
    if (foldCase && code !== undefined && isAsciiLetter(code)) extra += otherCase(String.fromCharCode(code));
  };
  let i = start + 1;
  const negated = source[i] === "^";
  if (negated) i++;
  while (i < source.length && source[i] !== "]") {
    const lo = readAtom(source, i);
    i += lo.text.length;
    if (source[i] === "-" && i + 1 < source.length && source[i + 1] !== "]") {
      const hi = readAtom(source, i + 1);
      i += 1 + hi.text.length;
      atoms.push(`${lo.text}-${hi.text}`);
      if (lo.code !== undefined && hi.code !== undefined) {
        if (foldCase) extra += foldRange(lo.code, hi.code);
      } else {
        // `[\d-z]` is not a range: a class escape, a dash and a letter.
        fold(lo.code);
        fold(hi.code);
      }
      continue;
    }
    atoms.push(lo.text);
    fold(lo.code);
  }
  // The added letters go last; a literal `-` before them would turn into a range, so escape it.
  if (extra !== "" && atoms[atoms.length - 1] === "-") atoms[atoms.length - 1] = "\\-";
  const closed = i < source.length; // an unclosed class is left for the RegExp constructor to refuse
  return { text: `[${negated ? "^" : ""}${atoms.join("")}${extra}${closed ? "]" : ""}`, next: i + 1 };
}

const HEX_DIGITS = /^[0-9a-fA-F]+$/;
const CONTROL_ESCAPES: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, v: 11, "0": 0 };

/** One character or escape at `i` (non-unicode mode), with the character it stands for when it is one. */
function readAtom(source: string, i: number): { text: string; code: number | undefined } {
  const ch = source[i]!;
  if (ch !== "\\") return { text: ch, code: ch.charCodeAt(0) };
  const kind = source[i + 1];
  if (kind === undefined) return { text: ch, code: undefined };
  const hexAt = (from: number, count: number): boolean =>
    from + count <= source.length && HEX_DIGITS.test(source.slice(from, from + count));
  if (kind === "c" && isAsciiLetter(source.charCodeAt(i + 2))) {
    return { text: source.slice(i, i + 3), code: source.charCodeAt(i + 2) % 32 };
  }
  if (kind === "x" && hexAt(i + 2, 2))
    return { text: source.slice(i, i + 4), code: parseInt(source.slice(i + 2, i + 4), 16) };
  if (kind === "u" && hexAt(i + 2, 4))
    return { text: source.slice(i, i + 6), code: parseInt(source.slice(i + 2, i + 6), 16) };
  if (kind === "k" && source[i + 2] === "<") {
    const end = source.indexOf(">", i + 3);
    if (end !== -1) return { text: source.slice(i, end + 1), code: undefined };
  }
  const text = source.slice(i, i + 2);
  const code = kind.charCodeAt(0);
  // Letters and digits after a backslash are class escapes, assertions or backreferences (or the control
  // escapes above); anything else is the punctuation character itself.
  if (kind in CONTROL_ESCAPES) return { text, code: CONTROL_ESCAPES[kind] };
  return { text, code: isAsciiLetter(code) || (code >= 48 && code <= 57) ? undefined : code };
}

/** Length of `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!` or `(?<name>` at `i`. */
function groupPrefixLength(source: string, i: number): number {
  if (source[i + 2] === "<" && source[i + 3] !== "=" && source[i + 3] !== "!") {
    const end = source.indexOf(">", i + 3);
    if (end !== -1) return end - i + 1;
  }
  if (source[i + 2] === "<") return 4;
  return 3;
}

/** The other-case counterpart of the letters inside the range `lo`–`hi`, as class ranges. */
function foldRange(lo: number, hi: number): string {
  let extra = "";
  const overlap = (from: number, to: number, shift: number): void => {
    const start = Math.max(lo, from);
    const end = Math.min(hi, to);
    if (start <= end) extra += `${String.fromCharCode(start + shift)}-${String.fromCharCode(end + shift)}`;
  };
  overlap(65, 90, 32); // A-Z → a-z
  overlap(97, 122, -32); // a-z → A-Z
  return extra;
}
