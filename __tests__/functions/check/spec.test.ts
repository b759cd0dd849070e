/** The check function's input: shapes, null as absent, documented defaults, errors that name the field. */
import { MackerelValidationError } from "../../../functions/shared/errors";
import { compileRegex, parseCheckEvent, parseCheckSpec } from "../../../functions/check/spec";
import { CheckInputError } from "../../../functions/shared/errors";
import type { UserPattern } from "../../../functions/shared/user-regexp";

/** What Terraform sends for an item with only the required attributes: every optional one is null. */
const tfHttp = {
  kind: "http",
  name: "api-health",
  schedule: null,
  url: "https://api.example.com/health",
  method: null,
  headers: null,
  expected_status: null,
  body_contains: null,
  body_regex: null,
  timeout_seconds: null,
  warning_latency_ms: null,
  critical_latency_ms: null,
  follow_redirects: null,
  notification_interval: null,
  max_check_attempts: null,
};

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MackerelValidationError);
    expect((error as Error).name).toBe("MackerelValidationError");
    return [...(error as MackerelValidationError).issues];
  }
  throw new Error("expected a validation error");
}

describe("parseCheckEvent", () => {
  test("a Terraform-shaped http check: nulls are absent and the defaults apply", () => {
    const event = parseCheckEvent({ check: tfHttp });
    expect(event).toEqual({
      type: "check",
      spec: {
        kind: "http",
        name: "api-health",
        url: "https://api.example.com/health",
        method: "GET",
        headers: {},
        expectedStatus: [200],
        bodyContains: undefined,
        bodyRegex: undefined,
        timeoutSeconds: 10,
        warningLatencyMs: undefined,
        criticalLatencyMs: undefined,
        followRedirects: true,
      },
    });
  });

  test("logs_insights defaults: window 5, offset 0, direction above", () => {
    const { spec } = parseCheckEvent({
      check: {
        kind: "logs_insights",
        name: "errors",
        log_group_names: ["/aws/lambda/app"],
        query: "stats count(*) by level",
        window_minutes: null,
        offset_minutes: null,
        direction: null,
        warning: null,
        critical: 10,
        value_field: null,
      },
    }) as unknown as { spec: Record<string, unknown> };
    expect(spec).toMatchObject({ windowMinutes: 5, offsetMinutes: 0, direction: "above", critical: 10 });
    expect(spec.warning).toBeUndefined();
  });

  test("sfn_execution defaults: window 60, FAILED/TIMED_OUT/ABORTED, critical 1", () => {
    const { spec } = parseCheckEvent({
      check: {
        kind: "sfn_execution",
        name: "orders-failures",
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:orders",
        statuses: null,
        critical: null,
        max_running_minutes: 30,
        notification_interval: 60,
        max_check_attempts: 2,
      },
    }) as unknown as { spec: Record<string, unknown> };
    expect(spec).toMatchObject({
      windowMinutes: 60,
      statuses: ["FAILED", "TIMED_OUT", "ABORTED"],
      critical: 1,
      maxRunningMinutes: 30,
      notificationInterval: 60,
      maxCheckAttempts: 2,
    });
  });

  test("log_freshness needs max_age_minutes", () => {
    expect(
      issuesOf(() => parseCheckEvent({ check: { kind: "log_freshness", name: "fresh", log_group_name: "/app" } })),
    ).toEqual(["check.max_age_minutes: must be a whole number of minutes"]);
  });

  test("the tick is its own shape", () => {
    expect(parseCheckEvent({ tick: {} })).toEqual({ type: "tick" });
  });

  test.each([
    ["null", null, "event: must be a JSON object"],
    ["an array", [1], "event: must be a JSON object"],
    ["an unknown field", { foo: 1 }, 'event: unknown shape with fields "foo"'],
    ["check plus another field", { check: tfHttp, extra: 1 }, 'event: unknown shape with fields "check", "extra"'],
    ["a check that is not an object", { check: "x" }, "check: must be a JSON object"],
    [
      "an unknown kind",
      { check: { ...tfHttp, kind: "ping" } },
      "check.kind: must be one of logs_insights, http, sfn_execution, log_freshness",
    ],
  ])("%s is refused", (_label, event, message) => {
    expect(issuesOf(() => parseCheckEvent(event))[0]).toContain(message);
  });

  test("every bad field is named with its rule", () => {
    const issues = issuesOf(() =>
      parseCheckSpec({
        ...tfHttp,
        name: "bad name",
        url: "ftp://x",
        method: "FETCH",
        expected_status: [200, 700],
        timeout_seconds: 0,
        typo: true,
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^check\.name: must be 1–64 characters/),
        "check.url: must be an http:// or https:// URL",
        expect.stringMatching(/^check\.method: must be one of GET/),
        expect.stringMatching(/^check\.expected_status\[1\]: must be at most 599/),
        "check.timeout_seconds: must be at least 1 seconds",
        'check: unknown field "typo" for kind http',
      ]),
    );
  });

  test("a valid name is kept on the error, so the check can still report UNKNOWN", () => {
    try {
      parseCheckSpec({ ...tfHttp, url: "nope" });
      throw new Error("unreachable");
    } catch (error) {
      expect(error).toBeInstanceOf(CheckInputError);
      expect((error as CheckInputError).checkName).toBe("api-health");
    }
  });

  test("thresholds must be ordered for their direction", () => {
    const base = { kind: "logs_insights", name: "q", log_group_names: ["/g"], query: "fields @message" };
    expect(issuesOf(() => parseCheckSpec({ ...base, warning: 10, critical: 5 }))).toEqual([
      "check.warning: must be at most critical when direction is above",
    ]);
    expect(issuesOf(() => parseCheckSpec({ ...base, warning: 1, critical: 5, direction: "below" }))).toEqual([
      "check.warning: must be at least critical when direction is below",
    ]);
    expect(parseCheckSpec({ ...base, warning: 10, critical: 5, direction: "below" })).toMatchObject({ warning: 10 });
    expect(issuesOf(() => parseCheckSpec({ ...base, critical: -1 }))).toEqual(["check.critical: must be zero or more"]);
    expect(
      issuesOf(() =>
        parseCheckSpec({
          kind: "sfn_execution",
          name: "s",
          state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m",
          warning: 3,
        }),
      ),
    ).toEqual(["check.warning: must be at most critical (1, the default)"]);
    expect(issuesOf(() => parseCheckSpec({ ...tfHttp, warning_latency_ms: 500, critical_latency_ms: 100 }))).toEqual([
      "check.warning_latency_ms: must be at most critical_latency_ms",
    ]);
  });

  test("body_regex is compiled with RE2 semantics (inline flags anywhere, as Terraform validated)", () => {
    const spec = parseCheckSpec({ ...tfHttp, body_regex: '(?i)"status":\\s*"ok"' }) as { bodyRegex: UserPattern };
    expect(spec.bodyRegex.test('{"STATUS": "OK"}')).toBe(true);
    expect(compileRegex("(?is)a.b").test("A\nB")).toBe(true);
    expect(compileRegex('"ok":(?i)TRUE').test('"ok":true')).toBe(true);
    expect(issuesOf(() => parseCheckSpec({ ...tfHttp, body_regex: "(unclosed" }))[0]).toMatch(
      /^check\.body_regex: does not compile/,
    );
  });
});
