/**
 * The metric function's input: the three forms, the defaults, and every validation rule with a
 * message that names the field and the rule broken.
 */
import { MAX_POINTS_PER_INVOCATION, parseMetricPayload } from "../../functions/metric/payload";
import { MackerelValidationError } from "../../functions/shared/errors";

const NOW = 1_700_000_000; // 2023-11-14T22:13:20Z
const DAY = 24 * 60 * 60;
const parse = (event: unknown) => parseMetricPayload(event, "default-service", NOW);

/** The validation error `event` raises (fails the test when it parses). */
function rejection(event: unknown): MackerelValidationError {
  try {
    parse(event);
  } catch (error) {
    expect(error).toBeInstanceOf(MackerelValidationError);
    return error as MackerelValidationError;
  }
  throw new Error(`expected ${JSON.stringify(event)?.slice(0, 200)} to be rejected`);
}

const codePoints = (text: string) => [...text].length;

describe("the three payload forms", () => {
  test("canonical: service metrics, host metrics and checks", () => {
    const payload = parse({
      service: "orders",
      metrics: [
        { name: "jobs.a.failed", value: 1, time: NOW - 60 },
        { name: "jobs.b.failed", value: 0.5 },
      ],
      hostMetrics: [{ name: "custom.pipeline.heartbeat", value: 1 }],
      checks: [
        { name: "job-a", status: "CRITICAL", message: "job a failed", notificationInterval: 10, maxCheckAttempts: 3 },
        { name: "job-b", status: "OK" },
      ],
    });
    expect(payload).toEqual({
      service: "orders",
      serviceMetrics: [
        { name: "jobs.a.failed", value: 1, time: NOW - 60 },
        { name: "jobs.b.failed", value: 0.5, time: NOW },
      ],
      hostMetrics: [{ name: "custom.pipeline.heartbeat", value: 1, time: NOW }],
      checks: [
        {
          name: "job-a",
          status: "CRITICAL",
          message: "job a failed",
          occurredAt: NOW,
          notificationInterval: 10,
          maxCheckAttempts: 3,
        },
        { name: "job-b", status: "OK", message: "", occurredAt: NOW },
      ],
      truncatedMessages: [],
    });
  });

  test("canonical with only checks posts no metrics", () => {
    const payload = parse({ checks: [{ name: "nightly", status: "WARNING" }] });
    expect(payload.serviceMetrics).toEqual([]);
    expect(payload.hostMetrics).toEqual([]);
    expect(payload.checks).toEqual([{ name: "nightly", status: "WARNING", message: "", occurredAt: NOW }]);
  });

  test("the well-known single-metric form of Step Functions Pass states", () => {
    expect(parse({ "service-name": "orders", "metric-name": "job.failed", "metric-value": 1 })).toEqual({
      service: "orders",
      serviceMetrics: [{ name: "job.failed", value: 1, time: NOW }],
      hostMetrics: [],
      checks: [],
      truncatedMessages: [],
    });
  });

  test("shorthand {name, value, service?}", () => {
    expect(parse({ name: "queue.depth", value: 42, service: "orders" })).toMatchObject({
      service: "orders",
      serviceMetrics: [{ name: "queue.depth", value: 42, time: NOW }],
    });
  });

  test.each([
    ["canonical", { metrics: [{ name: "m", value: 1 }] }],
    ["single-metric", { "metric-name": "m", "metric-value": 1 }],
    ["shorthand", { name: "m", value: 1 }],
  ])("%s form without a service uses the module's service", (_form, event) => {
    expect(parse(event).service).toBe("default-service");
  });

  test("values may be negative, zero or fractional", () => {
    const payload = parse({
      metrics: [
        { name: "a", value: -1.25 },
        { name: "b", value: 0 },
      ],
    });
    expect(payload.serviceMetrics.map((m) => m.value)).toEqual([-1.25, 0]);
  });
});

describe("time", () => {
  test("defaults to now, in whole epoch seconds", () => {
    const payload = parse({ name: "m", value: 1 });
    expect(payload.serviceMetrics[0]!.time).toBe(NOW);
    expect(Number.isInteger(payload.serviceMetrics[0]!.time)).toBe(true);
  });

  test.each([
    ["2023-11-14T22:13:20Z", NOW],
    ["2023-11-14T22:13:20.987Z", NOW], // Step Functions' $$.State.EnteredTime has milliseconds: floored
    ["2023-11-15T07:13:20+09:00", NOW],
    ["2023-11-14T21:13:20Z", NOW - 3600],
  ])("ISO 8601 %s is %d epoch seconds", (iso, expected) => {
    expect(parse({ name: "m", value: 1, time: iso }).serviceMetrics[0]!.time).toBe(expected);
    expect(parse({ "metric-name": "m", "metric-value": 1, time: iso }).serviceMetrics[0]!.time).toBe(expected);
    expect(parse({ metrics: [{ name: "m", value: 1, time: iso }] }).serviceMetrics[0]!.time).toBe(expected);
  });

  test("milliseconds passed as seconds are refused", () => {
    const error = rejection({ metrics: [{ name: "m", value: 1, time: NOW * 1000 }] });
    expect(error.message).toContain(
      `metrics[0].time: must be epoch seconds, got ${NOW * 1000} which looks like milliseconds`,
    );
  });

  test("fractional seconds are refused", () => {
    expect(rejection({ name: "m", value: 1, time: NOW + 0.5 }).message).toContain(
      `time: must be whole epoch seconds, got ${NOW + 0.5}`,
    );
  });

  test.each([
    ["past", NOW - DAY, "time: is more than 24 h in the past"],
    ["past (ISO)", "2023-11-13T22:13:20Z", "time: is more than 24 h in the past"],
    ["future", NOW + DAY, "time: is more than 24 h in the future"],
  ])("more than 24 h in the %s is refused", (_when, time, message) => {
    expect(rejection({ name: "m", value: 1, time }).message).toContain(message);
  });

  test("just inside 24 h either way is accepted", () => {
    const payload = parse({
      metrics: [
        { name: "m", value: 1, time: NOW - DAY + 1 },
        { name: "m", value: 2, time: NOW + DAY - 1 },
      ],
    });
    expect(payload.serviceMetrics.map((m) => m.time)).toEqual([NOW - DAY + 1, NOW + DAY - 1]);
  });

  test.each([
    ["yesterday", 'time: must be epoch seconds or an ISO 8601 timestamp, got "yesterday"'],
    ["2023-11-14", 'time: must be epoch seconds or an ISO 8601 timestamp, got "2023-11-14"'],
    [true, "time: must be epoch seconds or an ISO 8601 string"],
    [null, "time: must be epoch seconds or an ISO 8601 string"],
  ])("a time of %p is refused", (time, message) => {
    expect(rejection({ name: "m", value: 1, time }).message).toContain(message);
  });

  test("host metric times are checked too, and named by index", () => {
    const error = rejection({
      hostMetrics: [
        { name: "custom.a", value: 1 },
        { name: "custom.b", value: 1, time: 1.5 },
      ],
    });
    expect(error.message).toContain("hostMetrics[1].time: must be whole epoch seconds");
  });
});

describe("names follow Mackerel's rules", () => {
  test.each(["jobs.a.failed", "A-b_c.9", "x"])("service metric name %p is accepted", (name) => {
    expect(parse({ name, value: 1 }).serviceMetrics[0]!.name).toBe(name);
  });

  test.each(["has space", "slash/name", "日本語", "colon:x", ""])("service metric name %p is refused", (name) => {
    expect(rejection({ metrics: [{ name, value: 1 }] }).message).toContain(
      "metrics[0].name: must match [a-zA-Z0-9._-]+ (Mackerel's service metric name rule)",
    );
    expect(rejection({ "metric-name": name, "metric-value": 1 }).message).toContain("metric-name: must match");
    expect(rejection({ name, value: 1 }).message).toContain("name: must match");
  });

  test.each(["custom.a", "custom.pipeline.heartbeat", "custom.jobs.*", "custom.disk.#.used", "custom.a-b_c"])(
    "host metric name %p is accepted",
    (name) => {
      expect(parse({ hostMetrics: [{ name, value: 1 }] }).hostMetrics[0]!.name).toBe(name);
    },
  );

  test.each(["foo.bar", "custom", "custom.", "custom..a", "custom.a b", "Custom.a", "custom.a.**"])(
    "host metric name %p is refused",
    (name) => {
      expect(rejection({ hostMetrics: [{ name, value: 1 }] }).message).toContain(
        "hostMetrics[0].name: must match ^custom(\\.([-a-zA-Z0-9_]+|[*#]))+$ (Mackerel's custom host metric name rule)",
      );
    },
  );

  test.each(["ab", "my-service", "Service_1", "a".repeat(63)])("service %p is accepted", (service) => {
    expect(parse({ service, metrics: [{ name: "m", value: 1 }] }).service).toBe(service);
  });

  test.each(["a", "-ab", "_ab", "a".repeat(64), "with space", "dot.ted"])("service %p is refused", (service) => {
    const rule = "must be 2–63 characters of A-Za-z0-9_- not starting with - or _ (Mackerel's service name rule)";
    expect(rejection({ service, metrics: [{ name: "m", value: 1 }] }).message).toContain(`service: ${rule}`);
    expect(rejection({ "service-name": service, "metric-name": "m", "metric-value": 1 }).message).toContain(
      `service-name: ${rule}`,
    );
    expect(rejection({ service, name: "m", value: 1 }).message).toContain(`service: ${rule}`);
  });

  test.each(["a", "job-a_1", "x".repeat(64)])("check name %p is accepted", (name) => {
    expect(parse({ checks: [{ name, status: "OK" }] }).checks[0]!.name).toBe(name);
  });

  test.each(["", "x".repeat(65), "has space", "dot.ted", "slash/x"])("check name %p is refused", (name) => {
    expect(rejection({ checks: [{ name, status: "OK" }] }).message).toContain(
      "checks[0].name: must be 1–64 characters of a-zA-Z0-9_-",
    );
  });

  test("check status must be one of Mackerel's", () => {
    expect(rejection({ checks: [{ name: "c", status: "ERROR" }] }).message).toContain(
      "checks[0].status: must be one of OK, WARNING, CRITICAL, UNKNOWN",
    );
    expect(rejection({ checks: [{ name: "c", status: "ok" }] }).message).toContain("checks[0].status: must be one of");
  });
});

describe("values", () => {
  test.each([
    ["a string", "1", "must be a number"],
    ["null", null, "must be a number"],
    ["a boolean", true, "must be a number"],
    ["an object", { n: 1 }, "must be a number"],
    ["NaN", Number.NaN, "must be a finite number"],
    ["Infinity", Number.POSITIVE_INFINITY, "must be a finite number"],
    ["-Infinity", Number.NEGATIVE_INFINITY, "must be a finite number"],
  ])("%s is refused", (_what, value, rule) => {
    expect(rejection({ metrics: [{ name: "m", value }] }).message).toContain(`metrics[0].value: ${rule}`);
    expect(rejection({ "metric-name": "m", "metric-value": value }).message).toContain(`metric-value: ${rule}`);
    expect(rejection({ name: "m", value }).message).toContain(`value: ${rule}`);
    expect(rejection({ hostMetrics: [{ name: "custom.m", value }] }).message).toContain(
      `hostMetrics[0].value: ${rule}`,
    );
  });
});

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
