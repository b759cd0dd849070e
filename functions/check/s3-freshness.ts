/**
 * S3 freshness checks, the dead-man's switch of schedulers that drop a "pulse" file in S3 every few
 * minutes: the newest object under the prefix (ListObjectsV2, every page) must be younger than
 * max_age; optionally its first bytes (GetObject with a Range) must contain an expected text, for
 * pulses that carry a status.
 */
import { awsErrorName, describeAwsError } from "./aws.js";
import type { S3Api, S3ObjectSummary } from "./aws-s3.js";
import { type CheckOutcome, formatDuration, isoSeconds, unknown } from "./outcome.js";
import { excerpt } from "./redact.js";
import { callTimeout, type RunContext } from "./run-context.js";
import type { S3FreshnessSpec } from "./spec.js";

/** ListObjectsV2 pages (1000 keys each) read at most: a prefix with more objects needs a narrower prefix. */
export const MAX_PAGES = 100;
/** Bytes of the newest object read for body_contains. */
export const BODY_READ_BYTES = 64 * 1024;
const CALL_TIMEOUT_MS = 10_000;
const RESERVE_MS = 500;

/** `s3://bucket/prefix` for messages. */
export function s3Location(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The newest object of a page and the newest so far (ties: the greater key, so the choice is stable). */
export function newer(a: S3ObjectSummary | undefined, b: S3ObjectSummary): S3ObjectSummary {
  if (!a) return b;
  if (b.lastModifiedMs !== a.lastModifiedMs) return b.lastModifiedMs > a.lastModifiedMs ? b : a;
  return b.key > a.key ? b : a;
}

export type S3Observation =
  | { kind: "found"; newest: S3ObjectSummary; objects: number; body?: string }
  | { kind: "empty" }
  | { kind: "missing-bucket" };

/** Turns what was found into the check's outcome. Pure. */
export function evaluateS3Freshness(spec: S3FreshnessSpec, observation: S3Observation, nowMs: number): CheckOutcome {
  const limit = formatDuration(spec.maxAgeMinutes * 60);
  const where = s3Location(spec.bucket, spec.prefix);
  if (observation.kind === "missing-bucket") {
    return {
      status: "CRITICAL",
      message: `CRITICAL: bucket ${spec.bucket} does not exist, so nothing has written to ${where} (limit ${limit})`,
      metrics: {},
    };
  }
  if (observation.kind === "empty") {
    return {
      status: "CRITICAL",
      message: `CRITICAL: no object under ${where} (max_age_minutes ${spec.maxAgeMinutes})`,
      metrics: { objects: 0 },
    };
  }
  const { newest, objects } = observation;
  const ageSeconds = Math.max(0, Math.floor((nowMs - newest.lastModifiedMs) / 1000));
  const metrics = { age_seconds: ageSeconds, objects };
  const object = s3Location(spec.bucket, newest.key);
  const modified = isoSeconds(Math.floor(newest.lastModifiedMs / 1000));
  if (ageSeconds > spec.maxAgeMinutes * 60) {
    return {
      status: "CRITICAL",
      message: `CRITICAL: the newest object under ${where} is ${object}, ${formatDuration(ageSeconds)} old (last modified ${modified}; limit ${limit})`,
      metrics,
    };
  }
  if (spec.bodyContains !== undefined && !(observation.body ?? "").includes(spec.bodyContains)) {
    return {
      status: "CRITICAL",
      message: `CRITICAL: the newest object ${object} (${formatDuration(ageSeconds)} old) does not contain ${JSON.stringify(spec.bodyContains)} in its first ${BODY_READ_BYTES / 1024} KiB\nbody: ${excerpt(observation.body ?? "", 300) || "(empty)"}`,
      metrics,
    };
  }
  return {
    status: "OK",
    message: `OK: the newest object under ${where} is ${object}, ${formatDuration(ageSeconds)} old (limit ${limit})${spec.bodyContains !== undefined ? `, and contains ${JSON.stringify(spec.bodyContains)}` : ""}`,
    metrics,
  };
}

/** Runs an S3 freshness check; AWS failures other than a missing bucket become UNKNOWN. */
export async function runS3FreshnessCheck(
  spec: S3FreshnessSpec,
  s3: S3Api,
  context: RunContext,
): Promise<CheckOutcome> {
  let newest: S3ObjectSummary | undefined;
  let objects = 0;
  let continuationToken: string | undefined;
  try {
    for (let page = 0; ; page++) {
      if (page === MAX_PAGES) {
        return unknown(
          `${s3Location(spec.bucket, spec.prefix)} holds more than ${MAX_PAGES * 1000} objects (${MAX_PAGES} pages read): use a narrower prefix or expire old pulses with a lifecycle rule`,
        );
      }
      if (context.remainingMs() < RESERVE_MS) {
        return unknown(`no time left to list ${s3Location(spec.bucket, spec.prefix)} (${page} pages read)`);
      }
      const response = await s3.listObjectsV2(
        { bucket: spec.bucket, prefix: spec.prefix, ...(continuationToken ? { continuationToken } : {}) },
        { timeoutMs: callTimeout(context, CALL_TIMEOUT_MS) },
      );
      for (const object of response.objects) newest = newer(newest, object);
      objects += response.objects.length;
      continuationToken = response.nextContinuationToken;
      if (!continuationToken) break;
    }
  } catch (error) {
    if (awsErrorName(error) === "NoSuchBucket") {
      return evaluateS3Freshness(spec, { kind: "missing-bucket" }, context.nowMs);
    }
    return unknown(`ListObjectsV2 on ${spec.bucket} failed: ${describeAwsError(error)}`);
  }
  if (!newest) return evaluateS3Freshness(spec, { kind: "empty" }, context.nowMs);

  let body: string | undefined;
  const fresh = context.nowMs - newest.lastModifiedMs <= spec.maxAgeMinutes * 60_000;
  if (spec.bodyContains !== undefined && fresh) {
    try {
      body = await s3.readObjectStart(
        { bucket: spec.bucket, key: newest.key, maxBytes: BODY_READ_BYTES },
        { timeoutMs: callTimeout(context, CALL_TIMEOUT_MS) },
      );
    } catch (error) {
      return unknown(`GetObject of ${s3Location(spec.bucket, newest.key)} failed: ${describeAwsError(error)}`);
    }
  }
  return evaluateS3Freshness(
    spec,
    { kind: "found", newest, objects, ...(body === undefined ? {} : { body }) },
    context.nowMs,
  );
}
