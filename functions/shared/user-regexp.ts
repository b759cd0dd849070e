/**
 * User-supplied regular expressions (log rule `include`/`exclude`/`redact`, the HTTP check's `body_regex`) run
 * on untrusted input, so no pattern may be able to stall a function, and what `terraform plan` accepted must be
 * exactly what runs.
 *
 * Both follow from one choice: patterns run on re2js, a JavaScript port of RE2. Terraform validates patterns
 * with Go's `regexp` (RE2 syntax), and re2js implements the same syntax and semantics (the same parser, the
 * same error messages), so there is one dialect from plan to run: `(?i)`, `(?s)` anywhere, `\pL`,
 * `[[:alpha:]]`, `\Q…\E`, counted repetition up to 1000, and no backreferences or lookaround. RE2 matches in
 * time linear in the input (an automaton, no backtracking), whatever the pattern.
 *
 * The benchmark (`npm run bench:regex`, numbers in the README) compared it with V8's backtracking engine,
 * V8's linear (`l`) engine and re2-wasm; re2js was the only one both linear and fast on every workload.
 *
 * On top of the engine, {@link requiredLiterals} finds strings a pattern cannot match without (the prefilter
 * idea of RE2 and ripgrep), so the log rules skip most lines with `includes` before any regex runs.
 *
 * Limits kept from before: patterns of at most {@link MAX_PATTERN_LENGTH} characters, and log rules see at most
 * {@link MAX_MATCH_CHARS} characters of a line.
 */
import { RE2JS, RE2JSException } from "re2js";
import { UserRegExpError } from "./errors.js";

/**
 * Rules see at most this many UTF-16 code units of each log message (16 KiB of ASCII): it bounds the work per
 * line, and what matters in a log line is at its start. Lambda lines are at most 256 KiB, so a keyword only in
 * the tail of a huge line is not seen.
 */
export const MAX_MATCH_CHARS = 16 * 1024;

/** Longest user pattern accepted: longer ones are almost certainly generated or pasted by mistake. */
export const MAX_PATTERN_LENGTH = 1000;

/**
 * What a pattern requires of a text it matches: one of `anyOf` occurs in it (exactly, or ignoring ASCII case
 * when `foldCase`). A text without any of them cannot match, so the regex need not run.
 */
export interface RequiredLiterals {
  readonly anyOf: readonly string[];
  /** The literals are lower case and compared ignoring ASCII case (the pattern starts with `(?i)`). */
  readonly foldCase: boolean;
}

/** A compiled user pattern (RE2 syntax and semantics, linear time). Immutable; compile once per container. */
export interface UserPattern {
  /** The pattern as the user wrote it. */
  readonly source: string;
  /** The prefilter's literals; undefined when the pattern requires no literal that is known. */
  readonly required: RequiredLiterals | undefined;
  /**
   * The pattern has no metacharacter and no line break: it matches exactly where its source occurs, so
   * {@link UserPattern.test} is `includes` (its one required literal is the source itself).
   */
  readonly plain: boolean;
  /** Whether the pattern matches somewhere in `text` (RE2 search; `^`/`$` are the text's ends unless `(?m)`). */
  test(text: string): boolean;
  /** `text` with every match replaced by `replacement`, taken literally (no `$1`). */
  replaceAll(text: string, replacement: string): string;
  /** So that `text.replace(pattern, replacement)` works as for a global RegExp. */
  [Symbol.replace](text: string, replacement: string): string;
}

/**
 * Compiles a user pattern with RE2 syntax and semantics (what Terraform's `regex()` validated).
 *
 * @param source - the pattern as the user wrote it; inline flags such as `(?i)` are RE2's.
 * @throws {@link UserRegExpError} naming the rule broken: empty, too long, or not valid RE2 syntax (with RE2's
 *   reason, e.g. "invalid or unsupported Perl syntax: `(?=`" for lookahead).
 */
export function compileUserPattern(source: string): UserPattern {
  if (source.length === 0) throw new UserRegExpError("must not be empty (it would match every line)", "empty", source);
  if (source.length > MAX_PATTERN_LENGTH) {
    throw new UserRegExpError(`must be at most ${MAX_PATTERN_LENGTH} characters`, "too-long", source);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    const reason = error.message.replace(/^error parsing regexp: /, "");
    throw new UserRegExpError(
      `is not a valid RE2 regular expression: ${reason} (RE2 has no backreferences or lookaround)`,
      "syntax",
      source,
    );
  }
  const required = requiredLiterals(source);
  const replaceAll = (text: string, replacement: string): string => re.matcher(text).replaceAll(() => replacement);
  // A pattern without metacharacters (`ERROR`, `Task timed out`) matches exactly where the string occurs:
  // `includes` answers that without entering the engine.
  const plain = PLAIN_LITERAL.test(source);
  return {
    source,
    required,
    plain,
    test: plain ? (text) => text.includes(source) : (leadingLiteralTest(source, re) ?? ((text) => re.test(text))),
    replaceAll,
    [Symbol.replace]: replaceAll,
  };
}

/**
 * Whether `text` passes the prefilter of `required`: contains one of its literals. Always true without literals.
 * A `false` proves the pattern does not match (the property test checks that on generated patterns).
 */
export function passesPrefilter(required: RequiredLiterals | undefined, text: string): boolean {
  if (required === undefined) return true;
  // toLowerCase also maps some non-ASCII letters to ASCII (KELVIN SIGN → k): that only adds candidates, never
  // loses one, as ASCII letters always lower to themselves and the literals exclude k and s (see below).
  const candidate = required.foldCase ? text.toLowerCase() : text;
  for (const literal of required.anyOf) if (candidate.includes(literal)) return true;
  return false;
}

/** Occurrences of a leading literal tried one by one before a whole-text search (which bounds the work). */
const LEADING_LITERAL_TRIES = 4;

/**
 * For a pattern that starts with a literal (`duration=\d+ms`, `status=5[0-9]{2}`) and has no top-level
 * alternative, every match starts at an occurrence of that literal: try the pattern anchored there, on the
 * rest of the text only, instead of searching the whole text (re2js's cost is per character scanned).
 * After {@link LEADING_LITERAL_TRIES} occurrences it searches the whole text once: linear either way.
 *
 * Sound because the slice starts at a code point boundary (the literal's first code point) and nothing in
 * the pattern looks before the literal (`\A` anchors the try, whatever `(?m)` says).
 */
function leadingLiteralTest(source: string, re: RE2JS): ((text: string) => boolean) | undefined {
  const flags = /^\(\?([imsU]+)\)/.exec(source);
  const prefix = flags ? flags[0] : "";
  if (flags?.[1]!.includes("i")) return undefined;
  const body = source.slice(prefix.length);
  const literal = leadingRun(body);
  // One top-level alternative only (an alternative without literals also gives undefined).
  if (literal === "" || scanAlternatives(body, false)?.length !== 1) return undefined;
  // Compiled on first use: most rules never meet a line with their literal, and compiling costs cold start.
  let anchored: RE2JS | undefined;
  return (text) => {
    let at = text.indexOf(literal);
    for (let tries = 0; at >= 0; tries++) {
      if (tries === LEADING_LITERAL_TRIES) return re.test(text);
      anchored ??= RE2JS.compile(`${prefix}\\A(?:${body})`);
      if (anchored.test(at === 0 ? text : text.slice(at))) return true;
      at = text.indexOf(literal, at + 1);
    }
    return false;
  };
}

/** The literal characters `body` starts with, up to the first other atom (an optional last one excluded). */
function leadingRun(body: string): string {
  let run = "";
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    let ch: string;
    let width: number;
    if (c === "\\") {
      const kind = body[i + 1];
      if (kind === undefined || /[0-9A-Za-z]/.test(kind)) break;
      const cp = body.codePointAt(i + 1)!;
      ch = String.fromCodePoint(cp);
      width = 1 + ch.length;
    } else if ("|()[].^$*+?{".includes(c)) {
      break;
    } else {
      const cp = body.codePointAt(i)!;
      ch = String.fromCodePoint(cp);
      width = ch.length;
    }
    const next = body[i + width];
    // A quantified character: optional (`?`, `*`, `{0,…}`) ends the run before it; `+`/`{n≥1}` after it.
    if (next === "?" || next === "*") break;
    if (next === "{" && REPEAT.test(body.slice(i + width, i + width + 12))) {
      if (Number(REPEAT.exec(body.slice(i + width))![1]) > 0) run += ch;
      break;
    }
    run += ch;
    if (next === "+") break;
    i += width;
  }
  return run;
}

// ----- required literals -----

/**
 * The strings a text must contain (one of them) for `source` to match, read off the pattern's syntax:
 * per top-level alternative, the longest run of literal characters outside groups, classes and escapes (a
 * character under `?`, `*` or `{0,…}` is optional and ends the run; under `+` or `{n,…}` it is required once).
 * Leading and trailing `.*` add nothing and take nothing away. Anything not understood gives no literals
 * (the regex always runs): the prefilter can cost selectivity, never a match.
 *
 * With a leading `(?i)` the literals are lower-cased ASCII; `k`, `s` and non-ASCII letters end a run there,
 * because RE2 folds them with non-ASCII characters (K and KELVIN SIGN, s and LONG S) that a plain
 * comparison would miss.
 *
 * @returns undefined when some alternative requires no literal (or the pattern uses syntax not handled).
 */
export function requiredLiterals(source: string): RequiredLiterals | undefined {
  let body = source;
  let foldCase = false;
  const flags = /^\(\?([imsU]+)\)/.exec(source);
  if (flags) {
    body = source.slice(flags[0].length);
    foldCase = flags[1]!.includes("i");
  }
  const anyOf = scanAlternatives(body, foldCase);
  if (anyOf === undefined || anyOf.length === 0) return undefined;
  return { anyOf: [...new Set(anyOf)], foldCase };
}

/** No RE2 metacharacter (nor a line break, which the text rules see may lack): the pattern is its own literal. */
const PLAIN_LITERAL = /^[^\\^$.|?*+()[\]{}\r\n]+$/;

const REPEAT = /^\{(\d+)(?:,(\d*))?\}/;
const POSIX_CLASS = /^\[:\^?[a-z]+:\]/;

/** One required literal per top-level alternative of `body`, or undefined if one has none. */
function scanAlternatives(body: string, foldCase: boolean): string[] | undefined {
  const literals: string[] = [];
  let current = "";
  let best = "";
  /** UTF-16 length of the last character of `current` when the last atom was a literal character; else 0. */
  let lastChar = 0;
  const endRun = () => {
    if (current.length > best.length) best = current;
    current = "";
    lastChar = 0;
  };
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === "|") {
      endRun();
      if (best === "") return undefined;
      literals.push(best);
      best = "";
      i++;
    } else if (c === "(") {
      // A flag group without a body (`(?i)` later in the pattern, `(?-s)`) changes how the rest reads: give up.
      if (/^\(\?[-imsU]*\)/.test(body.slice(i, i + 12))) return undefined;
      const next = skipGroup(body, i);
      if (next < 0) return undefined;
      endRun();
      i = next;
    } else if (c === ")") {
      return undefined;
    } else if (c === "[") {
      const next = skipClass(body, i);
      if (next < 0) return undefined;
      endRun();
      i = next;
    } else if (c === "\\") {
      const kind = body[i + 1];
      if (kind === undefined) return undefined;
      if (kind === "Q") {
        const end = body.indexOf("\\E", i + 2);
        endRun();
        i = end < 0 ? body.length : end + 2;
      } else if (/[0-9A-Za-z]/.test(kind)) {
        endRun();
        i = skipEscape(body, i);
      } else {
        const cp = body.codePointAt(i + 1)!;
        addChar(String.fromCodePoint(cp));
        i += 1 + (cp > 0xffff ? 2 : 1);
      }
    } else if (c === "*" || c === "?" || c === "+") {
      quantifier(c === "+" ? 1 : 0);
      i++;
      if (body[i] === "?") i++;
    } else if (c === "{" && REPEAT.test(body.slice(i, i + 12))) {
      const m = REPEAT.exec(body.slice(i))!;
      quantifier(Number(m[1]));
      i += m[0].length;
      if (body[i] === "?") i++;
    } else if (c === "." || c === "^" || c === "$") {
      endRun();
      i++;
    } else {
      const cp = body.codePointAt(i)!;
      addChar(String.fromCodePoint(cp));
      i += cp > 0xffff ? 2 : 1;
    }
  }
  endRun();
  if (best === "") return undefined;
  literals.push(best);
  return literals;

  function addChar(ch: string): void {
    if (foldCase) {
      const code = ch.charCodeAt(0);
      if (ch.length > 1 || code > 0x7f || /[ksKS]/.test(ch)) {
        endRun();
        return;
      }
      ch = ch.toLowerCase();
    }
    current += ch;
    lastChar = ch.length;
  }

  function quantifier(min: number): void {
    // On a group, class or escape (already ended the run) this changes nothing.
    if (lastChar > 0 && min === 0) current = current.slice(0, current.length - lastChar);
    endRun();
  }
}

/** Index after the `)` closing the group at `start`, or -1. Classes, escapes and `\Q…\E` inside are skipped. */
function skipGroup(body: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < body.length) {
    const c = body[i]!;
    if (c === "\\") {
      if (body[i + 1] === "Q") {
        const end = body.indexOf("\\E", i + 2);
        if (end < 0) return -1;
        i = end + 2;
      } else i = skipEscape(body, i);
    } else if (c === "[") {
      i = skipClass(body, i);
      if (i < 0) return -1;
    } else {
      if (c === "(") depth++;
      else if (c === ")" && --depth === 0) return i + 1;
      i++;
    }
  }
  return -1;
}

/** Index after the `]` closing the class at `start` (RE2's rules: a leading `]` is literal), or -1. */
function skipClass(body: string, start: number): number {
  let i = start + 1;
  if (body[i] === "^") i++;
  if (body[i] === "]") i++;
  while (i < body.length) {
    const c = body[i]!;
    if (c === "]") return i + 1;
    if (c === "\\") i = skipEscape(body, i);
    else if (c === "[" && POSIX_CLASS.test(body.slice(i, i + 12))) i += POSIX_CLASS.exec(body.slice(i))![0].length;
    else i++;
  }
  return -1;
}

/** Index after the escape at `start` (a backslash): `\p{Greek}`, `\pL`, `\x{263a}`, `\x41`, `\123`, `\d`, `\.`. */
function skipEscape(body: string, start: number): number {
  const kind = body[start + 1];
  if (kind === undefined) return body.length;
  if ((kind === "p" || kind === "P" || kind === "x") && body[start + 2] === "{") {
    const end = body.indexOf("}", start + 3);
    return end < 0 ? body.length : end + 1;
  }
  if (kind === "p" || kind === "P") return start + 3;
  if (kind === "x") return start + 4;
  if (kind >= "0" && kind <= "7") {
    let i = start + 2;
    while (i < start + 4 && body[i]! >= "0" && body[i]! <= "7") i++;
    return i;
  }
  const cp = body.codePointAt(start + 1)!;
  return start + 1 + (cp > 0xffff ? 2 : 1);
}
