import {
  combineAlternatives,
  compileUserRegExp,
  enableLinearRegExpFallback,
  MAX_PATTERN_LENGTH,
  rewritePattern,
  UserRegExpError,
} from "../../functions/shared/user-regexp";

function problemOf(source: string): string | undefined {
  try {
    compileUserRegExp(source);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(UserRegExpError);
    return (error as UserRegExpError).problem;
  }
}

describe("catastrophic backtracking", () => {
  test("this Node.js has V8's linear-time engine (the fallback and the l flag)", () => {
    expect(enableLinearRegExpFallback()).toEqual({ linear: true });
    // Idempotent: the flags are set once per process.
    expect(enableLinearRegExpFallback()).toBe(enableLinearRegExpFallback());
  });

  test('(a+)+$ on "a" x 40 + "!" completes in well under a second (2^40 steps without the fallback)', () => {
    const re = compileUserRegExp("(a+)+$");
    const started = performance.now();
    expect(re.test(`${"a".repeat(40)}!`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });

  test.each(["(a|a)+$", "(a|aa)+$", "(\\w+\\s?)+$", "(.*a){12}", "^(([a-z])+.)+[A-Z]([a-z])+$"])(
    "other exponential pattern %s is bounded too, on a 16 KiB hostile line",
    (source) => {
      let re: RegExp;
      try {
        re = compileUserRegExp(source);
      } catch (error) {
        // Refused at compile time is the other acceptable outcome: it can then never run.
        expect((error as UserRegExpError).problem).toBe("not-linear");
        return;
      }
      const started = performance.now();
      re.test(`${"a".repeat(16 * 1024)}!`);
      re.test(`${"ab ".repeat(30)}!`);
      expect(performance.now() - started).toBeLessThan(1_000);
    },
  );

  test("the fallback gives the same answers as backtracking would", () => {
    const re = compileUserRegExp("(a+)+b");
    expect(re.test(`${"a".repeat(30)}b`)).toBe(true);
    expect(re.test(`${"a".repeat(30)}c`)).toBe(false);
  });
});

describe("compileUserRegExp refuses what the linear engine cannot run", () => {
  test.each([
    ["(a)\\1", "backreference"],
    ["(?<x>a)\\k<x>", "named backreference"],
    ["foo(?=bar)", "lookahead"],
    ["foo(?!bar)", "negative lookahead"],
    ["\\d{1,30}", "large counted repetition"],
  ])("%s (%s) is not-linear, with a message that says how to fix it", (source) => {
    expect(problemOf(source)).toBe("not-linear");
    expect(() => compileUserRegExp(source)).toThrow(/linear time.*backreferences.*lookahead/);
  });

  test.each(["(?<=user=)\\w+", "(?<!x)ERROR", "\\bERROR\\b", "^START", "a{2,}", "\\d{4}-\\d\\d", "[^\\s]+@x"])(
    "%s is accepted (lookbehind, anchors, small counts are fine)",
    (source) => expect(problemOf(source)).toBeUndefined(),
  );

  test.each([
    ["(", /not a valid regular expression/],
    ["[a-", /not a valid regular expression/],
    ["*x", /not a valid regular expression/],
    ["(?s)a.b", /only a leading \(\?i\)/],
    ["a(?i)b", /only a leading \(\?i\)/],
  ])("a syntax error in %s is reported as such", (source, message) => {
    expect(problemOf(source)).toBe("syntax");
    expect(() => compileUserRegExp(source)).toThrow(message);
  });

  test("the V8 prefix is stripped from syntax errors, so the message reads as a rule", () => {
    expect(() => compileUserRegExp("(")).toThrow(/^is not a valid regular expression: [^/]/);
  });

  test("an empty pattern (matches every line) is refused", () => {
    expect(problemOf("")).toBe("empty");
  });

  test(`a pattern longer than ${MAX_PATTERN_LENGTH} characters is refused`, () => {
    expect(problemOf("a".repeat(MAX_PATTERN_LENGTH + 1))).toBe("too-long");
    expect(problemOf("a".repeat(MAX_PATTERN_LENGTH))).toBeUndefined();
  });

  test("the compiled expression carries no i/u flag (which would disable the fallback)", () => {
    expect(compileUserRegExp("(?i)error").flags).toBe("");
    expect(compileUserRegExp("token", "g").flags).toBe("g");
  });
});

describe("$ matches before a final line break (Lambda's text lines end with \\n)", () => {
  test.each([
    ["timed out$", "Task timed out\n", true],
    ["timed out$", "Task timed out\r\n", true],
    ["timed out$", "Task timed out", true],
    ["timed out$", "Task timed out\n\n", false],
    ["timed out$", "Task timed out after", false],
    ["^$", "\n", true],
    ["[$]5", "costs $5", true], // $ in a class stays a dollar
    ["\\$5", "costs $5\n", true], // an escaped $ stays a dollar
  ])("%j on %j → %s", (source, text, expected) => {
    expect(compileUserRegExp(source).test(text)).toBe(expected);
  });
});

describe("a leading (?i) matches ASCII letters in either case without the i flag", () => {
  const sources = [
    "error",
    "Task timed out",
    "[a-f]+x",
    "[^a-z]+",
    "[A-Z_]{2}",
    "[0-z]",
    "\\berror\\b",
    "\\d+ms",
    "\\x41b",
    "(?<name>abc)+",
    "(?:ab|cd)e",
    "(?<=key=)val",
    "\\cJ",
    "a\\u0062c",
    "[\\w-]+",
    "[\\x41-Z]",
    "[a-]",
    "[-a]+",
    "[^-a]",
    "[\\d-z]+",
    "\\Bx",
    "[\\]a]",
  ];
  const samples = [
    "ERROR",
    "error",
    "ErRoR",
    "task TIMED out",
    "ABCDEFX",
    "abc",
    "123",
    "0AZ_",
    "Ab",
    "key=VAL",
    "KEY=val",
    "\n",
    "ABC",
    "aBc",
    "cDe",
    "AB e",
    "20MS",
    "zz",
    "__",
    "[",
    "`",
    "^",
    "Ab",
    "b",
    "AB",
    "-",
    "A-",
    "9Z",
    "Bx",
    "]A",
    "\\",
  ];

  test.each(sources)("%s behaves like the i flag on every sample", (source) => {
    const folded = compileUserRegExp(`(?i)${source}`);
    const reference = new RegExp(source, "i");
    for (const sample of samples) expect([sample, folded.test(sample)]).toEqual([sample, reference.test(sample)]);
  });

  test("rewritePattern shows the folding", () => {
    expect(rewritePattern("ab", true)).toBe("[aA][bB]");
    expect(rewritePattern("[a-c]", true)).toBe("[a-cA-C]");
    expect(rewritePattern("[^xY]", true)).toBe("[^xYXy]");
    expect(rewritePattern("\\d\\x41(?<id>z)", true)).toBe("\\d[\\x41a](?<id>[zZ])");
    expect(rewritePattern("[a-]", true)).toBe("[a\\-A]"); // a trailing dash must not become a range
    expect(rewritePattern("$[$]", false)).toBe("(?:\\r?\\n)?$[$]");
    expect(rewritePattern("ab", false)).toBe("ab");
  });

  test("without (?i), case matters", () => {
    expect(compileUserRegExp("error").test("ERROR")).toBe(false);
  });
});

describe("combineAlternatives", () => {
  test("matches when any part matches, and only then", () => {
    const combined = combineAlternatives([compileUserRegExp("^ERROR"), compileUserRegExp("timed out$")])!;
    expect(combined.test("ERROR x")).toBe(true);
    expect(combined.test("x timed out\n")).toBe(true);
    expect(combined.test("x ERROR")).toBe(false);
  });

  test("alternatives inside one part stay inside it", () => {
    const combined = combineAlternatives([compileUserRegExp("^a|b$"), compileUserRegExp("c")])!;
    expect(combined.source).toBe("(?:^a|b(?:\\r?\\n)?$)|(?:c)");
  });

  test("one expression is returned as is; none gives undefined", () => {
    const re = compileUserRegExp("x");
    expect(combineAlternatives([re])).toBe(re);
    expect(combineAlternatives([])).toBeUndefined();
  });

  test("a combination that cannot compile (duplicate group names) gives undefined, for separate tests", () => {
    expect(combineAlternatives([compileUserRegExp("(?<n>a)"), compileUserRegExp("(?<n>b)")])).toBeUndefined();
  });
});
