import { RE2JS } from "re2js";
import { MAX_CHOICES, translateToV8 } from "../../../functions/shared/linear-v8";
import { compileUserPattern } from "../../../functions/shared/user-regexp";
import { mulberry32 } from "../../../scripts/testing";
import { BENCH_RULES } from "../../../scripts/local/log-events";
import { REALISTIC_PATTERNS } from "../../../scripts/bench-regex";

/** RE2's answers, from re2js directly (not through compileUserPattern). */
const re2 = (source: string) => RE2JS.compile(source);
const re2Replace = (source: string, text: string, replacement: string) =>
  re2(source)
    .matcher(text)
    .replaceAll(() => replacement);

describe("the subset: what runs on V8", () => {
  const benchPatterns = BENCH_RULES.flatMap((rule) => rule.include).filter((p) => /[\\^$.|?*+()[\]{}]/.test(p));
  test.each([
    "status=5[0-9][0-9]",
    "status=5\\d\\d",
    "duration=\\d\\d\\d\\d+ms",
    "timeout after [0-9]+ ms",
    "\\bERROR\\b",
    "Runtime\\.OutOfMemory",
    "(?i)throttl", // no k or s: ASCII folding is RE2's
    "^START RequestId: [0-9a-f-]+$",
    "x\\d*?y",
    "a\\s+b",
  ])("%s is translated", (source) => {
    expect(translateToV8(source)).toBeInstanceOf(RegExp);
  });

  test("every pattern with a metacharacter of the benchmarks' rule sets is translated", () => {
    const realistic = REALISTIC_PATTERNS.filter((p) => /[\\^$.|?*+()[\]{}]/.test(p));
    expect(realistic.length).toBeGreaterThan(0);
    for (const source of [...benchPatterns, ...realistic])
      expect({ source, v8: translateToV8(source) }).toEqual({
        source,
        v8: expect.any(RegExp),
      });
  });

  test("the translation spells out RE2's sets (\\s without \\v, (?i) as explicit cases)", () => {
    expect(translateToV8("a\\sb")!.source).toBe("a[\\x09-\\x0a\\x0c-\\x0d\\x20]b");
    expect(translateToV8("(?i)ab")!.source).toBe("[Aa][Bb]");
    expect(translateToV8("(?i)ab")!.flags).toBe("");
    expect(translateToV8("x\\d{2,}?")!.source).toBe("x[0-9]{2,}?");
  });

  test.each([
    // super-linear on V8: the unbounded run can restart at each of its characters, or two runs share text
    ["\\d+ms", "1".repeat(50_000)],
    ["a[a-z]*b", "a".repeat(50_000)],
    ["(a+)+b", "a".repeat(40)],
    ["x\\d+\\d+y", `x${"1".repeat(50_000)}`],
    ["x[0-9]*[0-9]*y", `x${"1".repeat(50_000)}`],
    ["\\w+=\\d+;", "a".repeat(50_000)],
    ["x?\\d+y", "1".repeat(50_000)],
    [`x${"\\d?".repeat(5)}\\d+y`, `x${"1".repeat(50_000)}`], // 32 choices before the run
  ])("%s is refused (V8 would backtrack super-linearly); re2js answers", (source, hostile) => {
    expect(translateToV8(source)).toBeUndefined();
    expect(compileUserPattern(source).test(hostile)).toBe(false);
  });

  test.each([
    ".", // RE2's . is a code point and excludes only \n
    "a.b",
    "[^a]x",
    "x\\D",
    "x\\S",
    "x\\W",
    "(?i)kill", // KELVIN SIGN
    "(?i)status", // LONG S
    "(?i)x[j-l]",
    "(?i)x\\w",
    "(?m)^x",
    "(?s)x",
    "(?U)x+",
    "a(?i)b",
    "ERROR|FATAL",
    "(ERROR)",
    "(?:ERROR)",
    "é",
    "x😀",
    "\\pL",
    "[[:alpha:]]",
    "\\Qa.b\\E",
    "\\x41",
    "\\Ax",
    "x\\z",
    "[]a]",
    "[a-b-c]",
    "x{",
    "x{1001}",
    "x{01}", // RE2: the literal text "x{01}"; V8: one x
    "x{1,02}",
    "x{3,2}",
    "x**",
    "x{2}{3}",
    "^*x",
    "x?",
    "\\b",
    "a?b?c?d?e?x", // 32 choices
    "x\\d{1000}\\d{1000}",
  ])("%s is outside the subset", (source) => {
    expect(translateToV8(source)).toBeUndefined();
  });

  test(`bounded choices up to ${MAX_CHOICES} are accepted, more are not`, () => {
    expect(translateToV8("xa?b?c?d?")).toBeInstanceOf(RegExp);
    expect(translateToV8("xa?b?c?d?e?")).toBeUndefined();
  });

  test("in re2js no non-ASCII character folds to an ASCII letter other than k and s (the (?i) argument)", () => {
    let nonAscii = "";
    for (let c = 0x80; c <= 0x10ffff; c++) if (c < 0xd800 || c > 0xdfff) nonAscii += String.fromCodePoint(c);
    expect(re2("(?i)[a-jl-rt-z]").test(nonAscii)).toBe(false);
    expect(re2("(?i)k").test("\u212a")).toBe(true);
    expect(re2("(?i)s").test("\u017f")).toBe(true);
    // and RE2's \d, \w, \s and \b are ASCII
    expect(re2("[\\d\\w\\s]").test(`${nonAscii}\v`)).toBe(false);
    expect(re2("\\bx\\b").test("\u00e9x\u00e9")).toBe(true);
  });
});

describe("accepted patterns on hostile input (correctness; the benchmarks measure time)", () => {
  const MiB = 1024 * 1024;
  test.each([
    ["duration=\\d\\d\\d\\d+ms", `duration=${"9".repeat(MiB)}`, "ms"],
    ["duration=\\d\\d\\d\\d+ms", "duration=1".repeat(MiB / 10), "duration=12345ms"],
    ["timeout after [0-9]+ ms", `timeout after ${"1".repeat(MiB)}`, "timeout after 5 ms"],
    ["x\\d*?y", `x${"1".repeat(MiB)}`, "x12y"],
    ["a\\s+b", `a${" ".repeat(MiB)}`, "a \tb"],
    ["\\bERROR\\b", "ERRORS".repeat(MiB / 6), " ERROR "],
    ["status=5\\d\\d", "status=5".repeat(MiB / 8), "status=503"],
    ["x\\d{0,15}\\d+y", `x${"1".repeat(MiB)}`, "x1y"], // 16 choices before the run
    ["x[0-9]{0,3}[0-9]{0,3}y", `x${"1".repeat(16 * 1024)}`.repeat(64), "x1234y"],
  ])("%s on a hostile MiB: RE2's answer, and with a match appended too", (source, hostile, match) => {
    const pattern = compileUserPattern(source);
    for (const text of [hostile.slice(0, 16 * 1024), hostile]) {
      expect(pattern.test(text)).toBe(false);
      expect(pattern.test(`${text}${match}`)).toBe(true);
      expect(re2(source).test(`${text}${match}`)).toBe(true);
    }
    const text = `${hostile}${match}`;
    expect(pattern.replaceAll(text, "R")).toBe(re2Replace(source, text, "R"));
  });
});

test("if V8 ever ran out of backtrack stack, the answer would come from re2js, not an exception", () => {
  const pattern = compileUserPattern("status=5\\d\\d");
  const overflow = () => {
    throw new RangeError("Maximum call stack size exceeded");
  };
  const test = jest.spyOn(RegExp.prototype, "test").mockImplementationOnce(overflow);
  const replace = jest.spyOn(RegExp.prototype, Symbol.replace).mockImplementationOnce(overflow);
  try {
    expect(pattern.test("a status=503 b")).toBe(true);
    expect(pattern.replaceAll("a status=503 b", "R")).toBe("a R b");
    expect(test).toHaveBeenCalled();
    expect(replace).toHaveBeenCalled();
  } finally {
    test.mockRestore();
    replace.mockRestore();
  }
});

describe("property: V8 translation and re2js agree on generated patterns and lines", () => {
  const random = mulberry32(0x5eed_0010);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  // Sets of the subset, and near misses around them (which must be refused, or still answer as RE2).
  const ATOMS = [
    ...["a", "b", "k", "K", "s", "S", "0", "1", " ", "=", "-", "_", "\\.", "\\-", "\\n", "\\r", "\\t", "\\v"],
    ...["\\d", "\\w", "\\s", "[a-c]", "[0-9]", "[\\s\\d]", "[-a]", "[ab1]", "[K-k]", "[A-C]", "[\\r\\n]", "[_=]"],
    ...[".", "[^a]", "\\D", "\\S", "\\W", "é", "\u212a", "😀", "\\pL", "(a)", "(?:ab)+"],
  ];
  const QUANTIFIERS = ["", "", "", "", "?", "*", "+", "{2}", "{1,3}", "{2,}", "{02}", "+?", "??", "*?"];
  const ASSERTIONS = ["^", "$", "\\b", "\\B"];
  const PREFIXES = ["", "", "", "", "(?i)", "(?i)", "(?m)", "(?s)"];
  const LINE_PIECES = [
    ...["a", "b", "c", "k", "K", "s", "S", "A", "B", "0", "1", "9", " ", "=", "-", "_", ".", "\n", "\r"],
    ...["\t", "\v", "\f", "\u00a0", "\u2028", "é", "😀", "\u212a", "\u017f", "\ud800", "\udc00", "\ud83d"],
    ...["ab", "a1", "k=1", "1".repeat(40), "a".repeat(30), " ".repeat(20)],
  ];

  function pattern(): string {
    let source = pick(PREFIXES);
    // Half start with a plain character (the subset's shape when a run follows), the rest anyhow.
    if (random() < 0.5) source += pick(ATOMS.slice(0, 18));
    const n = 1 + Math.floor(random() * 4);
    for (let i = 0; i < n; i++) {
      if (random() < 0.15) source += pick(ASSERTIONS);
      else source += pick(ATOMS) + pick(QUANTIFIERS);
      if (random() < 0.03) source += "|";
    }
    return source;
  }

  function line(): string {
    let text = "";
    const n = Math.floor(random() * 30);
    for (let i = 0; i < n; i++) text += pick(LINE_PIECES);
    return text;
  }

  test("test and replaceAll equal re2js's on 6,000 patterns × 40 lines", () => {
    let translated = 0;
    let matched = 0;
    const features: Record<string, number> = {};
    const mismatches: unknown[] = [];
    for (let p = 0; p < 6000; p++) {
      const source = pattern();
      let re: RE2JS;
      try {
        re = re2(source);
      } catch {
        expect(translateToV8(source)).toBeUndefined(); // what RE2 refuses is never translated
        continue;
      }
      const v8 = translateToV8(source);
      if (v8 === undefined) continue;
      translated++;
      for (const feature of ["(?i)", "\\s", "\\b", "+?", "[", "{2,}", "$"]) {
        if (source.includes(feature)) features[feature] = (features[feature] ?? 0) + 1;
      }
      const compiled = compileUserPattern(source);
      for (let l = 0; l < 40; l++) {
        const text = line();
        const expected = re.test(text);
        if (expected) matched++;
        if (v8.test(text) !== expected || compiled.test(text) !== expected) mismatches.push({ source, text, expected });
        const replaced = re.matcher(text).replaceAll(() => "<R>");
        if (compiled.replaceAll(text, "<R>") !== replaced) mismatches.push({ source, text, replaced });
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    // Not vacuous: many patterns ran on V8, and many lines matched.
    expect(translated).toBeGreaterThan(1000);
    expect(matched).toBeGreaterThan(4000);
    expect(translated * 40 - matched).toBeGreaterThan(4000);
    for (const feature of ["(?i)", "\\s", "\\b", "+?", "[", "{2,}", "$"]) {
      expect({ feature, enough: (features[feature] ?? 0) > 20 }).toEqual({ feature, enough: true });
    }
  });

  test("replaceAll on a translated pattern gives re2js's result on log-like text", () => {
    const text = "a duration=12345ms b duration=1ms duration=99999ms\u212a😀 duration=0000msduration=1234ms";
    for (const source of ["duration=\\d\\d\\d\\d+ms", "duration=\\d+?", "=\\d{2,3}", "\\bduration\\b"]) {
      expect(translateToV8(source)).toBeInstanceOf(RegExp);
      expect(compileUserPattern(source).replaceAll(text, "[R]")).toBe(re2Replace(source, text, "[R]"));
    }
  });
});
