/**
 * The pure shared pieces: Mackerel's name rules and limits, retry timing, and the logger's scrubbing.
 */
import {
  CHECK_NAME,
  CHECK_REPORTS_PER_REQUEST,
  HOST_METRIC_NAME,
  sanitizeMetricSegment,
  SERVICE_METRIC_NAME,
  SERVICE_NAME,
  truncateCodePoints,
} from "../../../functions/shared/names";
import { backoffDelay, noDeadline, parseRetryAfter } from "../../../functions/shared/retry";
import { Logger, registerSecret, scrubSecrets } from "../../../functions/shared/logger";
import { MackerelRejectedError } from "../../../functions/shared/errors";

const codePoints = (text: string) => [...text].length;

describe("names", () => {
  test("the rules match MACKEREL_API.md", () => {
    expect(SERVICE_METRIC_NAME.test("a.b-c_d.9")).toBe(true);
    expect(SERVICE_METRIC_NAME.test("a b")).toBe(false);
    expect(HOST_METRIC_NAME.test("custom.a.*")).toBe(true);
    expect(HOST_METRIC_NAME.test("custom.a.b#")).toBe(false);
    expect(SERVICE_NAME.test("ab")).toBe(true);
    expect(SERVICE_NAME.test("_ab")).toBe(false);
    expect(CHECK_NAME.test("job-a_1")).toBe(true);
    expect(CHECK_REPORTS_PER_REQUEST).toBe(100);
  });

  describe("truncateCodePoints", () => {
    test("leaves short text alone", () => {
      expect(truncateCodePoints("hello", 10)).toBe("hello");
      expect(truncateCodePoints("", 10)).toBe("");
    });

    test("leaves text of exactly max code points alone, even when its UTF-16 length is larger", () => {
      const text = "🐟".repeat(10);
      expect(text.length).toBe(20);
      expect(truncateCodePoints(text, 10)).toBe(text);
    });

    test("cuts to max code points, the last being an ellipsis", () => {
      expect(truncateCodePoints("abcdefghij", 5)).toBe("abcd…");
      const cut = truncateCodePoints("🐟".repeat(11), 10);
      expect(codePoints(cut)).toBe(10);
      expect(cut).toBe(`${"🐟".repeat(9)}…`);
    });

    test("never splits a surrogate pair", () => {
      for (let max = 2; max < 12; max++) {
        const cut = truncateCodePoints(`a${"😀b".repeat(10)}`, max);
        expect(codePoints(cut)).toBe(max);
        expect(cut.isWellFormed()).toBe(true);
      }
    });

    test("defaults to Mackerel's 1024 code points", () => {
      expect(codePoints(truncateCodePoints("x".repeat(5000)))).toBe(1024);
      expect(truncateCodePoints("x".repeat(1024))).toBe("x".repeat(1024));
    });

    test("combining sequences count per code point (as mackerel-agent does)", () => {
      const family = "👨‍👩‍👧"; // 5 code points joined by ZWJ
      expect(codePoints(family)).toBe(5);
      expect(codePoints(truncateCodePoints(family.repeat(3), 7))).toBe(7);
    });
  });

  describe("sanitizeMetricSegment", () => {
    test.each([
      ["simple", "simple"],
      ["with space", "with_space"],
      ["/aws/lambda/my-fn", "aws_lambda_my-fn"],
      ["a.b.c", "a_b_c"],
      ["日本語ログ", "_"],
      ["", "_"],
      ["__x__", "x"],
      ["a!!!b", "a_b"],
    ])("%p → %p", (raw, expected) => {
      const out = sanitizeMetricSegment(raw);
      expect(out).toBe(expected);
      expect(SERVICE_METRIC_NAME.test(out)).toBe(true);
      expect(HOST_METRIC_NAME.test(`custom.${out}`)).toBe(true);
    });

    test("caps the length at 128", () => {
      expect(sanitizeMetricSegment("x".repeat(500))).toHaveLength(128);
    });
  });
});

describe("retry timing", () => {
  const options = { baseMs: 100, capMs: 1000 };

  test("full jitter: the delay is random() × min(cap, base × 2^(attempt-1))", () => {
    expect(backoffDelay(1, { ...options, random: () => 0.5 })).toBe(50);
    expect(backoffDelay(2, { ...options, random: () => 0.5 })).toBe(100);
    expect(backoffDelay(3, { ...options, random: () => 0.5 })).toBe(200);
    expect(backoffDelay(10, { ...options, random: () => 0.5 })).toBe(500); // capped
    expect(backoffDelay(3, { ...options, random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { ...options, random: () => 0.999999 })).toBe(399);
  });

  test("without a pinned random source the delay stays within its bounds", () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelay(attempt, options);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(Math.min(1000, 100 * 2 ** (attempt - 1)));
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });

  test.each([
    ["0", 0],
    ["1", 1000],
    ["120", 120_000],
    [" 3 ", 3000],
  ])("Retry-After %p (delta seconds) is %d ms", (header, ms) => {
    expect(parseRetryAfter(header)).toBe(ms);
  });

  test("Retry-After as an HTTP date is measured from now", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now)).toBe(30_000);
    // A date in the past means "now".
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:59:00 GMT", now)).toBe(0);
  });

  test.each([[undefined], [null], [""], ["soon"], ["-5"], ["1.5"]])("Retry-After %p is ignored", (header) => {
    expect(parseRetryAfter(header)).toBeUndefined();
  });

  test("outside Lambda there is no deadline", () => {
    expect(noDeadline()).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("logger", () => {
  let lines: { level: string; record: Record<string, unknown> }[];
  const spies: jest.SpyInstance[] = [];

  beforeEach(() => {
    lines = [];
    for (const level of ["debug", "info", "warn", "error"] as const) {
      spies.push(
        jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
          lines.push({ level, record: args[0] as Record<string, unknown> });
        }),
      );
    }
  });
  afterEach(() => {
    for (const spy of spies.splice(0)) spy.mockRestore();
  });

  test("logs one plain object per call, with the child's fields", () => {
    const log = new Logger({ function: "metric" }).child({ rule: "errors" });
    log.info("posted", { count: 3 });
    log.warn("slow");
    expect(lines).toEqual([
      { level: "info", record: { message: "posted", function: "metric", rule: "errors", count: 3 } },
      { level: "warn", record: { message: "slow", function: "metric", rule: "errors" } },
    ]);
  });

  test("serializes errors with their type, message, status and Mackerel's message", () => {
    new Logger().error("refused", {
      error: new MackerelRejectedError("Mackerel refused it", 404, "Service not found"),
    });
    expect(lines[0]!.record).toEqual({
      message: "refused",
      error: {
        errorType: "MackerelRejectedError",
        errorMessage: "Mackerel refused it",
        status: 404,
        mackerelMessage: "Service not found",
        stackTrace: expect.arrayContaining([expect.stringMatching(/^at .*names-retry-logger\.test\.ts/)]),
      },
    });
  });

  test("scrubs every registered secret, in messages, nested fields and errors", () => {
    registerSecret("logger-secret-0123456789");
    registerSecret("other-secret-abcdefgh");
    const log = new Logger({ base: "logger-secret-0123456789" });
    log.error("key logger-secret-0123456789 refused", {
      nested: { deeper: ["x other-secret-abcdefgh y"] },
      error: new Error("bad key logger-secret-0123456789"),
    });
    const text = JSON.stringify(lines);
    expect(text).not.toContain("logger-secret-0123456789");
    expect(text).not.toContain("other-secret-abcdefgh");
    expect(lines[0]!.record).toEqual({
      message: "key [secret] refused",
      base: "[secret]",
      nested: { deeper: ["x [secret] y"] },
      error: {
        errorType: "Error",
        errorMessage: "bad key [secret]",
        stackTrace: expect.arrayContaining([expect.stringMatching(/^at .*names-retry-logger\.test\.ts/)]),
      },
    });
    expect(scrubSecrets("a logger-secret-0123456789 b logger-secret-0123456789")).toBe("a [secret] b [secret]");
  });

  test("values too short to be keys are not registered (they would mangle every line)", () => {
    registerSecret("ab");
    expect(scrubSecrets("ab cab")).toBe("ab cab");
  });
});
