/**
 * Structured logging for the functions.
 *
 * The module's Lambdas use Lambda's JSON log format: the Node.js runtime turns `console.info(object)`
 * into one JSON record with timestamp, level and request id, and filters by the function's
 * application log level. So the logger only builds plain objects, and masks in them every secret it has
 * been told about (the API key) and whatever the redaction rules catch, before they leave the process.
 */
import { redactBuiltIn } from "./redact.js";

export { registerSecret, scrubSecrets } from "./secrets.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

/** Stack frames kept per error (V8 records 10 by default). */
const MAX_STACK_FRAMES = 20;
/** Causes followed from the logged error (`cause` of `cause` ...). */
const MAX_CAUSE_DEPTH = 5;
/** Errors of an AggregateError kept. */
const MAX_AGGREGATED = 5;

/**
 * An error as a log field, in the shape of Lambda's own error records (`errorType`, `errorMessage`,
 * `stackTrace`), with its typed fields, its `cause` chain and an AggregateError's `errors`. Redacted with the
 * rest of the record by {@link prepare}.
 */
function serializeError(error: unknown, depth = 0, seen = new Set<unknown>()): LogFields {
  if (!(error instanceof Error)) return { errorMessage: String(error) };
  seen.add(error);
  const fields: LogFields = { errorType: error.name, errorMessage: error.message };
  for (const key of ["status", "mackerelMessage", "issues", "reason"] as const) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (value !== undefined) fields[key] = value;
  }
  const frames = (error.stack ?? "")
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .slice(0, MAX_STACK_FRAMES)
    .map((line) => line.trim());
  if (frames.length > 0) fields.stackTrace = frames;
  const follow = (inner: unknown): LogFields =>
    seen.has(inner) ? { errorMessage: "(cycle)" } : serializeError(inner, depth + 1, seen);
  if (depth < MAX_CAUSE_DEPTH) {
    if ("cause" in error && error.cause !== undefined) fields.cause = follow(error.cause);
    if (error instanceof AggregateError) fields.errors = error.errors.slice(0, MAX_AGGREGATED).map(follow);
  }
  return fields;
}

function prepare(message: string, fields: LogFields | undefined): LogFields {
  const record: LogFields = { message };
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      record[key] = key === "error" ? serializeError(value) : value;
    }
  }
  // Through JSON first, so what is logged is what console would print (Dates, toJSON), then every string.
  return redactValues(JSON.parse(JSON.stringify(record))) as LogFields;
}

/** Every string in a record, redacted (keys are ours; values may carry data or error messages). */
function redactValues(value: unknown): unknown {
  if (typeof value === "string") return redactBuiltIn(value);
  if (Array.isArray(value)) return value.map(redactValues);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = redactValues(inner);
    return out;
  }
  return value;
}

/** A small structured logger with persistent fields (e.g. function, rule). */
export class Logger {
  constructor(private readonly base: LogFields = {}) {}

  /** A logger that adds `fields` to every record. */
  child(fields: LogFields): Logger {
    return new Logger({ ...this.base, ...fields });
  }

  debug(message: string, fields?: LogFields): void {
    this.write("debug", message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.write("info", message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.write("warn", message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.write("error", message, fields);
  }

  private write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    console[level](prepare(message, { ...this.base, ...fields }));
  }
}

/** The process-wide logger. */
export const logger = new Logger();
