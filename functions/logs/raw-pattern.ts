/**
 * Which RE2 patterns give the same answer on a message's JSON text as on the message itself, so that a
 * candidate event (./raw-events.ts) can be tested without decoding it: a JSON parse per line costs more than
 * the pattern does on V8 (functions/shared/user-regexp.ts).
 *
 * The JSON text of a message without `\u` escapes is a sequence of tokens, each a character standing for
 * itself or a two-character escape (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`). A pattern answers the same
 * on both when:
 * - every string it can match is made of characters JSON never escapes (no `"`, `\`, `/` or control
 *   character), so a match in the message is the same characters in the JSON text, and a match in the JSON
 *   text holds no backslash: it lies within tokens that stand for themselves, except that its first character
 *   could be the second of an escape (`\n` + `nERROR`);
 * - no match can start with such a second character (`b`, `f`, `n`, `r`, `t`; the others are excluded above):
 *   the pattern starts with a literal character outside that set, not optional, and has no top-level
 *   alternative that could start elsewhere;
 * - it looks at nothing around a match (no `^`, `$`, `\b`, `\B`, `\A`, `\z`), so the escapes beside it and
 *   the message's final line break (which rules do not see) change nothing.
 * Rules see at most MAX_MATCH_CHARS characters; the scan gives known literals only for messages whose JSON
 * text is no longer, so the cut never falls inside it.
 *
 * The check is syntactic and conservative: anything it does not know (flags, `.`, negated or POSIX classes,
 * `\s`, `\pL`, ...) is decoded first, as before.
 */

/** Escapes whose match is a set of characters JSON never escapes (`\d`: digits; `\w`: ASCII word characters). */
const SAFE_CLASS_ESCAPES = new Set(["d", "w"]);
/** Metacharacters that an escape makes literal, and that JSON never escapes. */
const SAFE_ESCAPED_LITERALS = new Set([..."().*+?[]{}|^$-"]);
/** Second characters of JSON's two-character escapes that a pattern could match (`"`, `\`, `/` cannot). */
const ESCAPE_LETTERS = new Set([..."bfnrt"]);

/** A character JSON never escapes, in the printable ASCII range (the only one this check accepts). */
function isPlainAscii(code: number): boolean {
  return code >= 0x20 && code <= 0x7e && code !== 0x22 /* " */ && code !== 0x2f /* / */ && code !== 0x5c; /* \ */
}

/**
 * Whether `source` (RE2 syntax, already compiled, so valid) matches a message's JSON text exactly when it
 * matches the message (see the top of this file).
 */
export function testableOnJsonText(source: string): boolean {
  const first = source.charCodeAt(0);
  if (!isPlainAscii(first) || "\\[(.^$|?*+{)".includes(source[0]!) || ESCAPE_LETTERS.has(source[0]!)) return false;
  // The first character must be required: not made optional by what follows it.
  if ("?*{".includes(source[1] ?? "")) return false;
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (!SAFE_CLASS_ESCAPES.has(next) && !SAFE_ESCAPED_LITERALS.has(next)) return false;
      i++;
    } else if (c === "[") {
      const end = classEnd(source, i);
      if (end < 0) return false;
      i = end;
    } else if (c === "(") {
      // Groups only: `(?:` is fine, flags (`(?i)`, `(?s:`) are not handled.
      if (source[i + 1] === "?" && source[i + 2] !== ":") return false;
      depth++;
    } else if (c === ")") {
      depth--;
    } else if (c === "|") {
      if (depth === 0) return false;
    } else if (c === "." || c === "^" || c === "$") {
      return false;
    } else if (!isPlainAscii(c.charCodeAt(0))) {
      return false;
    }
  }
  return true;
}

/**
 * The index of the `]` closing the class that opens at `start`, when the class is made of characters JSON
 * never escapes (single characters, ranges within them, `\d`, `\w`, escaped metacharacters); else -1.
 */
function classEnd(source: string, start: number): number {
  let i = start + 1;
  if (source[i] === "^" || source[i] === "[") return -1;
  // `]` first is a literal `]` in RE2.
  if (source[i] === "]") i++;
  for (; i < source.length; i++) {
    const c = source[i]!;
    if (c === "]") return i;
    let low: number;
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (SAFE_CLASS_ESCAPES.has(next)) {
        i++;
        continue;
      }
      if (!SAFE_ESCAPED_LITERALS.has(next)) return -1;
      low = next.charCodeAt(0);
      i++;
    } else if (isPlainAscii(c.charCodeAt(0))) {
      low = c.charCodeAt(0);
    } else {
      return -1;
    }
    if (source[i + 1] === "-" && source[i + 2] !== "]" && i + 2 < source.length) {
      const highChar = source[i + 2]!;
      if (highChar === "\\") return -1;
      const high = highChar.charCodeAt(0);
      // Every character of the range must be one JSON never escapes: `"` and `/` sit inside the ASCII range.
      for (let code = low; code <= high; code++) if (!isPlainAscii(code)) return -1;
      i += 2;
    }
  }
  return -1;
}
