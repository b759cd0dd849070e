/**
 * Redaction of whatever leaves the account: sample log lines, HTTP body excerpts, Logs Insights rows, the
 * messages of errors the functions throw or log.
 *
 * The rule set follows the secret-scanning field, not leaks found one at a time: every entry of
 * {@link redactionRules} names the gitleaks rule ids (config/gitleaks.toml) and the secretlint rules
 * (@secretlint/secretlint-rule-preset-recommend) it follows. Neither is used as a library: secretlint's
 * preset costs a cold start ~13 ms and ~200 µs per sample, is asynchronous, and reports ranges meant for
 * a finding, not a mask (its AWS rule reports the wrong span of a secret key); gitleaks is Go. The
 * patterns here are written for masking instead: they swallow a whole token (any length the format
 * allows, whole PEM blocks across lines, also when cut short), and keep the context a reader needs (the
 * field name, the auth scheme, the URL's host) with the kind: `password=[REDACTED:password]`,
 * `[REDACTED:github-token]`.
 *
 * Linear time on 256 KiB lines: every pattern starts at a rare literal or, where it starts with a class,
 * behind a lookbehind that excludes that class (so it can start only once per run of such characters),
 * and every repetition that can fail after a long scan is bounded. Most rules also name literal
 * `anchors`, checked with `String.includes` before the expression runs at all.
 *
 * The built-ins err on the side of masking: a false positive costs a less useful sample, a false
 * negative leaks a credential to a third-party service and its notification channels.
 */
import { blockRules, contextRules } from "./redact-context-rules.js";
import { providerTokenRules } from "./redact-provider-rules.js";
import { mask, type RedactionRule } from "./redact-rule.js";
import { hasRegisteredSecrets, scrubSecrets } from "./secrets.js";
import { compileUserPattern, type UserPattern } from "./user-regexp.js";

export { mask, type RedactionRule } from "./redact-rule.js";

/** What a user `redact` pattern's match becomes. */
export const USER_PATTERN_MASK = mask("custom");

/** A function that returns `text` with secrets masked. */
export type Redactor = (text: string) => string;

/**
 * The rule set, applied in this order: blocks and URLs first (they contain tokens), then provider tokens
 * by their documented prefixes, then the context rules (headers, `key=value` pairs, flags), e-mail last.
 */
export function redactionRules(): readonly RedactionRule[] {
  // Built on first use, not at import: the functions that never redact anything pay nothing at cold start.
  rules ??= [...blockRules(), ...providerTokenRules(), ...contextRules()];
  return rules;
}

let rules: readonly RedactionRule[] | undefined;

function applyRule(text: string, rule: RedactionRule, lower: () => string): string {
  if (rule.anchors && !rule.anchors.some((anchor) => text.includes(anchor))) return text;
  if (rule.requires && !rule.requires.every((literal) => text.includes(literal))) return text;
  if (rule.lowerAnchors && !rule.lowerAnchors.some((anchor) => lower().includes(anchor))) return text;
  rule.pattern.lastIndex = 0;
  return text.replace(rule.pattern, (...args: unknown[]) => {
    const match = args[0] as string;
    const last = args.at(-1);
    const groups = (typeof last === "object" && last !== null ? last : {}) as Record<string, string | undefined>;
    if (rule.replace) return rule.replace(match, groups);
    return `${groups.pre ?? ""}${mask(rule.kind)}${groups.post ?? ""}`;
  });
}

/** Masks what the built-in rule set and the registered secrets (the API key) catch in `text`. */
export function redactBuiltIn(text: string): string {
  let out = hasRegisteredSecrets() ? scrubSecrets(text) : text;
  // The lower-case text for the pre-checks, computed once per change of the text.
  let lowerOf = "";
  let lowered: string | undefined;
  const lower = () => {
    if (lowered === undefined || lowerOf !== out) {
      lowerOf = out;
      lowered = out.toLowerCase();
    }
    return lowered;
  };
  for (const rule of redactionRules()) out = applyRule(out, rule, lower);
  return out;
}

/**
 * Compiles one user `redact` pattern on the log rules' engine (RE2 semantics, linear time on any line): the
 * one place user patterns are compiled. An already compiled expression (built-in callers) is used with `g`.
 */
export function compileRedactPattern(pattern: string | RegExp): UserPattern | RegExp {
  if (typeof pattern === "string") return compileUserPattern(pattern);
  return pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
}

/**
 * Builds a redactor: the built-in rules, then `extraPatterns` (user regexes; each whole match becomes
 * {@link USER_PATTERN_MASK}).
 *
 * @param extraPatterns - user patterns as strings (compiled with the same safety rules as log rule patterns)
 *   or already compiled expressions (used with the `g` flag).
 * @throws `UserRegExpError` when a string pattern cannot be used.
 */
export function createRedactor(extraPatterns: readonly (string | RegExp)[] = []): Redactor {
  const extra = extraPatterns.map(compileRedactPattern);
  if (extra.length === 0) return redactBuiltIn;
  return (text) => {
    let out = redactBuiltIn(text);
    for (const re of extra) out = out.replace(re, USER_PATTERN_MASK);
    return out;
  };
}

/**
 * How far past the shown part {@link redactShown} redacts. Longer than the shortest text any rule needs
 * to recognise a secret (the longest minimum is under 300 characters), so a secret that starts in the shown
 * part is matched even when the window ends inside it (rules with a maximum match a prefix; a private key
 * block without its END line is masked to the end).
 */
export const REDACT_MARGIN_CHARS = 16 * 1024;

/**
 * The raw index at which `text` has shown `visible` characters when every whitespace run counts as one
 * (how excerpts and samples are shown; a lower bound of what they show, so the window is never short).
 */
function shownEnd(text: string, visible: number): number {
  let shown = 0;
  let inSpace = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029;
    if (space && inSpace) continue;
    inSpace = space;
    if (++shown >= visible) return i + 1;
  }
  return text.length;
}

/**
 * Redacts what can be shown of `text` when at most `visible` characters of it are kept (whitespace runs
 * counting as one), and {@link REDACT_MARGIN_CHARS} beyond: redaction happens before the caller cuts, and
 * costs are bounded by what is shown, not by a 1 MiB body or a 256 KiB line. Text past the window is
 * dropped (the caller cuts there anyway), so the result may be shorter than `text` but is never cut
 * inside what is shown.
 */
export function redactShown(text: string, visible: number, redactor: Redactor = redactBuiltIn): string {
  let end = Math.min(text.length, shownEnd(text, visible) + REDACT_MARGIN_CHARS);
  const last = text.charCodeAt(end - 1);
  if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--; // keep surrogate pairs whole
  return redactor(end < text.length ? text.slice(0, end) : text);
}

/** Error text (a thrown or logged message): redacted, on one line, at most `max` characters. */
export function redactMessage(text: string, max = 500): string {
  const line = redactShown(text, max).replace(/\s+/g, " ").trim();
  if (line.length <= max) return line;
  let cut = max - 1;
  const unit = line.charCodeAt(cut - 1);
  if (unit >= 0xd800 && unit <= 0xdbff) cut--;
  return `${line.slice(0, cut)}…`;
}
