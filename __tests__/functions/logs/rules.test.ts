import { decodeSubscriptionEvent, type LogEvent, type SubscriptionPayload } from "../../../functions/logs/decode";
import { addToMinute, epochMinuteSeconds, mergeMinuteCounts } from "../../../functions/logs/minutes";
import { LogRuleConfigError } from "../../../functions/shared/errors";
import { MAX_MATCH_CHARS } from "../../../functions/shared/user-regexp";
import {
  compileRules,
  evaluate,
  globMatch,
  RULE_DEFAULTS,
  ruleMatchesText,
  rulesForLogGroup,
  textToMatch,
  type CompiledRule,
} from "../../../functions/logs/rules";
import { jsonLine, makeSubscriptionEvent, requestId, T0, textLine } from "./fixtures";

/** The error compileRules throws for `raw` (fails the test when it does not throw). */
function configError(raw: unknown): LogRuleConfigError {
  try {
    compileRules(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(LogRuleConfigError);
    return error as LogRuleConfigError;
  }
  throw new Error("compileRules accepted an invalid configuration");
}

function payloadOf(logGroup: string, messages: readonly (string | { message: string; timestamp: number })[]) {
  const events: LogEvent[] = messages.map((m, i) =>
    typeof m === "string" ? { id: String(i), timestamp: T0 + i * 1000, message: m } : { id: String(i), ...m },
  );
  return { logGroup, logStream: "stream-1", logEvents: events };
}

describe("compileRules: valid configurations", () => {
  test("defaults fill the optional fields", () => {
    const [rule] = compileRules([{ name: "errors", include: ["ERROR"] }]);
    expect(rule).toMatchObject({
      name: "errors",
      status: "CRITICAL",
      recoverAfterMinutes: 10,
      maxSamples: 5,
      notificationInterval: undefined,
      logGroups: undefined,
      include: ["ERROR"],
      exclude: [],
    });
    expect(RULE_DEFAULTS).toEqual({ status: "CRITICAL", recoverAfterMinutes: 10, maxSamples: 5 });
  });

  test("Terraform's nulls for unset optional attributes mean the defaults", () => {
    const [rule] = compileRules([
      {
        name: "errors",
        log_groups: null,
        include: ["ERROR"],
        exclude: null,
        status: null,
        recover_after_minutes: null,
        max_samples: null,
        notification_interval: null,
        redact: null,
      },
    ]);
    expect(rule).toMatchObject({ status: "CRITICAL", recoverAfterMinutes: 10, maxSamples: 5, logGroups: undefined });
    expect(rule!.appliesTo("/anything")).toBe(true);
  });

  test("every field is taken as given", () => {
    const [rule] = compileRules([
      {
        name: "api_5xx-v2",
        log_groups: ["/aws/lambda/api-*"],
        include: ["status=5\\d\\d"],
        exclude: ["healthcheck"],
        status: "WARNING",
        recover_after_minutes: 30,
        max_samples: 20,
        notification_interval: 60,
        redact: ["customer-\\d+"],
      },
    ]);
    expect(rule).toMatchObject({
      name: "api_5xx-v2",
      status: "WARNING",
      recoverAfterMinutes: 30,
      maxSamples: 20,
      notificationInterval: 60,
      logGroups: ["/aws/lambda/api-*"],
    });
    expect(rule!.redact("customer-42 failed")).toBe("[REDACTED:custom] failed");
  });

  test("the JSON text of the list (as an environment variable holds it) is accepted", () => {
    const rules = compileRules('[{"name":"a","include":["x"]},{"name":"b","include":["y"]}]');
    expect(rules.map((r) => r.name)).toEqual(["a", "b"]);
  });

  test("an empty list is valid: no rules", () => {
    expect(compileRules([])).toEqual([]);
  });
});

describe("compileRules: every problem names the rule, the field and the rule broken", () => {
  test.each([
    [[{ include: ["x"] }], /^log_rules\[0\]\.name: is required/],
    [
      [{ name: "logs.errors", include: ["x"] }],
      /^log_rules\[0\] \("logs\.errors"\)\.name: must be 1–64 characters of a-zA-Z0-9_-/,
    ],
    [[{ name: "a".repeat(65), include: ["x"] }], /\.name: must be 1–64 characters/],
    [[{ name: "e" }], /^log_rules\[0\] \("e"\)\.include: must be a list of regular expressions/],
    [[{ name: "e", include: [] }], /\("e"\)\.include: must list at least one regular expression/],
    [[{ name: "e", include: "ERROR" }], /\.include: must be a list of regular expressions/],
    [[{ name: "e", include: [42] }], /\.include\[0\]: must be a string/],
    [[{ name: "e", include: ["x"], status: "OK" }], /\.status: must be WARNING or CRITICAL/],
    [[{ name: "e", include: ["x"], status: "critical" }], /\.status: must be WARNING or CRITICAL/],
    [[{ name: "e", include: ["x"], recover_after_minutes: 0 }], /\.recover_after_minutes: must be at least 1/],
    [[{ name: "e", include: ["x"], recover_after_minutes: 1.5 }], /\.recover_after_minutes: must be whole minutes/],
    [[{ name: "e", include: ["x"], max_samples: 0 }], /\.max_samples: must be at least 1/],
    [[{ name: "e", include: ["x"], max_samples: 21 }], /\.max_samples: must be at most 20/],
    [[{ name: "e", include: ["x"], notification_interval: 5 }], /\.notification_interval: must be at least 10 minutes/],
    [[{ name: "e", include: ["x"], log_groups: [] }], /\.log_groups: must list at least one glob/],
    [
      [{ name: "e", include: ["x"], log_groups: ["/aws/lambda/(a|b)"] }],
      /\.log_groups\[0\]: must be a log group name glob/,
    ],
    [[{ name: "e", include: ["x"], log_groups: "/aws/*" }], /\.log_groups: must be a list of log group name globs/],
    [
      [{ name: "e", include: ["x"], includes: ["y"] }],
      /^log_rules\[0\] \("e"\)\.includes: is not a known field \(known: name, log_groups, include/,
    ],
    [["errors"], /^log_rules\[0\]: must be an object/],
    [{ name: "e", include: ["x"] }, /^log_rules: must be a list of rules/],
    ["[{not json", /^log_rules: is not valid JSON/],
  ])("%j → %s", (raw, message) => {
    expect(configError(raw).message).toMatch(message);
  });

  test("a regex syntax error names its position in the list", () => {
    const error = configError([
      { name: "ok", include: ["x"] },
      { name: "bad", include: ["ERROR", "(unclosed"] },
    ]);
    expect(error.message).toMatch(
      /^log_rules\[1\] \("bad"\)\.include\[1\]: is not a valid RE2 regular expression: missing closing \)/,
    );
    expect(error.issues).toEqual([expect.objectContaining({ index: 1, rule: "bad", field: "include[1]" })]);
  });

  test("what RE2 refuses (backreferences, lookaround) is refused, in exclude and redact too, one issue each", () => {
    const error = configError([{ name: "r", include: ["(a)\\1"], exclude: ["x(?=y)"], redact: ["(?<!x)y"] }]);
    expect(error.issues.map((i) => i.field)).toEqual(["include[0]", "exclude[0]", "redact[0]"]);
    for (const issue of error.issues) expect(issue.problem).toMatch(/^is not a valid RE2 regular expression: /);
    // RE2 syntax that the previous (V8) engine refused now runs: a counted repetition above 16.
    expect(compileRules([{ name: "r", include: ["\\d{1,40}"] }])).toHaveLength(1);
  });

  test("duplicate names are refused, pointing at the first", () => {
    const error = configError([
      { name: "errors", include: ["x"] },
      { name: "other", include: ["y"] },
      { name: "errors", include: ["z"] },
    ]);
    expect(error.message).toBe('log_rules[2] ("errors").name: duplicates the name of log_rules[0]');
  });

  test("every problem of every rule is listed at once", () => {
    const error = configError([
      { name: "a", include: [] },
      { name: "b", include: ["x"], status: "BAD", max_samples: 99 },
    ]);
    expect(error.issues.map((i) => `${i.index}:${i.field}`)).toEqual(["0:include", "1:status", "1:max_samples"]);
    expect(error.message.split("; ")).toHaveLength(3);
  });

  test("LogRuleConfigError keeps its name (minified bundles rename classes) and is an Error", () => {
    const error = configError([{}]);
    expect(error.name).toBe("LogRuleConfigError");
    expect(error).toBeInstanceOf(Error);
  });
});

describe("log group globs", () => {
  test.each([
    ["/aws/lambda/*", "/aws/lambda/orders", true],
    ["/aws/lambda/*", "/aws/lambda/", true],
    ["/aws/lambda/*", "/aws/ecs/orders", false],
    ["*", "/anything/at/all", true],
    ["/aws/lambda/api-?", "/aws/lambda/api-1", true],
    ["/aws/lambda/api-?", "/aws/lambda/api-12", false],
    ["/aws/*/orders", "/aws/lambda/orders", true],
    ["/aws/*/orders", "/aws/lambda/x/orders", true], // * crosses / (log group names are not paths)
    ["*orders*", "/aws/lambda/my-orders-v2", true],
    ["/aws/lambda/orders", "/aws/lambda/orders", true],
    ["/aws/lambda/orders", "/aws/lambda/orders-v2", false],
    ["/aws/lambda/order", "/aws/lambda/orders", false],
    ["a*b*c", "aXbYbZc", true],
    ["a*b*c", "aXbYbZ", false],
    ["**", "", true],
  ])("%s matches %s: %s", (glob, name, expected) => {
    expect(globMatch(glob, name)).toBe(expected);
  });

  test("a glob full of stars against a long name does not blow up", () => {
    const started = performance.now();
    expect(globMatch(`${"*a".repeat(50)}b`, "a".repeat(512))).toBe(false);
    expect(performance.now() - started).toBeLessThan(100);
  });

  test("rulesForLogGroup keeps configuration order; a rule without log_groups applies everywhere", () => {
    const rules = compileRules([
      { name: "lambda", include: ["x"], log_groups: ["/aws/lambda/*"] },
      { name: "all", include: ["x"] },
      { name: "ecs", include: ["x"], log_groups: ["/ecs/*", "/aws/ecs/*"] },
    ]);
    expect(rulesForLogGroup(rules, "/aws/lambda/f").map((r) => r.name)).toEqual(["lambda", "all"]);
    expect(rulesForLogGroup(rules, "/aws/ecs/web").map((r) => r.name)).toEqual(["all", "ecs"]);
  });
});

describe("textToMatch and ruleMatchesText", () => {
  test("short lines are used as they are; one final line break is not part of the text (RE2's $ is the end)", () => {
    const line = "x".repeat(100);
    expect(textToMatch(line)).toBe(line);
    expect(textToMatch("ends with newline\n")).toBe("ends with newline");
    expect(textToMatch("ends with CRLF\r\n")).toBe("ends with CRLF");
    expect(textToMatch("two\n\n")).toBe("two\n");
    expect(textToMatch("\n")).toBe("");
  });

  test(`only the first ${MAX_MATCH_CHARS} characters are matched`, () => {
    const [rule] = compileRules([{ name: "r", include: ["NEEDLE"] }]);
    const early = `NEEDLE${"x".repeat(100_000)}`;
    const late = `${"x".repeat(MAX_MATCH_CHARS)}NEEDLE`;
    expect(textToMatch(late)).toHaveLength(MAX_MATCH_CHARS);
    expect(ruleMatchesText(rule!, textToMatch(early))).toBe(true);
    expect(ruleMatchesText(rule!, textToMatch(late))).toBe(false);
  });

  test("exclude wins over include", () => {
    const [rule] = compileRules([{ name: "r", include: ["ERROR"], exclude: ["healthcheck", "expected"] }]);
    expect(ruleMatchesText(rule!, "ERROR db down")).toBe(true);
    expect(ruleMatchesText(rule!, "ERROR healthcheck failed")).toBe(false);
    expect(ruleMatchesText(rule!, "ERROR (expected) retry")).toBe(false);
    expect(ruleMatchesText(rule!, "healthcheck ok")).toBe(false);
  });
});

describe("evaluate", () => {
  const rules = compileRules([
    { name: "errors", include: ["\\tERROR\\t", '"level":"ERROR"'], exclude: ["healthcheck"], max_samples: 2 },
    { name: "timeouts", include: ["Task timed out after [\\d.]+ seconds$"] },
    { name: "ecs-only", include: ["ERROR"], log_groups: ["/ecs/*"] },
    { name: "any-case", include: ["(?i)out of memory"] },
  ]);

  test("counts, samples, minute buckets, log groups and last match per matching rule", () => {
    const payload = payloadOf("/aws/lambda/orders", [
      { message: textLine("INFO", "fine", 1), timestamp: T0 + 1_000 },
      { message: textLine("ERROR", "db down", 2), timestamp: T0 + 2_000 },
      { message: jsonLine("ERROR", "payment failed", 3), timestamp: T0 + 59_999 },
      { message: textLine("ERROR", "again", 4), timestamp: T0 + 60_000 },
      {
        message: `2023-11-14T22:13:20.000Z ${requestId(5)} Task timed out after 3.00 seconds\n`,
        timestamp: T0 + 61_000,
      },
    ]);
    const matches = evaluate(rules, payload);
    expect([...matches.keys()]).toEqual(["errors", "timeouts"]);

    const errors = matches.get("errors")!;
    expect(errors.count).toBe(3);
    expect(errors.firstSamples.map((s) => s.timestamp)).toEqual([T0 + 2_000, T0 + 59_999]); // max_samples 2
    expect(errors.firstSamples[0]).toMatchObject({
      logGroup: "/aws/lambda/orders",
      logStream: "stream-1",
      functionName: "orders",
      level: "ERROR",
      requestId: requestId(2),
    });
    expect(errors.firstSamples[1]).toMatchObject({ level: "ERROR", requestId: requestId(3) });
    const minute = epochMinuteSeconds(T0);
    expect([...errors.minuteCounts]).toEqual([
      [minute, 2],
      [minute + 60, 1],
    ]);
    expect(errors.logGroups).toEqual(new Set(["/aws/lambda/orders"]));
    expect(errors.lastMatchAt).toBe(T0 + 60_000);

    const timeouts = matches.get("timeouts")!;
    expect(timeouts).toMatchObject({ count: 1, lastMatchAt: T0 + 61_000 });
    expect(timeouts.firstSamples[0]!.requestId).toBe(requestId(5));
  });

  test("exclude wins: excluded lines are not counted", () => {
    const matches = evaluate(
      rules,
      payloadOf("/aws/lambda/x", [textLine("ERROR", "healthcheck failed"), textLine("ERROR", "real")]),
    );
    expect(matches.get("errors")!.count).toBe(1);
    expect(matches.get("errors")!.firstSamples[0]!.message).toContain("real");
  });

  test("log group globs decide which rules apply", () => {
    const lambda = evaluate(rules, payloadOf("/aws/lambda/x", ["ERROR in plain text"]));
    const ecs = evaluate(rules, payloadOf("/ecs/web", ["ERROR in plain text"]));
    expect(lambda.size).toBe(0);
    expect([...ecs.keys()]).toEqual(["ecs-only"]);
  });

  test("(?i) rules match any ASCII case", () => {
    const matches = evaluate(
      rules,
      payloadOf("/aws/lambda/x", ["FATAL: Out Of Memory", "JavaScript heap OUT OF MEMORY", "out of mem"]),
    );
    expect(matches.get("any-case")!.count).toBe(2);
  });

  test("no events, or no matching line, gives an empty map", () => {
    expect(evaluate(rules, payloadOf("/aws/lambda/x", [])).size).toBe(0);
    expect(evaluate(rules, payloadOf("/aws/lambda/x", [textLine("INFO", "all good")])).size).toBe(0);
    expect(evaluate([], payloadOf("/aws/lambda/x", [textLine("ERROR", "x")])).size).toBe(0);
  });

  test("lastMatchAt is the latest timestamp even when events arrive out of order", () => {
    const matches = evaluate(
      rules,
      payloadOf("/aws/lambda/x", [
        { message: textLine("ERROR", "b"), timestamp: T0 + 5_000 },
        { message: textLine("ERROR", "a"), timestamp: T0 + 1_000 },
      ]),
    );
    expect(matches.get("errors")!.lastMatchAt).toBe(T0 + 5_000);
  });

  test("an event matched by two rules is normalized once and shared", () => {
    const twoRules = compileRules([
      { name: "a", include: ["boom"] },
      { name: "b", include: ["oom"] },
    ]);
    const matches = evaluate(twoRules, payloadOf("/x", ["boom"]));
    expect(matches.get("a")!.firstSamples[0]).toBe(matches.get("b")!.firstSamples[0]);
  });

  test("rules with several include patterns (the same group name in each) match correctly", () => {
    const separate = compileRules([
      { name: "a", include: ["(?<code>E1)", "(?<code>E2)"] },
      { name: "b", include: ["(?<code>E3)"] },
    ]);
    expect(separate[0]!.includePatterns).toHaveLength(2);
    const matches = evaluate(separate, payloadOf("/x", ["E1", "E2", "E3", "E4"]));
    expect(matches.get("a")!.count).toBe(2);
    expect(matches.get("b")!.count).toBe(1);
  });

  test("a hostile payload against a catastrophic user regex finishes quickly (linear fallback)", () => {
    const hostile = compileRules([
      { name: "evil", include: ["(a+)+$"] },
      { name: "other", include: ["ERROR"] },
    ]);
    const lines = Array.from({ length: 200 }, () => `${"a".repeat(40)}!`);
    const started = performance.now();
    const matches = evaluate(hostile, payloadOf("/x", lines));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(matches.size).toBe(0);
  });

  test("10,000 events with 10 rules: the same counts as testing every rule on every line naively", () => {
    const tenRules = compileRules([
      { name: "errors", include: ["\\tERROR\\t", '"level":"(?:ERROR|FATAL)"'], exclude: ["healthcheck"] },
      { name: "timeouts", include: ["Task timed out after"] },
      { name: "runtime", include: ["Runtime exited", "Runtime\\.ExitError"] },
      { name: "oom", include: ["(?i)out of memory"] },
      { name: "panic", include: ["^panic:", "goroutine \\d+ \\[running\\]"] },
      { name: "python", include: ["Traceback \\(most recent call last\\)"] },
      { name: "http5xx", include: ["status(?:Code)?[=:] ?5\\d\\d"] },
      { name: "throttle", include: ["ThrottlingException", "Rate exceeded"] },
      { name: "ddb", include: ["ConditionalCheckFailed"], log_groups: ["/aws/lambda/*"] },
      { name: "ecs", include: ["FATAL"], log_groups: ["/ecs/*"] },
    ]);
    const kinds = [
      (i: number) => textLine("INFO", `processed order ${i}`, i),
      (i: number) => jsonLine(i % 97 === 0 ? "ERROR" : "INFO", `step ${i}`, i),
      (i: number) => textLine("ERROR", i % 3 === 0 ? "healthcheck failed" : `status=50${i % 4} from upstream`, i),
      (i: number) => `START RequestId: ${requestId(i)} Version: $LATEST\n`,
      (i: number) =>
        i % 11 === 0 ? `panic: runtime error ${i}` : `REPORT RequestId: ${requestId(i)}\tDuration: 1.00 ms\n`,
      (i: number) => (i % 13 === 0 ? "JavaScript heap Out Of Memory" : `Rate limit fine ${i}`),
    ];
    const messages = Array.from({ length: 10_000 }, (_, i) => kinds[i % kinds.length]!(i));
    const decoded = decodeSubscriptionEvent(
      makeSubscriptionEvent({ logGroup: "/aws/lambda/orders", events: messages }),
    );
    expect(decoded.kind).toBe("data");
    const payload = (decoded as { payload: SubscriptionPayload }).payload;

    const matches = evaluate(tenRules, payload);

    const naive = (rule: CompiledRule) =>
      rule.appliesTo(payload.logGroup)
        ? messages.filter(
            (m) =>
              rule.include.some((p) => new RegExp(p.replace("(?i)", ""), p.startsWith("(?i)") ? "i" : "").test(m)) &&
              !rule.exclude.some((p) => new RegExp(p).test(m)),
          ).length
        : 0;
    for (const rule of tenRules)
      expect([rule.name, matches.get(rule.name)?.count ?? 0]).toEqual([rule.name, naive(rule)]);
    expect(matches.get("errors")!.count).toBeGreaterThan(1000);
    expect(matches.get("oom")!.count).toBeGreaterThan(0);
    for (const match of matches.values()) expect(match.firstSamples.length).toBeLessThanOrEqual(5);
  });
});

describe("minute buckets", () => {
  test("epochMinuteSeconds floors milliseconds to the minute, in seconds", () => {
    expect(epochMinuteSeconds(1_700_000_059_999)).toBe(1_700_000_040);
    expect(epochMinuteSeconds(1_700_000_040_000)).toBe(1_700_000_040);
    expect(epochMinuteSeconds(0)).toBe(0);
    expect(epochMinuteSeconds(1_700_000_040_000) % 60).toBe(0);
  });

  test("addToMinute and mergeMinuteCounts sum per minute", () => {
    const a = new Map<number, number>();
    addToMinute(a, T0);
    addToMinute(a, T0 + 59_000, 2);
    addToMinute(a, T0 + 60_000);
    const b = new Map([[epochMinuteSeconds(T0), 10]]);
    expect([...mergeMinuteCounts(a, b)]).toEqual([
      [epochMinuteSeconds(T0), 13],
      [epochMinuteSeconds(T0) + 60, 1],
    ]);
  });
});
