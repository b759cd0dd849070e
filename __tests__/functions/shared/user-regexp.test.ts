import {
  compileUserPattern,
  MAX_PATTERN_LENGTH,
  passesPrefilter,
  requiredLiterals,
} from "../../../functions/shared/user-regexp";
import { UserRegExpError } from "../../../functions/shared/errors";
import { RE2JS } from "re2js";

function problemOf(source: string): string | undefined {
  try {
    compileUserPattern(source);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(UserRegExpError);
    return (error as UserRegExpError).problem;
  }
}

/** A 16 KiB line of text that almost matches (the shape that makes backtracking engines explode). */
const hostile = (unit: string, tail = "!") => `${unit.repeat(Math.ceil((16 * 1024) / unit.length))}${tail}`;

describe("linear time on hostile input, through every engine path", () => {
  test.each([
    ["(a+)+$", hostile("a")],
    ["(a|a)+$", hostile("a")],
    ["(a|aa)+$", hostile("a")],
    ["(\\w+\\s?)+$", hostile("word ")],
    ["(.*a){12}", hostile("b", "a")],
    ["(.*a){12}", hostile("ab ")],
    [".*ERROR.*", hostile("ERRO")],
    [".*[Tt]imeout.*", hostile("Timeou")],
    ["^(([a-z])+.)+[A-Z]([a-z])+$", hostile("ab ")],
    ["(?i)(x+x+)+y", hostile("X")],
    ["(?i)error|warn(ing)?|fatal", hostile("erro warnin fata ")],
    ["(\\pL+\\d?)+€$", hostile("é")],
    ["(😀+)+x", hostile("😀")],
    ["(a{1,1000}){1}b", hostile("a")],
    ["(?s)(.*\\n){3}.*FATAL", hostile("line\n")],
  ])("%s on a 16 KiB near-miss line takes milliseconds", (source, line) => {
    const pattern = compileUserPattern(source);
    const started = performance.now();
    for (let i = 0; i < 5; i++) pattern.test(line);
    expect(performance.now() - started).toBeLessThan(500);
  });

  test("answers are RE2's (a match at the end of a long line is found)", () => {
    expect(compileUserPattern("(a+)+b").test(`${"a".repeat(30)}b`)).toBe(true);
    expect(compileUserPattern("(a+)+b").test(`${"a".repeat(30)}c`)).toBe(false);
    expect(compileUserPattern("(.*a){12}").test("a".repeat(12))).toBe(true);
    expect(compileUserPattern("(.*a){12}").test("a".repeat(11))).toBe(false);
  });
});

describe("RE2 syntax and semantics (what Terraform's regex() accepts is what runs)", () => {
  test.each([
    ["(a)\\1", /invalid escape sequence: `\\1`/],
    ["foo(?=bar)", /invalid or unsupported Perl syntax: `\(\?=`/],
    ["foo(?!bar)", /invalid or unsupported Perl syntax/],
    ["(?<=user=)\\w+", /invalid named capture/],
    ["(", /missing closing \)/],
    ["[a-", /missing closing \]/],
    ["*x", /missing argument to repetition operator/],
    ["a{1001}", /invalid repeat count/],
    ["\\Z", /invalid escape sequence/],
  ])("%s is refused with RE2's reason", (source, reason) => {
    expect(problemOf(source)).toBe("syntax");
    expect(() => compileUserPattern(source)).toThrow(reason);
    expect(() => compileUserPattern(source)).toThrow(/^is not a valid RE2 regular expression: /);
  });

  test.each([
    "(?s)a.b",
    "a(?i)b",
    "\\pL+",
    "\\p{Greek}",
    "[[:alpha:]]+",
    "\\Qa.b\\E",
    "\\d{1,30}",
    "a{1000}",
    "(?P<n>a)",
    "(?<n>a)",
    "\\A\\z",
    "(?U)a+",
  ])("%s (RE2 syntax the old engine refused) is accepted", (source) => expect(problemOf(source)).toBeUndefined());

  test.each([
    ["timed out$", "Task timed out", true],
    ["timed out$", "Task timed out\n", false], // $ is the end of the text; the log rules strip a final \n
    ["(?m)timed out$", "Task timed out\nnext", true],
    ["^a.c$", "a\nc", false],
    ["(?s)^a.c$", "a\nc", true],
    ["(?i)error", "ERROR", true],
    ["(?i)k", "\u212a", true], // KELVIN SIGN folds to k in RE2
    ["(?i)s", "\u017f", true], // LONG S folds to s
    ["a(?i)b", "aB", true],
    ["a(?i)b", "AB", false],
    ["^.$", "😀", true], // one code point, not two UTF-16 units
    ["\\pL", "é", true],
    ["[[:digit:]]+", "x42", true],
    ["\\Qa.b\\E", "axb", false],
    ["\\Qa.b\\E", "a.b", true],
    ["\\d{1,30}", "abc 7", true],
  ])("%j on %j → %s", (source, text, expected) => {
    expect(compileUserPattern(source).test(text)).toBe(expected);
  });

  test("a pattern with a leading literal is tried at each occurrence, overlapping ones too, then searched", () => {
    expect(compileUserPattern("aa[b]").test("aaab")).toBe(true); // occurrences of "aa" at 0 and 1
    expect(compileUserPattern("ab+c").test(`${"ab ".repeat(10)}abbbc`)).toBe(true); // past the tries
    expect(compileUserPattern("ab+c").test(`${"ab ".repeat(10)}abd`)).toBe(false);
    expect(compileUserPattern("(?m)x\\d$").test("y\nx1\nz")).toBe(true);
    expect(compileUserPattern("(?m)x\\d^").test("x1\n")).toBe(false);
  });

  test("an empty pattern (matches every line) is refused", () => {
    expect(problemOf("")).toBe("empty");
  });

  test(`a pattern longer than ${MAX_PATTERN_LENGTH} characters is refused`, () => {
    expect(problemOf("a".repeat(MAX_PATTERN_LENGTH + 1))).toBe("too-long");
    expect(problemOf("a".repeat(MAX_PATTERN_LENGTH))).toBeUndefined();
  });

  test("replaceAll replaces every match literally ($ in the replacement is not special)", () => {
    const pattern = compileUserPattern("token-[0-9]+");
    expect(pattern.replaceAll("a token-1 b token-22", "$&[R]$1")).toBe("a $&[R]$1 b $&[R]$1");
    expect("x token-3 y".replace(pattern, "[REDACTED]")).toBe("x [REDACTED] y");
    expect(pattern.replaceAll(`${"token-9 ".repeat(10_000)}`, "R")).toBe("R ".repeat(10_000));
  });

  test("a pattern without metacharacters answers as RE2 does without compiling it (test and replaceAll)", () => {
    const texts = ["", "aa", "aaa", "xaaay", "a-b a-b", "é😀é", "$&$1", "aXa", "ERROR\nERROR", "Ka\u212a"];
    for (const source of ["a", "aa", "a-b", "é", "😀", "$&", "ERROR", "K", "x y", "\u212a"]) {
      const pattern = compileUserPattern(source);
      const re = RE2JS.compile(source);
      for (const text of texts) {
        expect({ source, text, test: pattern.test(text) }).toEqual({ source, text, test: re.test(text) });
        expect({ source, text, out: pattern.replaceAll(text, "[$1]") }).toEqual({
          source,
          text,
          out: re.matcher(text).replaceAll(() => "[$1]"),
        });
      }
    }
    // Surrogates go to the engine (RE2 judges lone ones itself).
    expect(compileUserPattern("😀").plain).toBe(false);
    expect(compileUserPattern("Task timed out").plain).toBe(true);
  });
});

describe("required literals (the prefilter)", () => {
  test.each([
    ["ERROR", ["ERROR"]],
    [".*ERROR.*", ["ERROR"]],
    ["timeout after [0-9]+ ms", ["timeout after "]],
    ["status=5[0-9][0-9]", ["status=5"]],
    ["Task timed out", ["Task timed out"]],
    ["panic:", ["panic:"]],
    ["ERROR|FATAL", ["ERROR", "FATAL"]],
    ["colou?r", ["colo"]],
    ["ab+c", ["ab"]],
    ["(?i)Error", ["error"]],
    ["(?i)Timeout", ["timeout"]],
    ["a\\.b", ["a.b"]],
    ["\\Qa|b\\Exyz", ["xyz"]], // the | inside \Q…\E is no alternative
    ["😀+x", ["😀"]],
    ["x😀?", ["x"]],
  ])("%s requires one of %j", (source, anyOf) => {
    expect(requiredLiterals(source)?.anyOf).toEqual(anyOf);
  });

  test("(?i) literals are lower case and exclude k and s (RE2 folds them with non-ASCII letters)", () => {
    expect(requiredLiterals("(?i)OutOfMemory")).toEqual({ anyOf: ["outofmemory"], foldCase: true });
    expect(requiredLiterals("(?i)Task timed out")).toEqual({ anyOf: [" timed out"], foldCase: true });
    expect(requiredLiterals("(?i)sks")).toBeUndefined();
  });

  test.each(["\\d+", "^.*$", "a?", "[abc]", "(ERROR)", "ERROR|\\d", "a(?i)b", "(?-s)x", ".", "\\Qa|b\\E|xyz"])(
    "%s has no known required literal (the regex always runs)",
    (source) => expect(requiredLiterals(source)).toBeUndefined(),
  );

  test("passesPrefilter", () => {
    expect(passesPrefilter(requiredLiterals("ERROR"), "an ERROR here")).toBe(true);
    expect(passesPrefilter(requiredLiterals("ERROR"), "an error here")).toBe(false);
    expect(passesPrefilter(requiredLiterals("(?i)error"), "an ErRoR here")).toBe(true);
    expect(passesPrefilter(undefined, "anything")).toBe(true);
  });
});

describe("the engine is loaded on first need only (cold start)", () => {
  test("plain words and patterns of the V8 subset never load re2js; the first other pattern does", () => {
    let loaded = 0;
    jest.isolateModules(() => {
      jest.doMock("re2js", () => {
        loaded++;
        return jest.requireActual("re2js");
      });
      const fresh =
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy of the module, in isolation
        require("../../../functions/shared/user-regexp") as typeof import("../../../functions/shared/user-regexp");
      for (const word of ["ERROR", "Task timed out", "HealthCheck", "panic:"]) fresh.compileUserPattern(word);
      expect(loaded).toBe(0);
      const v8 = fresh.compileUserPattern("status=5[0-9][0-9]");
      expect(v8.test("x status=503 y")).toBe(true);
      expect(v8.replaceAll("x status=503 y", "R")).toBe("x R y");
      expect(loaded).toBe(0);
      expect(fresh.compileUserPattern("status=5[0-9]{2}|timeout").test("x status=503 y")).toBe(true);
      expect(loaded).toBe(1);
    });
  });
});
