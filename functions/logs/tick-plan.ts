/**
 * The tick's decisions, pure: which minutes are closed, which points a rule posts (new minutes zero-filled,
 * corrections, nothing older than 24 hours), and when a rule's alert closes. The tick (`tick.ts`) acts on them.
 */
import { METRIC_RETENTION_SECONDS } from "../shared/names.js";
import type { MinuteBucket, RuleState } from "../shared/state-store.js";

/** A minute is flushed this long after it ends (late events within it are in the first post). */
export const TICK_GRACE_SECONDS = 120;
/** Minutes older than 24 h minus this are never posted (a spooled point must still be within 24 h on arrival). */
export const EXPIRY_MARGIN_SECONDS = 10 * 60;

/** The metric of a rule's per-minute counts. */
export const ruleMetricName = (rule: string): string => `logs.${rule}.count`;

/** The last closed minute (its first second) at `nowSec`: it ended at least {@link TICK_GRACE_SECONDS} ago. */
export function lastClosedMinute(nowSec: number, graceSeconds = TICK_GRACE_SECONDS): number {
  return Math.floor((nowSec - graceSeconds) / 60) * 60 - 60;
}

/** The oldest minute still worth posting at `nowSec`. */
export function oldestPostableMinute(nowSec: number): number {
  return Math.ceil((nowSec - METRIC_RETENTION_SECONDS + EXPIRY_MARGIN_SECONDS) / 60) * 60;
}

export interface FlushInput {
  /** The rule's buckets (epoch minute → count, posted). */
  minutes: ReadonlyMap<number, MinuteBucket>;
  /** The last minute already flushed; undefined for a rule never flushed. */
  watermark: number | undefined;
  /** The last closed minute. */
  closed: number;
  /** The oldest minute still worth posting. */
  oldest: number;
}

export interface FlushPlan {
  /** Points to post, in time order: the new closed minutes (zero-filled), then corrections. */
  points: { time: number; value: number }[];
  /** The watermark after the post; undefined when it does not move. */
  watermark: number | undefined;
  /** New minutes posted (the normal flush) and minutes re-posted with a changed total. */
  flushed: number;
  corrections: number;
  /** Minutes never posted because they were older than {@link FlushInput.oldest}, and their matches. */
  expiredMinutes: number;
  expiredMatches: number;
}

/**
 * Decides a rule's points for one tick. Pure.
 *
 * - New minutes: `(watermark, closed]`, each with its count or 0. A rule never flushed starts at its oldest
 *   bucket (or at `closed` when it has none).
 * - Corrections: minutes up to the watermark whose count differs from what Mackerel accepted (an unmarked
 *   minute was posted as 0, or not marked because its count changed).
 * - Nothing older than `oldest`.
 */
export function planFlush(input: FlushInput): FlushPlan {
  const { minutes, watermark, closed, oldest } = input;
  let from: number;
  if (watermark === undefined) {
    let earliest = closed;
    for (const [minute, bucket] of minutes) if (bucket.count > 0 && minute < earliest) earliest = minute;
    from = earliest;
  } else from = watermark + 60;

  let expiredMinutes = 0;
  let expiredMatches = 0;
  if (from < oldest) {
    expiredMinutes = Math.min(oldest, closed + 60) / 60 - from / 60;
    for (const [minute, bucket] of minutes) {
      if (minute >= from && minute < oldest && minute <= closed) expiredMatches += bucket.count;
    }
    from = oldest;
  }

  const points: { time: number; value: number }[] = [];
  for (let minute = from; minute <= closed; minute += 60) {
    points.push({ time: minute, value: minutes.get(minute)?.count ?? 0 });
  }
  const flushed = points.length;
  const corrections = [...minutes]
    .filter(([minute, bucket]) => minute < from && minute >= oldest && bucket.count !== (bucket.posted ?? 0))
    .sort(([a], [b]) => a - b);
  for (const [minute, bucket] of corrections) points.push({ time: minute, value: bucket.count });

  return {
    points,
    watermark: flushed > 0 ? closed : undefined,
    flushed,
    corrections: corrections.length,
    expiredMinutes: Math.max(0, expiredMinutes),
    expiredMatches,
  };
}

/** Whether a rule's alert should close now: its newest report is not OK and it has been quiet long enough. */
export function recoveryDue(recoverAfterMinutes: number, state: RuleState, nowMs: number): boolean {
  if (state.reportedStatus === undefined || state.reportedStatus === "OK") return false;
  return state.lastMatchAt === undefined || state.lastMatchAt <= nowMs - recoverAfterMinutes * 60_000;
}
