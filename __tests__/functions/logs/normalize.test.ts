import {
  lambdaFunctionName,
  logEventContext,
  normalizeLogEvent,
  parseLambdaLine,
} from "../../../functions/logs/normalize";
import { jsonLine, requestId, T0, textLine } from "./fixtures";

const RID = requestId(7);

describe("lambdaFunctionName", () => {
  test.each([
    ["/aws/lambda/orders", "orders"],
    ["/aws/lambda/my-func_v2", "my-func_v2"],
    ["/aws/lambda/us-east-1.edge-fn", "us-east-1.edge-fn"], // Lambda@Edge replicas
  ])("%s → %s", (group, name) => expect(lambdaFunctionName(group)).toBe(name));

  test.each(["/aws/lambda/", "/ecs/orders", "/aws/lambdax/orders", "aws/lambda/orders", "API-Gateway-Execution-Logs"])(
    "%s is not a Lambda function's log group",
    (group) => expect(lambdaFunctionName(group)).toBeUndefined(),
  );
});

describe("parseLambdaLine: Lambda's JSON log format", () => {
  test("application log: level and requestId", () => {
    expect(parseLambdaLine(jsonLine("ERROR", "boom", 7))).toEqual({ level: "ERROR", requestId: RID });
  });

  test("error object message (Node.js uncaught error) still yields level and requestId", () => {
    const line = jsonLine("ERROR", { errorType: "TypeError", errorMessage: "x is undefined", stackTrace: [] }, 7);
    expect(parseLambdaLine(line)).toEqual({ level: "ERROR", requestId: RID });
  });

  test("lower-case levels are upper-cased; WARN and Python's WARNING are both kept as written", () => {
    expect(parseLambdaLine('{"level":"warn","message":"m"}')).toEqual({ level: "WARN" });
    expect(parseLambdaLine('{"level":"WARNING","message":"m"}')).toEqual({ level: "WARNING" });
  });

  test("platform records: requestId from record, no level", () => {
    const start = JSON.stringify({
      time: "2023-11-14T22:13:20.000Z",
      type: "platform.start",
      record: { requestId: RID, version: "$LATEST" },
    });
    const report = JSON.stringify({
      time: "2023-11-14T22:13:20.000Z",
      type: "platform.report",
      record: { requestId: RID, metrics: { durationMs: 1.2 }, status: "success" },
    });
    expect(parseLambdaLine(start)).toEqual({ requestId: RID });
    expect(parseLambdaLine(report)).toEqual({ requestId: RID });
  });

  test("platform.initStart has neither", () => {
    expect(
      parseLambdaLine(
        '{"time":"2023-11-14T22:13:20.000Z","type":"platform.initStart","record":{"runtimeVersion":"nodejs:22"}}',
      ),
    ).toEqual({});
  });

  test("Powertools' function_request_id is a request id", () => {
    expect(parseLambdaLine(`{"level":"INFO","message":"m","function_request_id":"${RID}"}`)).toEqual({
      level: "INFO",
      requestId: RID,
    });
  });

  test("an unknown level word is not reported as a level", () => {
    expect(parseLambdaLine('{"level":"LOUD","message":"m"}')).toEqual({});
    expect(parseLambdaLine('{"level":3,"message":"m"}')).toEqual({});
  });

  test("a line that only starts with { (not JSON) yields nothing and does not throw", () => {
    expect(parseLambdaLine("{not json at all")).toEqual({});
    expect(parseLambdaLine("{")).toEqual({});
  });

  test("JSON that is not an object yields nothing", () => {
    expect(parseLambdaLine("[1,2]")).toEqual({});
  });
});

describe("parseLambdaLine: text formats", () => {
  test.each(["INFO", "WARN", "ERROR", "DEBUG", "TRACE", "FATAL"])("Node.js text format with level %s", (level) => {
    expect(parseLambdaLine(textLine(level, "something happened", 7))).toEqual({ level, requestId: RID });
  });

  test("Node.js line logged during init has request id 'undefined': level only", () => {
    expect(parseLambdaLine(`${new Date(T0).toISOString()}\tundefined\tINFO\tcold start\n`)).toEqual({ level: "INFO" });
  });

  test("text format without a level (older runtimes) yields the request id", () => {
    expect(parseLambdaLine(`${new Date(T0).toISOString()}\t${RID}\tjust a message\n`)).toEqual({ requestId: RID });
  });

  test("Lambda's timeout line (space separated) yields the request id", () => {
    expect(parseLambdaLine(`2023-11-14T22:13:20.000Z ${RID} Task timed out after 3.00 seconds\n`)).toEqual({
      requestId: RID,
    });
  });

  test("a line that merely starts with a time is not misread as having a request id", () => {
    expect(parseLambdaLine("2023-11-14T22:13:20Z something happened\tERROR\tx")).toEqual({});
  });

  test("Python text format: [LEVEL]\\t<time>\\t<request id>\\t<message>", () => {
    expect(parseLambdaLine(`[ERROR]\t2023-11-14T22:13:20.123Z\t${RID}\tsomething failed\n`)).toEqual({
      level: "ERROR",
      requestId: RID,
    });
    expect(parseLambdaLine(`[WARNING]\t2023-11-14T22:13:20.123Z\t${RID}\tcareful\n`)).toEqual({
      level: "WARNING",
      requestId: RID,
    });
  });

  test.each([
    [`START RequestId: ${RID} Version: $LATEST\n`],
    [`END RequestId: ${RID}\n`],
    [
      `REPORT RequestId: ${RID}\tDuration: 2.51 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 68 MB\t\n`,
    ],
    [`RequestId: ${RID} Error: Runtime exited with error: signal: killed\n`],
  ])("platform text line %j yields the request id and no level", (line) => {
    expect(parseLambdaLine(line)).toEqual({ requestId: RID });
  });

  test.each(["INIT_START Runtime Version: nodejs:22.v20", "plain text from a Go binary", "", "[not a level] x"])(
    "%j yields nothing",
    (line) => expect(parseLambdaLine(line)).toEqual({}),
  );
});

describe("normalizeLogEvent", () => {
  test("carries the payload's origin, the event's time and message, and the parsed fields", () => {
    const context = logEventContext({ logGroup: "/aws/lambda/orders", logStream: "2023/11/14/[$LATEST]abc" });
    const message = textLine("ERROR", "payment failed", 7);
    expect(normalizeLogEvent(context, { id: "42", timestamp: T0 + 5, message })).toEqual({
      logGroup: "/aws/lambda/orders",
      logStream: "2023/11/14/[$LATEST]abc",
      functionName: "orders",
      id: "42",
      timestamp: T0 + 5,
      message,
      level: "ERROR",
      requestId: RID,
    });
  });

  test("a non-Lambda log group has no functionName key, a plain line no level/requestId keys", () => {
    const context = logEventContext({ logGroup: "/ecs/web", logStream: "web/1" });
    const normalized = normalizeLogEvent(context, { id: "1", timestamp: T0, message: "GET / 200" });
    expect(normalized).toEqual({
      logGroup: "/ecs/web",
      logStream: "web/1",
      id: "1",
      timestamp: T0,
      message: "GET / 200",
    });
    expect(Object.keys(normalized)).not.toContain("functionName");
  });

  test("the context is computed once per payload and reused", () => {
    const context = logEventContext({ logGroup: "/aws/lambda/a", logStream: "s" });
    expect(context).toEqual({ logGroup: "/aws/lambda/a", logStream: "s", functionName: "a" });
    const a = normalizeLogEvent(context, { id: "1", timestamp: T0, message: "x" });
    const b = normalizeLogEvent(context, { id: "2", timestamp: T0, message: "y" });
    expect([a.functionName, b.functionName]).toEqual(["a", "a"]);
  });
});
