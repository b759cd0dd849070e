/** The freshness checks' input: `log_freshness` (a log group's newest event) and `s3_freshness` (a prefix's newest object). */
import * as z from "zod/mini";
import {
  commonFields,
  commonSpec,
  type CommonSpec,
  LOG_GROUP_NAME,
  LOG_GROUP_RULE,
  nonEmpty,
  opt,
  parseFields,
  wholeNumber,
} from "./common.js";

export interface LogFreshnessSpec extends CommonSpec {
  kind: "log_freshness";
  logGroupName: string;
  maxAgeMinutes: number;
}

export interface S3FreshnessSpec extends CommonSpec {
  kind: "s3_freshness";
  bucket: string;
  /** Key prefix; empty means the whole bucket. */
  prefix: string;
  maxAgeMinutes: number;
  bodyContains?: string;
}

export const S3_FRESHNESS_DEFAULTS = { prefix: "" } as const;

/** S3 bucket names (general purpose and directory buckets): 3–63 of a-z 0-9 . - */
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](--[a-z0-9-]+--x-s3)?$/;

const maxAgeMinutes = wholeNumber(1, 10080, "minutes");

const logFreshnessSchema = z.strictObject({
  kind: z.literal("log_freshness"),
  ...commonFields,
  log_group_name: z.string({ error: "is required" }).check(z.regex(LOG_GROUP_NAME, LOG_GROUP_RULE)),
  max_age_minutes: maxAgeMinutes,
});

const s3FreshnessSchema = z.strictObject({
  kind: z.literal("s3_freshness"),
  ...commonFields,
  bucket: z
    .string({ error: "is required" })
    .check(z.regex(S3_BUCKET, "must be an S3 bucket name (3–63 characters of a-z 0-9 . -)")),
  prefix: opt(
    z
      .string({ error: "must be a string" })
      .check(z.maxLength(1024, "must be at most 1024 characters (S3's key limit)")),
  ),
  max_age_minutes: maxAgeMinutes,
  body_contains: opt(nonEmpty),
});

/** Validates a `log_freshness` check. */
export function parseLogFreshnessSpec(raw: Record<string, unknown>, checkName: string | undefined): LogFreshnessSpec {
  const data = parseFields(logFreshnessSchema, raw, checkName);
  return {
    ...commonSpec(data),
    kind: "log_freshness",
    logGroupName: data.log_group_name,
    maxAgeMinutes: data.max_age_minutes,
  };
}

/** Validates an `s3_freshness` check and applies its defaults. */
export function parseS3FreshnessSpec(raw: Record<string, unknown>, checkName: string | undefined): S3FreshnessSpec {
  const data = parseFields(s3FreshnessSchema, raw, checkName);
  return {
    ...commonSpec(data),
    kind: "s3_freshness",
    bucket: data.bucket,
    prefix: data.prefix ?? S3_FRESHNESS_DEFAULTS.prefix,
    maxAgeMinutes: data.max_age_minutes,
    ...(data.body_contains === undefined ? {} : { bodyContains: data.body_contains }),
  };
}
