/**
 * Property test: the prefilter (required literals, the one-scan literal alternation, lazy lower-casing) never
 * changes a result. On generated patterns and lines, the fast path agrees with running every RE2 pattern.
 */
import {
  compileRules,
  matchingRules,
  ruleMatcher,
  ruleMatchesText,
  textToMatch,
  type CompiledRule,
} from "../../../functions/logs/rules";
import { RE2JS } from "re2js";
import { UserRegExpError } from "../../../functions/shared/errors";
import { compileUserPattern, passesPrefilter } from "../../../functions/shared/user-regexp";
import { mulberry32 } from "../../../scripts/testing";

// A seeded generator, so a failure reproduces.
const rng = mulberry32;

// Pieces chosen to hit every branch of the literal scanner: case folding (k, s, KELVIN SIGN, LONG S),
// surrogate pairs, escapes, classes with ] and [:alpha:], \Q…\E with | inside, counted repetition, groups.
const ATOMS = [
  "a",
  "b",
  "E",
  "R",
  "o",
  "k",
  "K",
  "s",
  "S",
  "é",
  "É",
  "😀",
  " ",
  ":",
  "=",
  "5",
  "-",
  "{",
  "}",
  "]",
  "\\.",
  "\\|",
  "\\(",
  "\\d",
  "\\w",
  "\\s",
  "\\b",
  "\\pL",
  "\\x41",
  "\\Qa|b\\E",
  ".",
  "^",
  "$",
  "[ab]",
  "[]a]",
  "[^a]",
  "[[:alpha:]]",
  "[a-c]",
  "(ab)",
  "(?:a|b)",
  "(?i:err)",
  "(?P<n>o)",
  "(a|)",
];
const QUANTIFIERS = ["", "", "", "?", "*", "+", "{2}", "{0,2}", "{1,}", "??", "+?"];
const LINE_PIECES = [
  "a",
  "b",
  "E",
  "e",
  "R",
  "r",
  "o",
  "O",
  "k",
  "K",
  "\u212a",
  "s",
  "S",
  "\u017f",
  "é",
  "É",
  "😀",
  " ",
  ":",
  "=",
  "5",
  "-",
  "{",
  "}",
  "]",
  ".",
  "|",
  "(",
  "A",
  "err",
  "ERR",
  "ab",
  "a|b",
  "\n",
  "_",
  "x",
];

function generatePattern(next: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const branch = () => {
    let out = "";
    const length = 1 + Math.floor(next() * 6);
    for (let i = 0; i < length; i++) out += pick(ATOMS) + pick(QUANTIFIERS);
    return out;
  };
  const prefix = next() < 0.3 ? "(?i)" : next() < 0.1 ? "(?s)" : "";
  const branches = 1 + Math.floor(next() * 2.5);
  const body = Array.from({ length: branches }, branch).join("|");
  return prefix + (next() < 0.15 ? `.*${body}.*` : body);
}

function generateLine(next: () => number): string {
  let out = "";
  const length = Math.floor(next() * 14);
  for (let i = 0; i < length; i++) out += LINE_PIECES[Math.floor(next() * LINE_PIECES.length)];
  return out;
}

test("a pattern's prefilter never rejects a line the pattern matches (20,000 generated pairs)", () => {
  const next = rng(10);
  let compiled = 0;
  let rejected = 0;
  let matched = 0;
  for (let p = 0; p < 2_000; p++) {
    const source = generatePattern(next);
    let pattern;
    try {
      pattern = compileUserPattern(source);
    } catch (error) {
      expect(error).toBeInstanceOf(UserRegExpError);
      continue;
    }
    compiled++;
    for (let l = 0; l < 10; l++) {
      // Lines made of pieces of the pattern too, so that matches are common.
      const piece = source.replace(/[\\()[\]?*+{}^$|]/g, "");
      const roll = next();
      // Plain lines, lines with a piece of the pattern, and lines where it recurs (past the tries at a literal).
      const line =
        roll < 0.4
          ? generateLine(next)
          : roll < 0.8
            ? piece + generateLine(next)
            : (piece.slice(0, 2) + generateLine(next)).repeat(6) + piece;
      const matches = pattern.test(line);
      // The engine's shortcuts (plain literals, tries at a leading literal) give RE2's own answer.
      expect({ source, line, matches }).toEqual({ source, line, matches: RE2JS.compile(source).test(line) });
      const passes = passesPrefilter(pattern.required, line);
      if (matches) matched++;
      if (!passes) rejected++;
      if (matches) expect({ source, line, passes }).toEqual({ source, line, passes: true });
    }
  }
  // The generator must exercise both sides: many compiled patterns, many matches, many lines skipped.
  expect(compiled).toBeGreaterThan(1_500);
  expect(matched).toBeGreaterThan(1_000);
  expect(rejected).toBeGreaterThan(1_000);
});

test("rule sets: the fast path (matchingRules) agrees with testing every rule (generated rules and lines)", () => {
  const next = rng(11);
  let agreed = 0;
  let nonEmpty = 0;
  let scanned = 0;
  for (let set = 0; set < 200; set++) {
    const configs: { name: string; include: string[]; exclude?: string[] }[] = [];
    for (
      let r = 0;
      configs.length < (set % 4 === 0 ? 20 + Math.floor(next() * 10) : 1 + Math.floor(next() * 8)) && r < 80;
      r++
    ) {
      // Every fourth set: many rules that each require a literal, so the alternation scan runs.
      const many = set % 4 === 0;
      const first = many ? `(?:${generatePattern(next)})lit${r}q` : generatePattern(next);
      const include = [first, ...(next() < 0.3 ? [generatePattern(next)] : [])];
      const exclude = next() < 0.4 ? [generatePattern(next)] : undefined;
      try {
        compileRules([{ name: "probe", include, exclude }]);
      } catch {
        continue;
      }
      configs.push({ name: `r${configs.length}`, include, ...(exclude && { exclude }) });
    }
    const rules = compileRules(configs);
    const matcher = ruleMatcher(rules);
    const out: CompiledRule[] = [];
    for (let l = 0; l < 50; l++) {
      const pieceOf = configs[Math.floor(next() * configs.length)]!.include[0]!;
      const line =
        generateLine(next) +
        (next() < 0.5 ? pieceOf.replace(/[\\()[\]?*+{}^$|:]/g, "") : "") +
        (next() < 0.3 ? `lit${Math.floor(next() * 30)}q` : "") +
        (next() < 0.3 ? "\n" : "");
      const fast = matchingRules(matcher, line, out).map((rule) => rule.name);
      // What rules see: the line without a final line break (and at most 16 KiB).
      const text = textToMatch(line);
      const slow = rules.filter((rule) => ruleMatchesText(rule, text)).map((rule) => rule.name);
      const brute = rules
        .filter(
          (rule) => rule.includePatterns.some((p) => p.test(text)) && !rule.excludePatterns.some((p) => p.test(text)),
        )
        .map((rule) => rule.name);
      expect({ line, fast }).toEqual({ line, fast: brute });
      expect(slow).toEqual(brute);
      agreed++;
      if (brute.length > 0) nonEmpty++;
    }
    if (matcher.table === undefined) scanned++;
  }
  // Both paths ran: the literal table, and for sets of many literals each rule checking its own.
  expect(scanned).toBeGreaterThan(10);
  expect(scanned).toBeLessThan(190);
  expect(agreed).toBe(10_000);
  expect(nonEmpty).toBeGreaterThan(1_000);
});
