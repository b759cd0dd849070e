/**
 * The `log_rules` configuration (functions/logs/rule-config.ts): defaults, Terraform's nulls, every problem
 * named with its rule, field and the rule broken, and the log group globs.
 */
import { LogRuleConfigError } from "../../../functions/shared/errors";
import { compileRules, globMatch, RULE_DEFAULTS, rulesForLogGroup } from "../../../functions/logs/rules";

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
