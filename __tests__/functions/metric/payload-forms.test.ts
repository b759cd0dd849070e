/**
 * The metric function's input: the three forms, the defaults, and the rules for times, names and values,
 * each with a message that names the field and the rule broken.
 */

import { DAY, NOW, parse, rejection } from "./payload-support";

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
