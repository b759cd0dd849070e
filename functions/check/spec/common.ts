/**
 * What every check kind's input shares: the common fields, the field builders, null handling, the one way a
 * bad input fails ({@link CheckInputError} with `check.<path>: <rule>` issues) and {@link parseFields}, which
 * each kind's parser (one file per kind beside this one) starts with.
 */
import * as z from "zod/mini";
import { CheckInputError } from "../../shared/errors.js";
import { CHECK_NAME } from "../../shared/names.js";

export type Direction = "above" | "below";

/** What every kind shares. */
export interface CommonSpec {
  name: string;
  /** Mackerel's notification interval of the check's alerts, in minutes (>= 10). */
  notificationInterval?: number;
  /** Consecutive non-OK reports before Mackerel opens an alert (1–10). */
  maxCheckAttempts?: number;
}

const CHECK_NAME_RULE = "must be 1–64 characters of a-zA-Z0-9_- (Mackerel check name and metric segment)";
export const LOG_GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
export const LOG_GROUP_RULE = "must be 1–512 characters of a-zA-Z0-9 . - _ / #";

/** `null` and absent are the same: Terraform sends null for unset optional attributes (see {@link parseFields}). */
export const opt = z.nullish;

export const wholeNumber = (min: number, max: number, unit: string) =>
  z
    .int(`must be a whole number of ${unit}`)
    .check(z.minimum(min, `must be at least ${min} ${unit}`), z.maximum(max, `must be at most ${max} ${unit}`));
export const threshold = z.number({ error: "must be a number" }).check(z.refine((v) => v >= 0, "must be zero or more"));
export const nonEmpty = z.string({ error: "must be a string" }).check(z.minLength(1, "must not be empty"));
export const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });
/** A query text (Logs Insights, OpenSearch). */
export const queryText = z.string({ error: "is required" }).check(
  z.refine((q) => q.trim() !== "", "must not be empty"),
  z.maxLength(10000, "must be at most 10000 characters"),
);

/** A query's time window (Logs Insights, OpenSearch). */
export const queryWindowFields = {
  window_minutes: opt(wholeNumber(1, 10080, "minutes")),
  offset_minutes: opt(wholeNumber(0, 10080, "minutes")),
};

/** Thresholds on a value and the direction in which it is bad (Logs Insights, OpenSearch). */
export const directedThresholdFields = {
  warning: opt(threshold),
  critical: opt(threshold),
  direction: opt(z.enum(["above", "below"], { error: "must be above or below" })),
};

/** The fields of every kind. */
export const commonFields = {
  name: z.string({ error: "is required" }).check(z.regex(CHECK_NAME, CHECK_NAME_RULE)),
  /** Used by the module's rule only; accepted and ignored here. */
  schedule: opt(z.string()),
  notification_interval: opt(wholeNumber(10, 525600, "minutes")),
  max_check_attempts: opt(wholeNumber(1, 10, "attempts")),
};

/** Fails the input with its issues; `checkName` when the name is valid, so the check can still report. */
export function fail(issues: string[], checkName?: string): never {
  throw new CheckInputError(`invalid check input: ${issues.join("; ")}`, issues, checkName);
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "check";
  for (const segment of path) out += typeof segment === "number" ? `[${segment}]` : `.${String(segment)}`;
  return out;
}

/** A schema's output with null (Terraform's unset) turned into absent. */
export type WithoutNulls<T> = { [K in keyof T]: Exclude<T[K], null> };

/**
 * Validates `raw` against a kind's schema and turns null into absent, so `??` applies the defaults and unset
 * optional fields stay unset.
 */
export function parseFields<S extends z.ZodMiniType<Record<string, unknown>>>(
  schema: S,
  raw: Record<string, unknown>,
  checkName: string | undefined,
): WithoutNulls<z.output<S>> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    fail(
      result.error.issues.map((issue) =>
        issue.code === "unrecognized_keys"
          ? `${formatPath(issue.path)}: unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")} for kind ${String(raw.kind)}`
          : `${formatPath(issue.path)}: ${issue.message}`,
      ),
      checkName,
    );
  }
  return Object.fromEntries(Object.entries(result.data).filter(([, v]) => v !== null)) as WithoutNulls<z.output<S>>;
}

/** The common part of a parsed spec. */
export function commonSpec(data: {
  name: string;
  notification_interval?: number;
  max_check_attempts?: number;
}): CommonSpec {
  return {
    name: data.name,
    ...(data.notification_interval === undefined ? {} : { notificationInterval: data.notification_interval }),
    ...(data.max_check_attempts === undefined ? {} : { maxCheckAttempts: data.max_check_attempts }),
  };
}

/** Whether a threshold pair is ordered so that WARNING comes before CRITICAL in the given direction. */
export function thresholdsOrdered(warning: number | undefined, critical: number | undefined, direction: Direction) {
  if (warning === undefined || critical === undefined) return true;
  return direction === "above" ? warning <= critical : warning >= critical;
}

/** Fails unless WARNING comes before CRITICAL in `direction` (Logs Insights and OpenSearch thresholds). */
export function requireOrderedThresholds(
  data: { warning?: number; critical?: number },
  direction: Direction,
  checkName: string | undefined,
): void {
  if (!thresholdsOrdered(data.warning, data.critical, direction)) {
    fail(
      [
        `check.warning: must be ${direction === "above" ? "at most" : "at least"} critical when direction is ${direction}`,
      ],
      checkName,
    );
  }
}
