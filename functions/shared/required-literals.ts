/**
 * The prefilter's literals: strings a user pattern (RE2 syntax) cannot match without, read off its syntax
 * (the prefilter idea of RE2 and ripgrep), so the log rules skip most lines with `includes` before any
 * regex runs. Anything not understood gives no literals: the prefilter can cost selectivity, never a match
 * (the property test in __tests__/functions/logs/prefilter.test.ts checks that on generated patterns).
 */

/**
 * What a pattern requires of a text it matches: one of `anyOf` occurs in it (exactly, or ignoring ASCII case
 * when `foldCase`). A text without any of them cannot match, so the regex need not run.
 */
export interface RequiredLiterals {
  readonly anyOf: readonly string[];
  /** The literals are lower case and compared ignoring ASCII case (the pattern starts with `(?i)`). */
  readonly foldCase: boolean;
}

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

/** Counted repetition: `{n}`, `{n,}`, `{n,m}`. */
export const REPEAT = /^\{(\d+)(?:,(\d*))?\}/;
const POSIX_CLASS = /^\[:\^?[a-z]+:\]/;

/** One required literal per top-level alternative of `body`, or undefined if one has none. */
export function scanAlternatives(body: string, foldCase: boolean): string[] | undefined {
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
