/**
 * Log freshness checks, the dead-man's switch for any log producer: is there an event in the log group
 * newer than max_age? FilterLogEvents with startTime = now − max_age is exact; DescribeLogStreams'
 * lastEventTimestamp can lag up to an hour and is never used.
 */
import { awsErrorName, describeAwsError, type LogsApi } from "./aws.js";
import { type CheckOutcome, formatDuration, unknown } from "./outcome.js";
import { callTimeout, type RunContext } from "./run-context.js";
import type { LogFreshnessSpec } from "./spec.js";

/** FilterLogEvents may return empty pages with a nextToken; follow at most this many. */
export const MAX_PAGES = 20;
const CALL_TIMEOUT_MS = 10_000;
const RESERVE_MS = 500;

export type FreshnessObservation =
  | { found: true; newestTimestampMs: number }
  | { found: false; reason: "none" }
  | { found: false; reason: "missing-group" };

/** Turns what was found into the check's outcome. Pure. */
export function evaluateFreshness(
  spec: LogFreshnessSpec,
  observation: FreshnessObservation,
  nowMs: number,
): CheckOutcome {
  const limit = formatDuration(spec.maxAgeMinutes * 60);
  if (observation.found) {
    // An event found with limit 1 is the first the service returns, not necessarily the newest: its
    // age is an upper bound of the newest event's age (exact when one event is in the window).
    const age = Math.max(0, Math.floor((nowMs - observation.newestTimestampMs) / 1000));
    return {
      status: "OK",
      message: `OK: ${spec.logGroupName} has an event from ${formatDuration(age)} ago (limit ${limit})`,
      metrics: { age_seconds: age },
    };
  }
  if (observation.reason === "missing-group") {
    return {
      status: "CRITICAL",
      message: `CRITICAL: log group ${spec.logGroupName} does not exist, so nothing has logged to it (limit ${limit})`,
      metrics: {},
    };
  }
  return {
    status: "CRITICAL",
    message: `CRITICAL: no event in ${spec.logGroupName} for the last ${limit} (max_age_minutes ${spec.maxAgeMinutes})`,
    metrics: {},
  };
}

/** Runs a log freshness check; AWS failures other than a missing log group become UNKNOWN. */
export async function runLogFreshnessCheck(
  spec: LogFreshnessSpec,
  logs: LogsApi,
  context: RunContext,
): Promise<CheckOutcome> {
  const startTime = context.nowMs - spec.maxAgeMinutes * 60_000;
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      if (context.remainingMs() < RESERVE_MS)
        return unknown(`no time left to search ${spec.logGroupName} (${page} pages read)`);
      const response = await logs.filterLogEvents(
        { logGroupName: spec.logGroupName, startTime, limit: 1, ...(nextToken ? { nextToken } : {}) },
        { timeoutMs: callTimeout(context, CALL_TIMEOUT_MS) },
      );
      const timestamps = (response.events ?? [])
        .map((e) => e.timestamp)
        .filter((t): t is number => typeof t === "number");
      if (timestamps.length > 0) {
        return evaluateFreshness(spec, { found: true, newestTimestampMs: Math.max(...timestamps) }, context.nowMs);
      }
      nextToken = response.nextToken;
      // No token: the search is complete and found nothing. (Empty pages with a token are not the end.)
      if (!nextToken) return evaluateFreshness(spec, { found: false, reason: "none" }, context.nowMs);
    }
    return unknown(
      `FilterLogEvents returned ${MAX_PAGES} empty pages without finishing the search of ${spec.logGroupName}`,
    );
  } catch (error) {
    if (awsErrorName(error) === "ResourceNotFoundException") {
      return evaluateFreshness(spec, { found: false, reason: "missing-group" }, context.nowMs);
    }
    return unknown(`FilterLogEvents failed: ${describeAwsError(error)}`);
  }
}
