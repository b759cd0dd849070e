/**
 * The metric function's input: missing, unknown and duplicate fields, empty payloads, limits, cut
 * messages, and every failure naming the field and the rule it breaks.
 */
import { MAX_POINTS_PER_INVOCATION, parseMetricPayload } from "../../../functions/metric/payload";
import { MackerelValidationError } from "../../../functions/shared/errors";
import { codePoints, NOW, parse, rejection } from "./payload-support";

describe("missing, unknown and duplicate fields", () => {
  test.each([
    [{ "metric-name": "m" }, "metric-value: is required (a number)"],
    [{ "metric-value": 1 }, "metric-name: is required"],
    [{ "service-name": "orders" }, "metric-name: is required"],
    [{ name: "m" }, "value: is required (a number)"],
    [{ value: 1 }, "name: is required"],
    [{ metrics: [{ value: 1 }] }, "metrics[0].name: is required"],
    [{ metrics: [{ name: "m" }] }, "metrics[0].value: is required (a number)"],
    [{ hostMetrics: [{ value: 1 }] }, "hostMetrics[0].name: is required"],
    [{ checks: [{ status: "OK" }] }, "checks[0].name: is required"],
    [{ checks: [{ name: "c" }] }, "checks[0].status: must be one of OK, WARNING, CRITICAL, UNKNOWN"],
  ])("%j → %s", (event, message) => {
    expect(rejection(event).message).toContain(message);
  });

  test.each([
    [{ metrics: [{ name: "m", value: 1 }], extra: true }, 'payload: unknown field "extra"'],
    [{ metrics: [{ name: "m", value: 1, unit: "ms" }] }, 'metrics[0]: unknown field "unit"'],
    [{ checks: [{ name: "c", status: "OK", memo: "x" }] }, 'checks[0]: unknown field "memo"'],
    [{ "metric-name": "m", "metric-value": 1, service: "orders" }, 'payload: unknown field "service"'],
    [{ name: "m", value: 1, metrics: [] }, 'payload: unknown field "metrics"'],
    [{ name: "m", value: 1, hostId: "abc" }, 'payload: unknown field "hostId"'],
  ])("unknown field: %j", (event, message) => {
    const error = rejection(event);
    expect(error.message).toContain(message);
    // The message says what would have been accepted.
    expect(error.message).toContain('{"service-name","metric-name","metric-value"}');
  });

  test("two points with the same (name, time) are refused: Mackerel keeps one value", () => {
    const error = rejection({
      metrics: [
        { name: "m", value: 1, time: NOW },
        { name: "other", value: 1, time: NOW },
        { name: "m", value: 2 }, // time defaults to NOW too
      ],
    });
    expect(error.message).toContain("metrics[2]: same name and time as metrics[0]");
    expect(error.message).toContain("sum them first");
  });

  test("host metric duplicates are refused too", () => {
    expect(
      rejection({
        hostMetrics: [
          { name: "custom.m", value: 1 },
          { name: "custom.m", value: 2 },
        ],
      }).message,
    ).toContain("hostMetrics[1]: same name and time as hostMetrics[0]");
  });

  test("the same name at different times is fine", () => {
    const payload = parse({
      metrics: [
        { name: "m", value: 1, time: NOW - 60 },
        { name: "m", value: 2, time: NOW },
      ],
    });
    expect(payload.serviceMetrics).toHaveLength(2);
  });

  test("two reports for one check in one invocation are refused (same occurredAt)", () => {
    expect(
      rejection({
        checks: [
          { name: "c", status: "OK" },
          { name: "c", status: "CRITICAL" },
        ],
      }).message,
    ).toContain('checks[1].name: "c" repeats checks[0]');
  });
});

describe("empty payloads", () => {
  test.each([[{}], [{ service: "orders" }], [{ foo: 1 }]])("%j has nothing to post", (event) => {
    expect(rejection(event).message).toContain("payload: nothing to post");
  });

  test.each([[{ metrics: [] }], [{ metrics: [], hostMetrics: [], checks: [] }]])("%j has nothing to post", (event) => {
    expect(rejection(event).message).toContain(
      "payload: nothing to post; metrics, hostMetrics and checks are all empty",
    );
  });

  test.each([[null], [[]], ["text"], [42], [undefined]])("%p is not an object", (event) => {
    expect(rejection(event).message).toContain("payload: must be a JSON object");
  });
});

describe("limits", () => {
  const points = (n: number, prefix = "m") =>
    Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, value: i }));
  const checks = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `c${i}`, status: "OK" }));

  test(`${MAX_POINTS_PER_INVOCATION} points of each kind are accepted`, () => {
    expect(MAX_POINTS_PER_INVOCATION).toBe(1000);
    const payload = parse({ metrics: points(1000), hostMetrics: points(1000, "custom.m") });
    expect(payload.serviceMetrics).toHaveLength(1000);
    expect(payload.hostMetrics).toHaveLength(1000);
  });

  test("more than 1000 points are refused", () => {
    expect(rejection({ metrics: points(1001) }).message).toContain("metrics: at most 1000 points per invocation");
    expect(rejection({ hostMetrics: points(1001, "custom.m") }).message).toContain(
      "hostMetrics: at most 1000 points per invocation",
    );
  });

  test("100 checks are accepted, 101 refused", () => {
    expect(parse({ checks: checks(100) }).checks).toHaveLength(100);
    expect(rejection({ checks: checks(101) }).message).toContain("checks: at most 100 check reports per invocation");
  });

  test.each([
    [9, "checks[0].notificationInterval: must be at least 10 minutes"],
    [0, "checks[0].notificationInterval: must be at least 10 minutes"],
    [10.5, "checks[0].notificationInterval: must be whole minutes"],
    ["10", "checks[0].notificationInterval: must be whole minutes"],
  ])("notificationInterval %p is refused", (notificationInterval, message) => {
    expect(rejection({ checks: [{ name: "c", status: "OK", notificationInterval }] }).message).toContain(message);
  });

  test.each([10, 60])("notificationInterval %p is accepted", (notificationInterval) => {
    expect(parse({ checks: [{ name: "c", status: "OK", notificationInterval }] }).checks[0]).toMatchObject({
      notificationInterval,
    });
  });

  test.each([
    [0, "must be 1 to 10"],
    [11, "must be 1 to 10"],
    [-1, "must be 1 to 10"],
    [2.5, "must be an integer"],
  ])("maxCheckAttempts %p is refused", (maxCheckAttempts, rule) => {
    expect(rejection({ checks: [{ name: "c", status: "OK", maxCheckAttempts }] }).message).toContain(
      `checks[0].maxCheckAttempts: ${rule}`,
    );
  });

  test.each([1, 10])("maxCheckAttempts %p is accepted", (maxCheckAttempts) => {
    expect(parse({ checks: [{ name: "c", status: "OK", maxCheckAttempts }] }).checks[0]).toMatchObject({
      maxCheckAttempts,
    });
  });

  test("a check message that is not a string is refused", () => {
    expect(rejection({ checks: [{ name: "c", status: "OK", message: 5 }] }).message).toContain(
      "checks[0].message: expected a string",
    );
  });
});

describe("check messages are cut at 1024 code points", () => {
  test("a message of exactly 1024 emoji (2048 UTF-16 units) is kept whole", () => {
    const message = "🐟".repeat(1024);
    const payload = parse({ checks: [{ name: "c", status: "OK", message }] });
    expect(payload.checks[0]!.message).toBe(message);
    expect(payload.truncatedMessages).toEqual([]);
  });

  test("a longer message is cut to 1024 code points, never splitting an emoji, and reported", () => {
    const message = `${"a".repeat(1000)}${"🐟".repeat(100)}`;
    const payload = parse({
      checks: [
        { name: "long", status: "CRITICAL", message },
        { name: "short", status: "OK", message: "fine" },
      ],
    });
    const cut = payload.checks[0]!.message;
    expect(codePoints(cut)).toBe(1024);
    expect(cut.endsWith("…")).toBe(true);
    expect(cut.startsWith(`${"a".repeat(1000)}🐟`)).toBe(true);
    expect([...cut].slice(1000, 1023).every((ch) => ch === "🐟")).toBe(true);
    // No lone surrogate anywhere.
    expect(cut).toBe(cut.toWellFormed());
    expect(payload.checks[1]!.message).toBe("fine");
    expect(payload.truncatedMessages).toEqual(["long"]);
  });

  test("1025 code points are cut", () => {
    const payload = parse({ checks: [{ name: "c", status: "OK", message: "🐟".repeat(1025) }] });
    expect(codePoints(payload.checks[0]!.message)).toBe(1024);
    expect(payload.truncatedMessages).toEqual(["c"]);
  });
});

describe("MackerelValidationError", () => {
  test("keeps its name, lists every issue, and is an Error", () => {
    const error = rejection({
      service: "-x",
      metrics: [{ name: "bad name", value: "1" }],
      checks: [{ name: "c", status: "NOPE" }],
    });
    expect(error.name).toBe("MackerelValidationError");
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/^MackerelValidationError: invalid metric payload: /);
    expect(error.issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^service: /),
        expect.stringMatching(/^metrics\[0\]\.name: /),
        expect.stringMatching(/^metrics\[0\]\.value: /),
        expect.stringMatching(/^checks\[0\]\.status: /),
      ]),
    );
    expect(error.message).toBe(`invalid metric payload: ${error.issues.join("; ")}`);
  });

  test("name is an own property that survives serialization (Lambda's errorType)", () => {
    const error = rejection({});
    expect(Object.prototype.hasOwnProperty.call(error, "name")).toBe(true);
    // Lambda reports `error.name` as errorType; a subclass instance with its own name keeps it.
    expect(Object.getOwnPropertyDescriptor(error, "name")?.value).toBe("MackerelValidationError");
    expect(new (error.constructor as typeof MackerelValidationError)("x").name).toBe("MackerelValidationError");
  });

  test("every time problem is reported at once", () => {
    const error = rejection({
      metrics: [
        { name: "a", value: 1, time: NOW * 1000 },
        { name: "b", value: 1, time: 0.5 },
      ],
    });
    expect(error.issues).toHaveLength(2);
  });
});

describe("every failure names the field and the rule it breaks", () => {
  test.each([
    [{ metrics: [1] }, ["metrics[0]: expected an object {name, value, time?}"]],
    [{ hostMetrics: [null] }, ["hostMetrics[0]: expected an object {name, value, time?}"]],
    [{ metrics: "x" }, ["metrics: expected an array"]],
    [{ checks: "x" }, ["checks: expected an array"]],
    [
      { checks: [3] },
      ["checks[0]: expected an object {name, status, message?, notificationInterval?, maxCheckAttempts?}"],
    ],
    [{ service: 5, metrics: [{ name: "a", value: 1 }] }, ["service: expected a string"]],
    [
      { service: 5 },
      [
        "service: expected a string",
        'payload: nothing to post; expected {"metrics"|"hostMetrics"|"checks": [...]}, {"service-name","metric-name","metric-value"} or {"name","value"}',
      ],
    ],
    [{ "metric-name": 5, "metric-value": 1 }, ["metric-name: expected a string"]],
    [{ metrics: [{ value: 1 }] }, ["metrics[0].name: is required"]],
    [{ checks: [{ name: 7, status: "OK" }] }, ["checks[0].name: expected a string"]],
  ])("%j → %j", (event, issues) => {
    let error: unknown;
    try {
      parseMetricPayload(event, "svc", NOW);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MackerelValidationError);
    expect((error as MackerelValidationError).issues).toEqual(issues);
    expect(JSON.stringify(issues)).not.toContain("Invalid input");
  });

  test.each([
    ["2023-02-30T00:00:00Z", "is not a valid date or time of day"],
    ["2023-13-01T00:00:00Z", "is not a valid date or time of day"],
    ["2023-11-14T24:00:00Z", "is not a valid date or time of day"],
    ["2023-11-14T22:61:00Z", "is not a valid date or time of day"],
    ["2023-11-14", "must be epoch seconds or an ISO 8601 timestamp"],
    ["2023-11-14T22:13:20", "must be epoch seconds or an ISO 8601 timestamp"],
  ])("time %s: %s (not a shifted date, not 'more than 24 h')", (time, rule) => {
    expect(() => parseMetricPayload({ metrics: [{ name: "a", value: 1, time }] }, "svc", NOW)).toThrow(
      `metrics[0].time: ${rule}, got "${time}"`,
    );
  });

  test.each([
    ["2023-11-14T22:13:20Z", NOW],
    ["2023-11-14T22:13:20.789Z", NOW],
    ["2023-11-15T07:13:20+09:00", NOW],
    ["2024-02-29T00:00:00Z", Date.UTC(2024, 1, 29) / 1000],
  ])("time %s is accepted", (time, seconds) => {
    const now = Math.max(NOW, seconds);
    expect(parseMetricPayload({ metrics: [{ name: "a", value: 1, time }] }, "svc", now).serviceMetrics[0]!.time).toBe(
      seconds,
    );
  });
});
