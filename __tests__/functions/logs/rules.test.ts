/**
 * Log rules against decoded payloads (functions/logs/rules.ts, rule-matcher.ts): the text a rule sees,
 * include/exclude, counts, samples and minute buckets, and worst-case inputs.
 */
import { decodeSubscriptionEvent, type LogEvent, type SubscriptionPayload } from "../../../functions/logs/decode";
import { addToMinute, epochMinuteSeconds, mergeMinuteCounts } from "../../../functions/logs/minutes";
import { MAX_MATCH_CHARS } from "../../../functions/shared/user-regexp";
import { compileRules, evaluate, ruleMatchesText, textToMatch, type CompiledRule } from "../../../functions/logs/rules";
import { jsonLine, makeSubscriptionEvent, requestId, T0, textLine } from "./fixtures";

function payloadOf(logGroup: string, messages: readonly (string | { message: string; timestamp: number })[]) {
  const events: LogEvent[] = messages.map((m, i) =>
    typeof m === "string" ? { id: String(i), timestamp: T0 + i * 1000, message: m } : { id: String(i), ...m },
  );
  return { logGroup, logStream: "stream-1", logEvents: events };
}

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
