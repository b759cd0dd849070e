import type { NormalizedLogEvent } from "../../../functions/logs/normalize";
import { buildRuleReport, truncateCodePoints } from "../../../functions/logs/report";
import { compileRules, type RuleMatch } from "../../../functions/logs/rules";
import { T0, textLine } from "./fixtures";

const [rule] = compileRules([{ name: "api-errors", include: ["ERROR"], notification_interval: 30 }]);
const [warningRule] = compileRules([{ name: "slow", include: ["slow"], status: "WARNING", redact: ["order-\\d+"] }]);

const codePoints = (text: string): number => [...text].length;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function sample(message: string, logGroup = "/aws/lambda/orders", offset = 0): NormalizedLogEvent {
  return { logGroup, logStream: "s", functionName: "orders", id: String(offset), timestamp: T0 + offset, message };
}

function matchOf(messages: string[], count = messages.length, groups = ["/aws/lambda/orders"]): RuleMatch {
  return {
    count,
    firstSamples: messages.map((m, i) => sample(m, groups[i % groups.length], i)),
    minuteCounts: new Map([[T0 / 1000, count]]),
    logGroups: new Set(groups),
    lastMatchAt: T0,
  };
}

describe("buildRuleReport", () => {
  test("names the check after the rule, with its status, interval and the time in whole seconds", () => {
    const report = buildRuleReport(rule!, matchOf([textLine("ERROR", "db down")]), T0 + 1_999);
    expect(report).toMatchObject({
      name: "api-errors",
      status: "CRITICAL",
      occurredAt: T0 / 1000 + 1,
      notificationInterval: 30,
    });
    const warning = buildRuleReport(warningRule!, matchOf(["slow"]), T0);
    expect(warning.status).toBe("WARNING");
    expect(Object.keys(warning)).not.toContain("notificationInterval");
  });

  test("message: count, log group, then one trimmed sample per line", () => {
    const report = buildRuleReport(rule!, matchOf(["ERROR one\n", "ERROR two\n"], 7), T0);
    expect(report.message).toBe("7 matching log events in /aws/lambda/orders — first samples:\nERROR one\nERROR two");
  });

  test("one match reads in the singular", () => {
    expect(buildRuleReport(rule!, matchOf(["ERROR x"]), T0).message).toMatch(/^1 matching log event in /);
  });

  test("a match without samples (e.g. merged counts) has the header only", () => {
    expect(buildRuleReport(rule!, matchOf([], 3), T0).message).toBe("3 matching log events in /aws/lambda/orders");
  });

  test("samples are redacted: built-ins and the rule's own patterns", () => {
    const report = buildRuleReport(
      warningRule!,
      matchOf(["slow login password=hunter2 for order-991 by a@b.example"]),
      T0,
    );
    expect(report.message).toContain(
      "slow login password=[REDACTED:password] for [REDACTED:custom] by [REDACTED:email]",
    );
    expect(report.message).not.toMatch(/hunter2|991|a@b/);
  });

  test("a multi-line sample (stack trace) stays on one line", () => {
    const report = buildRuleReport(rule!, matchOf(["ERROR boom\n    at f (a.js:1)\r\n    at g (b.js:2)\n"]), T0);
    expect(report.message.split("\n")[1]).toBe("ERROR boom ↵ at f (a.js:1) ↵ at g (b.js:2)");
  });

  test("several log groups: sorted, at most three named, samples prefixed with their group", () => {
    const groups = ["/b", "/a", "/d", "/c"];
    const report = buildRuleReport(rule!, matchOf(["ERROR 1", "ERROR 2"], 9, groups), T0);
    expect(report.message.split("\n")).toEqual([
      "9 matching log events in /a, /b, /c and 1 more — first samples:",
      "/b: ERROR 1",
      "/a: ERROR 2",
    ]);
  });

  test("every sample gets a share of the 1024 code points, so a huge first line cannot hide the rest", () => {
    const long = (tag: string) => `ERROR ${tag} ${"x".repeat(5_000)}`;
    const report = buildRuleReport(rule!, matchOf(["a", "b", "c", "d", "e"].map(long)), T0);
    expect(codePoints(report.message)).toBeLessThanOrEqual(1024);
    for (const tag of ["a", "b", "c", "d", "e"]) expect(report.message).toContain(`ERROR ${tag} x`);
    expect(report.message.split("\n")).toHaveLength(6);
  });

  test("emoji samples: at most 1024 code points (more UTF-16 units), no emoji split, cut marked with …", () => {
    const emoji = "😀".repeat(3_000);
    const report = buildRuleReport(rule!, matchOf([`ERROR ${emoji}`, `ERROR ${emoji}`]), T0);
    expect(codePoints(report.message)).toBeLessThanOrEqual(1024);
    expect(report.message.length).toBeGreaterThan(1024); // UTF-16 units: emoji are 2 each
    expect(report.message).not.toMatch(LONE_SURROGATE);
    expect(report.message).toContain("…");
  });

  test("multi-byte (CJK) samples are cut by code points, not bytes", () => {
    const report = buildRuleReport(rule!, matchOf([`ERROR ${"障害".repeat(2_000)}`]), T0);
    const count = codePoints(report.message);
    expect(count).toBeLessThanOrEqual(1024);
    expect(count).toBeGreaterThan(1000); // uses the room it has
    expect(report.message.endsWith("…")).toBe(true);
  });

  test("a secret in a huge line is redacted before the line is cut, with no lone surrogate", () => {
    const head = "ERROR password=hunter2 ";
    const report = buildRuleReport(rule!, matchOf([`${head}${"x".repeat(4000)}😀${"y".repeat(100_000)}`]), T0);
    expect(report.message).toContain("password=[REDACTED:password]");
    expect(report.message).not.toContain("hunter2");
    expect(report.message).not.toMatch(LONE_SURROGATE);
  });

  test("a private key block that runs past the cut is masked whole, not cut first", () => {
    const lines = Array.from({ length: 60 }, (_, i) => `MIIEow${String(i).padStart(2, "0")}${"Q".repeat(56)}`);
    const event = `ERROR key:\n-----BEGIN RSA PRIVATE KEY-----\n${lines.join("\n")}\n-----END RSA PRIVATE KEY-----\n done`;
    const report = buildRuleReport(rule!, matchOf([event]), T0);
    expect(report.message.split("\n")[1]).toBe("ERROR key: ↵ [REDACTED:private-key] ↵ done");
    expect(report.message).not.toContain("MIIEow");
  });
});

describe("truncateCodePoints", () => {
  test("exactly 1024 emoji (2048 UTF-16 units) are kept whole", () => {
    const text = "🎉".repeat(1024);
    expect(truncateCodePoints(text, 1024)).toBe(text);
  });

  test("1025 emoji are cut to 1023 emoji and the ellipsis: 1024 code points", () => {
    const cut = truncateCodePoints("🎉".repeat(1025), 1024);
    expect(codePoints(cut)).toBe(1024);
    expect(cut).toBe(`${"🎉".repeat(1023)}…`);
  });

  test("a surrogate pair at the cut is never split", () => {
    const cut = truncateCodePoints(`${"a".repeat(1022)}🎉🎉🎉`, 1024);
    expect(cut).toBe(`${"a".repeat(1022)}🎉…`);
    expect(cut).not.toMatch(LONE_SURROGATE);
  });

  test("text within the limit is returned unchanged; ASCII at the limit too", () => {
    expect(truncateCodePoints("short", 1024)).toBe("short");
    expect(truncateCodePoints("a".repeat(1024), 1024)).toBe("a".repeat(1024));
    expect(truncateCodePoints("a".repeat(1025), 1024)).toBe(`${"a".repeat(1023)}…`);
  });

  test("a limit of 1 leaves only the ellipsis", () => {
    expect(truncateCodePoints("ab", 1)).toBe("…");
  });
});
