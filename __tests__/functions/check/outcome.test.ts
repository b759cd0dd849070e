/** Thresholds, report building and redaction: the pure pieces every check kind shares. */
import {
  buildWrites,
  describeThresholds,
  evaluateThreshold,
  formatDuration,
  unknown,
  worstStatus,
} from "../../../functions/check/outcome";
import { excerpt, redact } from "../../../functions/check/redact";

describe("evaluateThreshold", () => {
  test.each([
    // value, warning, critical, direction, status
    [0, 5, 10, "above", "OK"],
    [4.99, 5, 10, "above", "OK"],
    [5, 5, 10, "above", "WARNING"],
    [10, 5, 10, "above", "CRITICAL"],
    [11, undefined, 10, "above", "CRITICAL"],
    [11, 5, undefined, "above", "WARNING"],
    [100, undefined, undefined, "above", "OK"],
    [10, 5, 1, "below", "OK"],
    [5, 5, 1, "below", "WARNING"],
    [1, 5, 1, "below", "CRITICAL"],
    [0, undefined, 0, "below", "CRITICAL"],
  ] as const)("%d with warning %s, critical %s, %s → %s", (value, warning, critical, direction, status) => {
    expect(evaluateThreshold(value, { warning, critical, direction }).status).toBe(status);
  });

  test("says which threshold was reached", () => {
    expect(evaluateThreshold(12, { warning: 5, critical: 10, direction: "above" }).breached).toBe(">= critical 10");
    expect(evaluateThreshold(0.5, { warning: 1, direction: "below" }).breached).toBe("<= warning 1");
    expect(describeThresholds({ warning: 5, critical: 10.25, direction: "above" })).toBe(
      "warning >= 5, critical >= 10.25",
    );
    expect(describeThresholds({ direction: "above" })).toBe("");
  });
});

test("worstStatus orders CRITICAL > WARNING > UNKNOWN > OK", () => {
  expect(worstStatus("OK", "UNKNOWN")).toBe("UNKNOWN");
  expect(worstStatus("UNKNOWN", "WARNING")).toBe("WARNING");
  expect(worstStatus("CRITICAL", "WARNING", "OK")).toBe("CRITICAL");
  expect(worstStatus()).toBe("OK");
});

test("formatDuration", () => {
  expect(formatDuration(45)).toBe("45s");
  expect(formatDuration(300)).toBe("5m");
  expect(formatDuration(305)).toBe("5m 5s");
  expect(formatDuration(3 * 3600 + 5 * 60)).toBe("3h 5m");
  expect(formatDuration(86400 * 2 + 3600 * 4)).toBe("2d 4h");
});

describe("buildWrites", () => {
  const target = { hostId: "2eQGDXqtoXs", service: "shop", now: 1_700_000_000 };

  test("metrics under checks.<name>.* and exactly one report named after the check", () => {
    const writes = buildWrites(
      { name: "api-health", notificationInterval: 30, maxCheckAttempts: 3 },
      { status: "WARNING", message: "slow", metrics: { latency_ms: 812, status_code: 200, broken: Number.NaN } },
      target,
    );
    expect(writes).toEqual([
      {
        kind: "serviceMetrics",
        service: "shop",
        points: [
          { name: "checks.api-health.latency_ms", time: 1_700_000_000, value: 812 },
          { name: "checks.api-health.status_code", time: 1_700_000_000, value: 200 },
        ],
      },
      {
        kind: "checkReports",
        reports: [
          {
            source: { type: "host", hostId: "2eQGDXqtoXs" },
            name: "api-health",
            status: "WARNING",
            message: "slow",
            occurredAt: 1_700_000_000,
            notificationInterval: 30,
            maxCheckAttempts: 3,
          },
        ],
      },
    ]);
  });

  test("an UNKNOWN without metrics posts the report only; long messages are cut to 1024 code points", () => {
    const writes = buildWrites({ name: "q" }, unknown("😀".repeat(2000)), target);
    expect(writes).toHaveLength(1);
    const report = (writes[0] as { reports: { message: string; status: string }[] }).reports[0]!;
    expect(report.status).toBe("UNKNOWN");
    expect([...report.message]).toHaveLength(1024);
    expect(report.message.endsWith("…")).toBe(true);
    expect(report).not.toHaveProperty("notificationInterval");
  });
});

describe("redaction", () => {
  test.each([
    ["AWS key AKIAIOSFODNN7EXAMPLE here", "AWS key [REDACTED:aws-access-key-id] here"],
    ["Authorization: Bearer abc.def-ghijkl", "Authorization: Bearer [REDACTED:authorization]"],
    ["basic usage of a token", "basic usage of a token"],
    ["password=hunter2&user=bob", "password=[REDACTED:password]&user=bob"],
    ["aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "aws_secret_access_key = [REDACTED:key]"],
    ['{"api_key": "s3cr3t", "ok": true}', '{"api_key": "[REDACTED:key]", "ok": true}'],
    ["mail alice@example.com now", "mail [REDACTED:email] now"],
    ["https://user:pw@internal.example/x", "https://user:[REDACTED:password]@internal.example/x"],
    ["token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.sig", "token [REDACTED:jwt]"],
  ])("%s", (input, output) => {
    expect(redact(input)).toBe(output);
  });

  test("excerpts are one line, redacted and cut", () => {
    const text = `line one\n\n  password=x ${"y".repeat(500)}`;
    const cut = excerpt(text, 50);
    expect(cut).toBe(`line one password=[REDACTED:password] ${"y".repeat(11)}…`);
    expect(cut.length).toBe(50);
  });

  test("excerpts redact before they collapse and cut: a key id after 1,184 spaces is masked, not cut", () => {
    expect(excerpt(`<html>${" ".repeat(1184)}AKIAIOSFODNN7EXAMPLE</html>`, 30)).toBe("<html> [REDACTED:aws-access-k…");
  });
});
