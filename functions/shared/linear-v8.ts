/**
 * A subset of RE2 patterns that V8's own backtracking `RegExp` runs with RE2's answers and in linear time
 * (1.5 to 30 times faster than re2js per log line, `npm run bench:regex`). {@link translateToV8} accepts only
 * patterns of the subset and returns undefined for everything else, which stays on re2js.
 *
 * ## The subset
 * A concatenation of items, optionally after a leading `(?i)`, with no group, alternation or other flag:
 * - a character set: an ASCII literal, `\` + ASCII punctuation, `\t \n \r \f \v`, `\d`, `\w`, `\s`, or a
 *   bracket class of those and ASCII ranges (not negated, no `[:alpha:]`), with an optional quantifier
 *   `? * + {n} {n,} {n,m}` (greedy or lazy);
 * - an assertion `^`, `$`, `\b`, `\B` (unquantified).
 * No `.`, no negated class or `\D \W \S`, no `\pL`, no non-ASCII character, no `(?m)`/`(?s)`/`(?U)`.
 *
 * ## Why V8 gives RE2's answer (a search: is there a match somewhere)
 * Every set is translated to the explicit ASCII code units RE2 means, so the dialects' differences vanish:
 * RE2 `\s` is `[\t\n\f\r ]` (V8's also has \v and Unicode spaces); `\d`, `\w` and `\b` are ASCII in both
 * without flags; `^`/`$` are the ends of the text in both without `(?m)` (V8 `$` is not "before a final
 * \n"). Under `(?i)` a set is closed under ASCII case here and V8 gets no `i` flag; that is RE2's folding
 * exactly when the set holds no k, K, s or S (RE2 adds KELVIN SIGN and LONG S to those), so such patterns are
 * refused (`(?i)\w` too: RE2 folds Perl classes). The tests check that no other non-ASCII character folds
 * to an ASCII letter in re2js.
 *
 * Code points against code units: V8 without the `u` flag reads UTF-16 code units, RE2 code points (and
 * lone surrogates as some non-ASCII code point). Every set here is ASCII and a match cannot be empty (the
 * pattern requires at least one character), so a match in either engine is a run of ASCII characters, which
 * are whole code points and code units at once; the assertions next to it see either the same ASCII
 * character or, in both engines, a non-word non-ASCII one (or the text's end). So a match exists in one
 * engine exactly where it exists in the other.
 *
 * ## Why V8 runs it in linear time
 * A backtracking attempt at one start explores at most the product of the choices of its quantified items.
 * Let B be the product of (max − min + 1) over the bounded items, W the largest width of the items after the
 * (single) unbounded item U over class C, and K the largest width of the items before it.
 * - Without U, an attempt costs O(B·W) and there are n of them: O(n·B·W).
 * - With U: the first character item must be of fixed count, over a set F disjoint from C. An attempt at p
 *   whose prefix matches reaches U at some q ≤ p + K, and U's run of C then ends where the maximal run of C
 *   holding q ends (an empty run costs one try of the suffix); each step of backing off U tries the suffix,
 *   O(B·(W + 1)). Since text[p] ∈ F is not in
 *   C, p is before the start s of the maximal run, and q ≥ s, so p ∈ [s − K, s): every character of a run is
 *   backed over by at most K attempts (times the prefix's choices). Total O(n·K·B·(W + 1)). Without the
 *   F ∩ C = ∅ condition, `\d+ms` on a long digit run restarts the run at every digit: O(n²).
 * {@link MAX_CHOICES} and {@link MAX_COST} bound B and K·B·(W + 1), so the constant stays small.
 */

/** Largest product of the choices of the bounded quantifiers (`a?b?c?d?e?` has 32: refused). */
export const MAX_CHOICES = 16;
/** Largest work per text character, K·B·(W + 1) above (`timeout after [0-9]+ ms` costs 56). */
export const MAX_COST = 1024;

/** A set of ASCII code points, bit c for code point c. */
type AsciiSet = readonly number[];

type Item =
  | { readonly kind: "set"; readonly set: AsciiSet; readonly min: number; readonly max: number; readonly lazy: boolean }
  | { readonly kind: "assert"; readonly v8: string };

// Four 32-bit words (BigInt would be shorter, but costs about a millisecond per pattern at cold start).
const has = (set: AsciiSet, c: number): boolean => ((set[c >> 5]! >>> (c & 31)) & 1) === 1;
const union = (...sets: AsciiSet[]): AsciiSet => [0, 1, 2, 3].map((w) => sets.reduce((acc, s) => acc | s[w]!, 0));
const intersects = (a: AsciiSet, b: AsciiSet): boolean => a.some((word, w) => (word & b[w]!) !== 0);
function rangeSet(lo: number, hi: number): AsciiSet {
  const set = [0, 0, 0, 0];
  for (let c = lo; c <= hi; c++) set[c >> 5]! |= 1 << (c & 31);
  return set;
}
const charSet = (c: number): AsciiSet => rangeSet(c, c);
const DIGIT = rangeSet(0x30, 0x39);
const WORD = union(DIGIT, rangeSet(0x41, 0x5a), rangeSet(0x61, 0x7a), charSet(0x5f));
/** RE2's `\s`: tab, newline, form feed, carriage return, space (no vertical tab). */
const SPACE = union(rangeSet(0x09, 0x0a), rangeSet(0x0c, 0x0d), charSet(0x20));
/** The letters RE2's `(?i)` folds with a non-ASCII character (KELVIN SIGN, LONG S). */
const UNICODE_FOLDED = union(charSet(0x4b), charSet(0x6b), charSet(0x53), charSet(0x73));

const PERL_CLASSES: Readonly<Record<string, AsciiSet>> = { d: DIGIT, w: WORD, s: SPACE };
const CONTROL_ESCAPES: Readonly<Record<string, number>> = { t: 0x09, n: 0x0a, v: 0x0b, f: 0x0c, r: 0x0d };
/**
 * RE2 counted repetition. A number with a leading zero makes RE2 read the braces as literal text (`a{01}` is
 * "a{01}") while V8 counts: no match here, so the pattern is outside.
 */
const REPEAT = /^\{(0|[1-9]\d{0,3})(,(0|[1-9]\d{0,3})?)?\}/;

/** The input is outside the subset (a control-flow signal inside the parser, never thrown out of it). */
class Outside extends Error {}
const outside = (): never => {
  throw new Outside();
};

/**
 * Translates an RE2 pattern to a V8 `RegExp` whose `test` gives RE2's answer on every string and runs in
 * linear time on V8, or undefined when the pattern is outside the subset described above (then only an RE2
 * engine may run it). A pattern accepted here is valid RE2 syntax.
 */
export function translateToV8(source: string): RegExp | undefined {
  let items: Item[];
  try {
    items = parse(source);
  } catch (error) {
    if (error instanceof Outside) return undefined;
    throw error;
  }
  if (!linear(items)) return undefined;
  return new RegExp(items.map(emit).join(""));
}

/** The items of `source`, or throws {@link Outside}. */
function parse(source: string): Item[] {
  const foldCase = source.startsWith("(?i)");
  const items: Item[] = [];
  let i = foldCase ? 4 : 0;
  const fold = (set: AsciiSet): AsciiSet => {
    if (!foldCase) return set;
    if (intersects(set, UNICODE_FOLDED)) outside();
    const folded = [...set];
    // A..Z are bits 1..26 of word 2, a..z the same bits of word 3.
    for (let upper = 0x41; upper <= 0x5a; upper++) {
      if (has(set, upper) || has(set, upper + 0x20)) {
        folded[2]! |= 1 << (upper & 31);
        folded[3]! |= 1 << (upper & 31);
      }
    }
    return folded;
  };
  while (i < source.length) {
    const c = source[i]!;
    if (c === "^" || c === "$") {
      items.push({ kind: "assert", v8: c });
      i++;
      continue;
    }
    if (c === "\\" && (source[i + 1] === "b" || source[i + 1] === "B")) {
      items.push({ kind: "assert", v8: `\\${source[i + 1]}` });
      i += 2;
      continue;
    }
    let set: AsciiSet;
    if (c === "[") [set, i] = parseClass(source, i + 1);
    else if (c === "\\") [set, i] = parseEscape(source, i + 1);
    else if ("()|.*+?{}]".includes(c) || c.charCodeAt(0) > 0x7f) return outside();
    else [set, i] = [charSet(c.charCodeAt(0)), i + 1];
    let min = 1;
    let max = 1;
    const q = source[i];
    const quantified = q === "?" || q === "*" || q === "+" || q === "{";
    if (q === "?" || q === "*" || q === "+") {
      [min, max] = q === "?" ? [0, 1] : q === "*" ? [0, Infinity] : [1, Infinity];
      i++;
    } else if (q === "{") {
      const repeat = REPEAT.exec(source.slice(i)) ?? outside();
      min = Number(repeat[1]);
      max = repeat[2] === undefined ? min : repeat[3] === undefined ? Infinity : Number(repeat[3]);
      if (min > 1000 || max < min || (max !== Infinity && max > 1000)) outside(); // RE2 refuses these
      i += repeat[0].length;
    }
    const lazy = quantified && source[i] === "?";
    if (lazy) i++;
    // `a**`, `a{2}{3}` are RE2 syntax errors: leave them to re2js's message.
    if (quantified && i < source.length && "?*+{".includes(source[i]!)) outside();
    items.push({ kind: "set", set: fold(set), min, max, lazy });
  }
  return items;
}

/** An escape outside a class at `source[i]` (after the backslash): its set and the next index. */
function parseEscape(source: string, i: number): [AsciiSet, number] {
  const e = source[i] ?? outside();
  const perl = PERL_CLASSES[e];
  if (perl !== undefined) return [perl, i + 1];
  const control = CONTROL_ESCAPES[e];
  if (control !== undefined) return [charSet(control), i + 1];
  // RE2: a backslash before ASCII punctuation is that character; letters and digits are escapes of their own.
  const code = e.charCodeAt(0);
  if (code > 0x20 && code < 0x7f && !/[0-9A-Za-z]/.test(e)) return [charSet(code), i + 1];
  return outside();
}

/** A bracket class starting after `[` at `source[i]`: its set and the index after `]`. */
function parseClass(source: string, start: number): [AsciiSet, number] {
  // `[^…]` matches non-ASCII (surrogate halves in V8); `[]…]` is a literal `]` in RE2 but empty in V8.
  if (source[start] === "^" || source[start] === "]") outside();
  let set: AsciiSet = [0, 0, 0, 0];
  let i = start;
  while (source[i] !== "]") {
    const c = source[i] ?? outside();
    if (c === "\\" && PERL_CLASSES[source[i + 1] ?? ""] !== undefined) {
      set = union(set, PERL_CLASSES[source[i + 1]!]!);
      i += 2;
      continue;
    }
    let lo: number;
    [lo, i] = classChar(source, i, start);
    if (source[i] === "-" && source[i + 1] !== "]") {
      if (source[i + 1] === "-") outside(); // `[!--]`: a range ending at `-`, too subtle to bother
      let hi: number;
      [hi, i] = classChar(source, i + 1, start);
      if (hi < lo) outside(); // RE2: invalid character class range
      set = union(set, rangeSet(lo, hi));
    } else {
      set = union(set, charSet(lo));
    }
  }
  return [set, i + 1];
}

/** One character of a class (an endpoint of a range): its code point and the next index. */
function classChar(source: string, i: number, start: number): [number, number] {
  const c = source[i] ?? outside();
  // `[[:alpha:]]` is RE2's POSIX class; a `-` is literal only first or last (elsewhere the dialects differ).
  if (c === "[" || (c === "-" && i !== start && source[i + 1] !== "]")) outside();
  if (c === "\\") {
    const e = source[i + 1] ?? outside();
    const control = CONTROL_ESCAPES[e];
    if (control !== undefined) return [control, i + 2];
    const code = e.charCodeAt(0);
    if (code > 0x20 && code < 0x7f && !/[0-9A-Za-z]/.test(e)) return [code, i + 2];
    return outside();
  }
  const code = c.charCodeAt(0);
  if (code > 0x7f) outside();
  return [code, i + 1];
}

/** Whether the items meet the linear-time condition of the module comment, within the bounds. */
function linear(items: readonly Item[]): boolean {
  const sets = items.filter((item) => item.kind === "set");
  if (sets.reduce((sum, item) => sum + item.min, 0) === 0) return false; // it could match empty
  let choices = 1;
  for (const item of sets) if (item.max !== Infinity) choices *= item.max - item.min + 1;
  if (choices > MAX_CHOICES) return false;
  const unbounded = sets.filter((item) => item.max === Infinity);
  const width = (list: readonly Item[]) => list.reduce((sum, item) => sum + (item.kind === "set" ? item.max : 0), 0);
  if (unbounded.length === 0) return choices * (width(sets) + 1) <= MAX_COST;
  if (unbounded.length > 1) return false;
  const u = unbounded[0]!;
  const first = sets[0]!;
  if (first === u || first.min === 0 || first.min !== first.max || intersects(first.set, u.set)) return false;
  const at = sets.indexOf(u);
  return width(sets.slice(0, at)) * choices * (width(sets.slice(at + 1)) + 1) <= MAX_COST;
}

/** The V8 source of one item: explicit code units, so that no V8 escape or flag can differ from RE2. */
function emit(item: Item): string {
  if (item.kind === "assert") return item.v8;
  const { set, min, max, lazy } = item;
  let quantifier = "";
  if (min === 0 && max === 1) quantifier = "?";
  else if (max === Infinity) quantifier = min === 0 ? "*" : min === 1 ? "+" : `{${min},}`;
  else if (min !== 1 || max !== 1) quantifier = min === max ? `{${min}}` : `{${min},${max}}`;
  return `${emitSet(set)}${quantifier}${lazy ? "?" : ""}`;
}

function emitSet(set: AsciiSet): string {
  const words = set.filter((word) => word !== 0);
  // A single character (most items): no class, and V8 then searches for a literal prefix directly.
  if (words.length === 1 && (words[0]! & (words[0]! - 1)) === 0) {
    return unit(set.findIndex((word) => word !== 0) * 32 + 31 - Math.clz32(words[0]!));
  }
  const ranges: string[] = [];
  for (let c = 0; c < 128; c++) {
    if (set[c >> 5] === 0) c |= 31; // an empty word (cold code runs in V8's interpreter: keep loops short)
    if (!has(set, c)) continue;
    let end = c;
    while (end < 127 && has(set, end + 1)) end++;
    ranges.push(end === c ? unit(c) : `${unit(c)}-${unit(end)}`);
    c = end;
  }
  return `[${ranges.join("")}]`;
}

const unit = (c: number): string =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
    ? String.fromCharCode(c)
    : `\\x${c.toString(16).padStart(2, "0")}`;
