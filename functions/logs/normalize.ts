/**
 * Normalizes CloudWatch log events into what rules report on: where the line came from (log group, stream,
 * Lambda function), when, and — for Lambda's own formats — its level and request id.
 *
 * Only events a rule matched are normalized (see `evaluate`), so parsing here costs per sample, not per
 * event; it is still lazy: JSON is parsed only for lines that start with `{`.
 */
import type { LogEvent } from "./decode.js";

/** What is common to every event of one payload; computed once per payload. */
export interface LogEventContext {
  readonly logGroup: string;
  readonly logStream: string;
  /** The Lambda function for log groups named `/aws/lambda/<name>`. */
  readonly functionName: string | undefined;
}

/** A log event with its origin and, where the format tells, its level and request id. */
export interface NormalizedLogEvent {
  readonly logGroup: string;
  readonly logStream: string;
  readonly functionName?: string;
  /** CloudWatch's event id (unique per event; useful to de-duplicate redeliveries). */
  readonly id: string;
  /** Epoch milliseconds, as CloudWatch Logs recorded the event. */
  readonly timestamp: number;
  /** The raw message, as the rules saw it. */
  readonly message: string;
  /** Upper-case level (`ERROR`, `WARN`, `WARNING`, ...) from Lambda's JSON or text log format. */
  readonly level?: string;
  readonly requestId?: string;
}

/** Level and request id found in one message. */
export interface LambdaLineFields {
  readonly level?: string;
  readonly requestId?: string;
}

const LAMBDA_LOG_GROUP_PREFIX = "/aws/lambda/";

/** The function name of a `/aws/lambda/<name>` log group, or undefined for any other log group. */
export function lambdaFunctionName(logGroup: string): string | undefined {
  if (!logGroup.startsWith(LAMBDA_LOG_GROUP_PREFIX)) return undefined;
  const name = logGroup.slice(LAMBDA_LOG_GROUP_PREFIX.length);
  return name === "" ? undefined : name;
}

/** The per-payload part of normalization: call once per payload, then {@link normalizeLogEvent} per event. */
export function logEventContext(payload: { readonly logGroup: string; readonly logStream: string }): LogEventContext {
  return {
    logGroup: payload.logGroup,
    logStream: payload.logStream,
    functionName: lambdaFunctionName(payload.logGroup),
  };
}

/** Normalizes one event of a payload whose context is `context`. */
export function normalizeLogEvent(context: LogEventContext, event: LogEvent): NormalizedLogEvent {
  const { level, requestId } = parseLambdaLine(event.message);
  return {
    logGroup: context.logGroup,
    logStream: context.logStream,
    ...(context.functionName !== undefined && { functionName: context.functionName }),
    id: event.id,
    timestamp: event.timestamp,
    message: event.message,
    ...(level !== undefined && { level }),
    ...(requestId !== undefined && { requestId }),
  };
}

const NO_FIELDS: LambdaLineFields = {};

const LEVELS = new Set(["TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL"]);

/** `START RequestId: <id> Version: ...`, `END RequestId: <id>`, `REPORT RequestId: <id>\t...`. */
const PLATFORM_TEXT = /^(?:START|END|REPORT) RequestId: ([^\s]+)/;
/** `RequestId: <id> Error: Runtime exited ...`. */
const REQUEST_ID_TEXT = /^RequestId: ([^\s]+)/;
/**
 * Node.js and the other runtimes' text format: `<ISO time>\t<request id>\t<LEVEL>\t<message>`, and Lambda's
 * own `<ISO time> <request id> Task timed out after 3.00 seconds` (space separated, no level). The request id
 * must look like one (a UUID), so an arbitrary line that starts with a time is not misread.
 */
const TIME_FIRST_TEXT =
  /^\d{4}-\d\d-\d\dT[\d:.]+Z[\t ]([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|undefined)[\t ](?:([A-Z]+)\t)?/;
/** Python's text format: `[LEVEL]\t<ISO time>\t<request id>\t<message>`. */
const LEVEL_FIRST_TEXT = /^\[([A-Z]+)\]\t[^\t]*\t([^\t]*)\t/;

/**
 * Level and request id of a Lambda log line, in JSON log format (`{"timestamp","level","message",
 * "requestId",...}`, and platform records `{"time","type":"platform.*","record":{"requestId",...}}`) or text
 * format (see the patterns above). Returns no fields for lines in any other format.
 */
export function parseLambdaLine(message: string): LambdaLineFields {
  const first = message.charCodeAt(0);
  if (first === 0x7b /* { */) return parseJsonLine(message);
  if (first === 0x5b /* [ */) {
    const m = LEVEL_FIRST_TEXT.exec(message);
    return m ? fields(m[1], m[2]) : NO_FIELDS;
  }
  if (first >= 0x30 && first <= 0x39 /* 0-9 */) {
    const m = TIME_FIRST_TEXT.exec(message);
    return m ? fields(m[2], m[1]) : NO_FIELDS;
  }
  const m = PLATFORM_TEXT.exec(message) ?? REQUEST_ID_TEXT.exec(message);
  return m ? fields(undefined, m[1]) : NO_FIELDS;
}

function parseJsonLine(message: string): LambdaLineFields {
  let record: unknown;
  try {
    record = JSON.parse(message);
  } catch {
    return NO_FIELDS; // A line that merely starts with `{`.
  }
  if (typeof record !== "object" || record === null) return NO_FIELDS;
  const r = record as Record<string, unknown>;
  const nested = typeof r.record === "object" && r.record !== null ? (r.record as Record<string, unknown>) : {};
  // Powertools for AWS Lambda loggers write `function_request_id` instead of `requestId`.
  const requestId = r.requestId ?? nested.requestId ?? r.function_request_id;
  return fields(
    typeof r.level === "string" ? r.level : undefined,
    typeof requestId === "string" ? requestId : undefined,
  );
}

function fields(level: string | undefined, requestId: string | undefined): LambdaLineFields {
  const upper = level?.toUpperCase();
  const knownLevel = upper !== undefined && LEVELS.has(upper) ? upper : undefined;
  // Node.js writes `undefined` as the request id of lines logged outside a request (during init).
  const id = requestId === undefined || requestId === "" || requestId === "undefined" ? undefined : requestId;
  if (knownLevel === undefined && id === undefined) return NO_FIELDS;
  return { ...(knownLevel !== undefined && { level: knownLevel }), ...(id !== undefined && { requestId: id }) };
}
