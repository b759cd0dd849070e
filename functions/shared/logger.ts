/**
 * Structured logging for the functions.
 *
 * The module's Lambdas use Lambda's JSON log format: the Node.js runtime turns `console.info(object)`
 * into one JSON record with timestamp, level and request id, and filters by the function's
 * application log level. So the logger only builds plain objects, and scrubs every secret it has
 * been told about from them before they leave the process.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const secrets = new Set<string>();

/** Registers a value (e.g. the API key) that must never appear in a log line. */
export function registerSecret(value: string): void {
  if (value.length >= 4) secrets.add(value);
}

/** Replaces every registered secret in `text`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join("[secret]");
  }
  return out;
}

function serializeError(error: unknown): LogFields {
  if (error instanceof Error) {
    const fields: LogFields = { errorType: error.name, errorMessage: error.message };
    for (const key of ["status", "mackerelMessage", "issues", "reason"] as const) {
      const value = (error as unknown as Record<string, unknown>)[key];
      if (value !== undefined) fields[key] = value;
    }
    return fields;
  }
  return { errorMessage: String(error) };
}

function prepare(message: string, fields: LogFields | undefined): LogFields {
  const record: LogFields = { message };
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      record[key] = key === "error" ? serializeError(value) : value;
    }
  }
  if (secrets.size === 0) return record;
  // Round-trip through JSON so nested values are scrubbed too; logs are not on a hot path.
  return JSON.parse(scrubSecrets(JSON.stringify(record))) as LogFields;
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
