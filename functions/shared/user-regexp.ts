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
 * Patterns of a small subset (ASCII literals and classes, at most one unbounded repetition after a literal it
 * cannot match, no alternation) run on V8's own RegExp instead, up to 30 times faster: ./linear-v8.ts proves
 * the subset gives RE2's answers and runs in linear time there, and refuses every other pattern.
 *
 * On top of the engine, {@link requiredLiterals} finds strings a pattern cannot match without (the prefilter
 * idea of RE2 and ripgrep), so the log rules skip most lines with `includes` before any regex runs.
 *
 * Limits kept from before: patterns of at most {@link MAX_PATTERN_LENGTH} characters, and log rules see at most
 * {@link MAX_MATCH_CHARS} characters of a line.
 */
import type { RE2JS } from "re2js";
import { UserRegExpError } from "./errors.js";
import { translateToV8 } from "./linear-v8.js";
import { REPEAT, type RequiredLiterals, requiredLiterals, scanAlternatives } from "./required-literals.js";

export { type RequiredLiterals, requiredLiterals } from "./required-literals.js";

type Re2js = typeof import("re2js");
let engine: Re2js | undefined;

/**
 * re2js, evaluated on first use: the bundler keeps a required module as a function run on the first call,
 * so a function whose patterns are all plain words (or that has none) never pays for the engine at cold start.
 */
function re2js(): Re2js {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a synchronous, deferred load (see above)
  return (engine ??= require("re2js") as Re2js);
}

/**
 * Rules see at most this many UTF-16 code units of each log message (16 KiB of ASCII): it bounds the work per
 * line, and what matters in a log line is at its start. Lambda lines are at most 256 KiB, so a keyword only in
 * the tail of a huge line is not seen.
 */
export const MAX_MATCH_CHARS = 16 * 1024;

/** Longest user pattern accepted: longer ones are almost certainly generated or pasted by mistake. */
export const MAX_PATTERN_LENGTH = 1000;

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
  const required = requiredLiterals(source);
  // A pattern without metacharacters (`ERROR`, `Task timed out`) is a valid RE2 literal and matches exactly
  // where the string occurs: `includes` and `replaceAll` answer without the engine, and the engine is not
  // even compiled (its first compilation costs a cold start tens of milliseconds).
  if (PLAIN_LITERAL.test(source) && !SURROGATE.test(source)) {
    const replaceLiteral = (text: string, replacement: string): string => text.replaceAll(source, () => replacement);
    return {
      source,
      required,
      plain: true,
      test: (text) => text.includes(source),
      replaceAll: replaceLiteral,
      [Symbol.replace]: replaceLiteral,
    };
  }
  // Patterns of the linear, RE2-equivalent subset (`status=5[0-9][0-9]`, `duration=\d{4,}ms`) run on V8's
  // RegExp, up to 30 times faster per line than re2js, and never load re2js (see ./linear-v8.ts).
  const v8 = translateToV8(source);
  if (v8 !== undefined) return v8Pattern(source, required, v8);
  let re: RE2JS;
  try {
    re = re2js().RE2JS.compile(source);
  } catch (error) {
    if (!(error instanceof re2js().RE2JSException)) throw error;
    const reason = error.message.replace(/^error parsing regexp: /, "");
    throw new UserRegExpError(
      `is not a valid RE2 regular expression: ${reason} (RE2 has no backreferences or lookaround)`,
      "syntax",
      source,
    );
  }
  const replaceAll = (text: string, replacement: string): string => re.matcher(text).replaceAll(() => replacement);
  return {
    source,
    required,
    plain: false,
    test: leadingLiteralTest(source, re) ?? ((text) => re.test(text)),
    replaceAll,
    [Symbol.replace]: replaceAll,
  };
}

/**
 * A pattern of the V8 subset. `replaceAll` runs on V8 too: without alternation both engines pick the
 * leftmost match and, there, the first in the same greedy/lazy order (RE2's leftmost-first is the order of a
 * backtracking engine), and a match is a run of ASCII characters in both (./linear-v8.ts), so the matches and
 * the text between them are the same. A global search resumes at the end of the previous match, so every
 * start is tried once in all: the linear bound of one search holds for the whole replacement.
 */
function v8Pattern(source: string, required: RequiredLiterals | undefined, re: RegExp): UserPattern {
  const global = new RegExp(re.source, "g");
  // V8 grows its backtrack stack up to a limit; past it (no pattern of the subset should get there, the tests
  // run them on 1 MiB hostile texts) the answer comes from re2js rather than an exception.
  let fallback: RE2JS | undefined;
  const slow = (): RE2JS => (fallback ??= re2js().RE2JS.compile(source));
  const replaceAll = (text: string, replacement: string): string => {
    try {
      return text.replace(global, () => replacement);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return slow()
        .matcher(text)
        .replaceAll(() => replacement);
    }
  };
  return {
    source,
    required,
    plain: false,
    test: (text) => {
      try {
        return re.test(text);
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        return slow().test(text);
      }
    },
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
      anchored ??= re2js().RE2JS.compile(`${prefix}\\A(?:${body})`);
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

/** No RE2 metacharacter (nor a line break, which the text rules see may lack): the pattern is its own literal. */
const PLAIN_LITERAL = /^[^\\^$.|?*+()[\]{}\r\n]+$/;
/** Surrogates (also lone ones, which RE2, working on UTF-8, judges itself): such patterns go to the engine. */
const SURROGATE = /[\uD800-\uDFFF]/;
