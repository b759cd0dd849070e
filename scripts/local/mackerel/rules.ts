/**
 * Mackerel's rules for what the functions send, written from the API documentation
 * (/work/shared/MACKEREL_API.md) and not imported from `functions/shared`, so that the stand-in checks
 * the functions instead of mirroring their bugs; and the field checks that turn a bad request into a
 * 400 naming the field.
 */

/** Service metric name (service-metrics API doc). */
export const SERVICE_METRIC_NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;
/** Custom host metric name (host-metrics API doc, "Regarding custom metric names and wildcards"). */
export const HOST_METRIC_NAME_PATTERN = /^custom(\.([-a-zA-Z0-9_]+|[*#]))+$/;
/** Service and role name: 2–63 characters of `A-Za-z0-9_-`, not starting with `-` or `_` (services API doc). */
export const SERVICE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{1,62}$/;
/** Check monitor name in a host registration's `checks` (hosts API doc). */
export const HOST_CHECK_NAME_PATTERN = /^[a-zA-Z0-9_-]+$/;
/** Check report statuses. */
export const CHECK_REPORT_STATUSES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const;
/** Host statuses (hosts API doc). */
export const HOST_STATUSES = ["working", "standby", "maintenance", "poweroff"] as const;

/** Metric points older than this (seconds) are accepted with 200 and not recorded. */
export const METRIC_MAX_AGE_SECONDS = 24 * 60 * 60;
/** Metric points further than this (seconds) in the future are refused or dropped (see `futureMetrics`). */
export const METRIC_MAX_FUTURE_SECONDS = 24 * 60 * 60;
/** Check reports whose occurredAt is this many seconds or more before the server's clock are ignored. */
export const CHECK_REPORT_MAX_AGE_SECONDS = 6 * 60 * 60;
/** At most this many reports per check report request. */
export const CHECK_REPORTS_MAX_PER_REQUEST = 100;
/** A check report message holds at most this many Unicode code points. */
export const CHECK_MESSAGE_MAX_CODE_POINTS = 1024;
/** Epoch values above this are taken for milliseconds (1e11 s is the year 5138) and refused. */
export const EPOCH_SECONDS_MAX = 1e11;

/** A host status. */
export type HostStatus = (typeof HOST_STATUSES)[number];
/** A check report status. */
export type CheckReportStatus = (typeof CHECK_REPORT_STATUSES)[number];

/** Number of Unicode code points in `text` (an emoji outside the BMP counts as one). */
export function codePointLength(text: string): number {
  // A string iterates by code point; a lone surrogate counts as one, as Mackerel counts it.
  return Array.from(text).length;
}

/** An error the server answers as `{"error":{"message":...}}` with `status`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** A value for an error message: JSON, cut at 60 characters. */
export function show(value: unknown): string {
  if (value === undefined) return "undefined";
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A 400 with `message`. */
export const bad = (message: string): HttpError => new HttpError(400, message);

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function requireString(value: unknown, field: string): string {
  if (typeof value !== "string") throw bad(`${field} must be a string (got ${show(value)})`);
  return value;
}

export function optionalString(value: unknown, field: string): string | undefined {
  return value === undefined ? undefined : requireString(value, field);
}

export function requireEpochSeconds(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw bad(`${field} must be an integer number of epoch seconds (got ${show(value)})`);
  }
  if (value > EPOCH_SECONDS_MAX) {
    throw bad(`${field} must be in epoch seconds; ${value} looks like milliseconds`);
  }
  if (value < 0) throw bad(`${field} must not be negative (got ${value})`);
  return value;
}

export function requireFiniteNumber(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw bad(`${field} must be a finite number (got ${show(value)})`);
  }
  return value;
}

export function requireArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw bad(`${field} must be an array (got ${show(value)})`);
  return value;
}

export function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (!isObject(value)) throw bad(`${field} must be an object (got ${show(value)})`);
  return value;
}

/** Stable map key of several parts. */
export const key = (...parts: (string | number)[]): string => JSON.stringify(parts);

/** Byte-order comparison of strings, for sorting views. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
