/**
 * Messages of errors the functions throw or log leave the account (Step Functions' error output, the
 * runtime's "Invoke Error" line, CloudWatch Logs): the API key and secret-looking values are masked in them
 * when the error is built, so the stack (which repeats the message) is clean too.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CheckInputError,
  ConfigurationError,
  ListingIncomplete,
  LogRuleConfigError,
  MackerelRejectedError,
  MackerelServerlessError,
  MackerelUnavailableError,
  MackerelValidationError,
  UserRegExpError,
} from "../../../functions/shared/errors";
import { Logger } from "../../../functions/shared/logger";
import { MackerelClient } from "../../../functions/shared/mackerel-client";
import { registerSecret } from "../../../functions/shared/secrets";

const KEY = "error-redaction-key-Qm81Zx0p";
const GHP = `ghp_${"Ab3".repeat(12)}`;
registerSecret(KEY);

describe("typed errors clean their message before Error captures it", () => {
  test.each([
    ["MackerelValidationError", new MackerelValidationError(`metrics[0].name: got ${GHP} with ${KEY}`)],
    ["MackerelRejectedError", new MackerelRejectedError(`refused: password=hunter2 ${KEY}`, 400, `echo ${GHP}`)],
    ["MackerelUnavailableError", new MackerelUnavailableError(`failed: https://u:pw@h.example/ ${KEY}`)],
    ["ConfigurationError", new ConfigurationError(`bad value token=abc123 ${KEY}`)],
    ["MackerelValidationError", new CheckInputError(`check.url: token=abc123 ${KEY}`, ["x"], "api")],
    ["LogRuleConfigError", new LogRuleConfigError([{ index: 0, field: "include[0]", problem: `has ${KEY} ${GHP}` }])],
    ["UserRegExpError", new UserRegExpError(`is not valid: password=hunter2 ${KEY}`, "syntax", "x")],
    ["ListingIncomplete", new ListingIncomplete(`no time left for ${KEY}`)],
  ])("%s", (name, error) => {
    expect(error).toBeInstanceOf(MackerelServerlessError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.stack).toMatch(new RegExp(`^${name}: `));
    const everything = `${error.message}\n${error.stack}\n${JSON.stringify(error)}`;
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain(GHP.slice(4, 12));
    expect(everything).not.toMatch(/hunter2|abc123|:pw@/);
    expect(error.message).toMatch(/\[secret\]/);
  });

  test("the issues of a validation error are cleaned too", () => {
    const error = new MackerelValidationError("invalid", [`checks[0].message: ${GHP}`]);
    expect(error.issues).toEqual(["checks[0].message: [REDACTED:github-token]"]);
  });
});

describe("one base class: the standard cause (ES2022)", () => {
  test("the cause is Error's own, not enumerable; an error without one has no cause key", () => {
    const inner = new TypeError("fetch failed");
    const error = new MackerelUnavailableError("Mackerel unavailable", 503, inner);
    expect(error.cause).toBe(inner);
    expect(error.status).toBe(503);
    expect(Object.getOwnPropertyDescriptor(error, "cause")).toMatchObject({ value: inner, enumerable: false });
    expect("cause" in new MackerelUnavailableError("x")).toBe(false);
    expect("cause" in new ConfigurationError("x")).toBe(false);
    expect(new ConfigurationError("x", { cause: inner }).cause).toBe(inner);
    expect(new MackerelValidationError("x", ["a"], { cause: inner }).cause).toBe(inner);
  });
});

describe("the logger keeps stack and cause chains, redacted", () => {
  function logged(error: unknown): Record<string, unknown> {
    const lines: { error: Record<string, unknown> }[] = [];
    const original = console.error;
    console.error = (value: { error: Record<string, unknown> }) => lines.push(value);
    try {
      new Logger().error("failed", { error });
    } finally {
      console.error = original;
    }
    return lines[0]!.error;
  }

  test("every cause with its type, message, fields and frames; secrets masked at every level", () => {
    const root = Object.assign(new Error(`connect failed for https://u:pw@h.example/ ${KEY}`), { reason: "net" });
    const middle = new MackerelUnavailableError(`Mackerel unavailable ${GHP}`, 502, root);
    const top = new ConfigurationError("the host could not be registered", { cause: middle });
    const record = logged(top);
    expect(record).toEqual({
      errorType: "ConfigurationError",
      errorMessage: "the host could not be registered",
      stackTrace: expect.arrayContaining([expect.stringMatching(/^at .*error-redaction\.test\.ts/)]),
      cause: {
        errorType: "MackerelUnavailableError",
        errorMessage: "Mackerel unavailable [REDACTED:github-token]",
        status: 502,
        stackTrace: expect.any(Array),
        cause: {
          errorType: "Error",
          errorMessage: expect.stringMatching(/^connect failed for https:\/\/.*\[secret\]$/),
          reason: "net",
          stackTrace: expect.any(Array),
        },
      },
    });
    const text = JSON.stringify(record);
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(":pw@");
    expect(text).not.toContain(GHP.slice(4, 12));
  });

  test("an AggregateError's errors, a cause that is not an Error, cycles and depth are bounded", () => {
    const aggregate = new AggregateError([new Error(`a ${KEY}`), "plain"], "all failed");
    expect(logged(new MackerelUnavailableError("x", undefined, aggregate)).cause).toMatchObject({
      errorType: "AggregateError",
      errorMessage: "all failed",
      errors: [{ errorType: "Error", errorMessage: "a [secret]" }, { errorMessage: "plain" }],
    });

    const a = new Error("a");
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(logged(a)).toMatchObject({
      errorMessage: "a",
      cause: { errorMessage: "b", cause: { errorMessage: "(cycle)" } },
    });

    let deep: Error = new Error("e0");
    for (let i = 1; i <= 10; i++) deep = new Error(`e${i}`, { cause: deep });
    let level: Record<string, unknown> | undefined = logged(deep);
    const messages: unknown[] = [];
    for (; level; level = level.cause as Record<string, unknown> | undefined) messages.push(level.errorMessage);
    expect(messages).toEqual(["e10", "e9", "e8", "e7", "e6", "e5"]);
  });
});

describe("the logger", () => {
  test("masks secret-looking values in every field and in errors, and the API key everywhere", () => {
    const lines: unknown[] = [];
    const original = console.error;
    console.error = (value: unknown) => lines.push(value);
    try {
      new Logger({ fn: "x" }).error("failed", {
        detail: `upstream said Authorization: Bearer ${"Zx".repeat(12)}`,
        nested: { list: [`key ${KEY}`] },
        error: new Error(`boom ${GHP}`),
      });
    } finally {
      console.error = original;
    }
    expect(lines).toEqual([
      {
        message: "failed",
        fn: "x",
        detail: "upstream said Authorization: Bearer [REDACTED:authorization]",
        nested: { list: ["key [secret]"] },
        error: {
          errorType: "Error",
          errorMessage: "boom [REDACTED:github-token]",
          stackTrace: expect.arrayContaining([expect.stringMatching(/^at .*error-redaction\.test\.ts/)]),
        },
      },
    ]);
  });
});

describe("the Mackerel client keeps Mackerel's status and at most a redacted, bounded message", () => {
  let server: Server;
  let url: string;
  let answer: { status: number; type: string; body: string };

  beforeAll(async () => {
    server = createServer((_req, res) =>
      res.writeHead(answer.status, { "content-type": answer.type }).end(answer.body),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const client = () =>
    new MackerelClient({
      baseUrl: url,
      apiKey: { get: async () => KEY, refresh: async () => KEY },
      maxAttempts: 1,
    });

  test("a JSON message that echoes the key and a token: masked, one line, at most 300 characters", async () => {
    answer = {
      status: 400,
      type: "application/json",
      body: JSON.stringify({ error: { message: `bad\nreport ${KEY} ${GHP} ${"x".repeat(1000)}` } }),
    };
    const error = (await client()
      .postServiceMetrics("s", [{ name: "m", time: 1, value: 1 }])
      .catch((e: unknown) => e)) as MackerelRejectedError;
    expect(error).toBeInstanceOf(MackerelRejectedError);
    expect(error.status).toBe(400);
    expect(error.mackerelMessage!.length).toBeLessThanOrEqual(300);
    expect(error.mackerelMessage).toMatch(/^bad report \[secret\] \[REDACTED:github-token\] x+…$/);
    expect(`${error.message}${error.stack}`).not.toContain(KEY);
  });

  test("a raw (HTML) body is never carried into the error", async () => {
    answer = { status: 502, type: "text/html", body: `<html>proxy error for ${GHP}</html>` };
    const error = (await client()
      .postServiceMetrics("s", [{ name: "m", time: 1, value: 1 }])
      .catch((e: unknown) => e)) as MackerelUnavailableError;
    expect(error).toBeInstanceOf(MackerelUnavailableError);
    expect(error.message).toBe("Mackerel unavailable: POST /api/v0/services/s/tsdb answered 502");
  });
});
