/**
 * The per-minute tick (`{"tick": {}}` from a one-minute EventBridge rule to the check function):
 *
 * 1. Flushes the log rules' per-minute counts as service metrics `logs.<rule>.count` in the module's service:
 *    every closed minute exactly once per rule (a per-rule watermark `flushedThrough`), zero-filled, and a
 *    minute whose total changed after it was posted (a late event) again with its new total, which Mackerel's
 *    one-value-per-minute rule turns into a correction.
 *    - A minute is closed {@link TICK_GRACE_SECONDS} after it ends: CloudWatch Logs delivers subscription events
 *      within seconds, and Lambda's asynchronous queue adds a little more; later events are still counted and
 *      corrected by a re-post.
 *    - A bucket is marked (`pMM`, conditional on its count) and the watermark moved (conditional on its old
 *      value) only after Mackerel took the points (or the spool did, which delivers them: during an outage
 *      the backlog must not be re-spooled every minute). A rejected write leaves both untouched.
 *    - Catch-up is bounded: minutes older than 24 hours (minus {@link EXPIRY_MARGIN_SECONDS}) are never
 *      posted, only counted as expired.
 * 2. Posts OK, once, for a rule whose newest match is older than its `recover_after_minutes` and whose newest
 *    report is not OK (a conditional claim in the state table; a match in between defeats it).
 * 3. Reports UNKNOWN (at most hourly) for a rule that cannot run.
 * 4. Posts the heartbeat host metric {@link HEARTBEAT_METRIC} = 1 for the module's host, so that Mackerel's
 *    connectivity monitoring alerts when the pipeline itself stops. It is posted only when the tick could read
 *    the state table: a tick that cannot do its work must not look alive.
 *
 * Overlapping ticks (a slow tick, an EventBridge duplicate, Lambda's retry of a failed tick) never post twice:
 * a tick first takes the `tick` lease in the state table for its whole run (its remaining time, plus a margin),
 * and one that cannot returns at once. The conditional watermark is a second guard.
 */
import { parseEnvironment, tickEnvironment, type TickEnvironment } from "../shared/config.js";
import { deliver, type DeliveryCounts, spooledTotal, throwIfRejected } from "../shared/delivery.js";
import { emitMetrics } from "../shared/emf.js";
import type { LambdaContext } from "../shared/lambda.js";
import type { Logger } from "../shared/logger.js";
import type { CheckReport, MackerelWrite, ServiceMetricPoint } from "../shared/mackerel-client.js";
import { METRIC_RETENTION_SECONDS } from "../shared/names.js";
import type { Runtime } from "../shared/runtime.js";
import { hostIdOrPlaceholder, SPOOL_HOST_PLACEHOLDER } from "../shared/spool.js";
import { type MinuteBucket, type RuleState, sharedStateStore } from "../shared/state/index.js";
import { claimBrokenRuleReports, type PendingReport, recoveryMessage } from "../logs/rule-reports.js";
import { loadConfiguredRuleSet, type RuleSet } from "../logs/rule-set.js";

/** A minute is flushed this long after it ends (late events within it are in the first post). */
export const TICK_GRACE_SECONDS = 120;
/** Minutes older than 24 h minus this are never posted (a spooled point must still be within 24 h on arrival). */
export const EXPIRY_MARGIN_SECONDS = 10 * 60;
/** The pipeline's own heartbeat, a custom host metric of the module's host. */
export const HEARTBEAT_METRIC = "custom.mackerel_serverless.heartbeat";
/** The lease that keeps ticks from overlapping. */
export const TICK_LEASE = "tick";
/** The lease outlives the tick's deadline by this much (clock differences between containers). */
const LEASE_MARGIN_MS = 10_000;
/** Rules read in parallel. */
const READ_CONCURRENCY = 8;

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

export type TickResult =
  | { outcome: "skipped"; reason: "another tick holds the lease" }
  | {
      outcome: "ticked";
      /** Per rule: points posted (new minutes and corrections). */
      points: Record<string, number>;
      corrections: number;
      expiredMinutes: number;
      /** Rules whose alert was closed with an OK report. */
      recovered: string[];
      /** Rules reported UNKNOWN because they cannot run. */
      unknown: string[];
      heartbeat: boolean;
      posted: DeliveryCounts;
      spooled: boolean;
    };

let ruleSet: RuleSet | undefined;
let tickEnv: TickEnvironment | undefined;

/** Runs one tick. Throws when the state table or Mackerel cannot do their part (the function's Errors alarm). */
export async function runTick(rt: Runtime, context: LambdaContext, log: Logger): Promise<TickResult> {
  const env = (tickEnv ??= parseEnvironment(tickEnvironment));
  const store = sharedStateStore(env.STATE_TABLE_NAME);
  ruleSet ??= await loadConfiguredRuleSet(env, store);
  const rules = ruleSet.rules;

  const nowMs = Date.now();
  const nowSec = Math.floor(nowMs / 1000);
  const owner = context.awsRequestId;
  if (!(await store.acquireLease(TICK_LEASE, owner, nowMs + context.getRemainingTimeInMillis() + LEASE_MARGIN_MS))) {
    log.info("another tick holds the lease: this one does nothing");
    return { outcome: "skipped", reason: "another tick holds the lease" };
  }
  try {
    const closed = lastClosedMinute(nowSec);
    const oldest = oldestPostableMinute(nowSec);
    const views = await mapLimit(rules, READ_CONCURRENCY, (rule) => store.readRule(rule.name, oldest));
    const plans = views.map((view) =>
      planFlush({ minutes: view.minutes, watermark: view.state.flushedThrough, closed, oldest }),
    );

    // Claims before posting: at most one tick (and never a tick racing a new match) posts each report.
    const reports: { report: PendingReport; previous: RuleState }[] = [];
    const recovered: string[] = [];
    await Promise.all(
      rules.map(async (rule, i) => {
        const state = views[i]!.state;
        if (!recoveryDue(rule.recoverAfterMinutes, state, nowMs)) return;
        const quietSince = nowMs - rule.recoverAfterMinutes * 60_000;
        const occurredAt = await store.claimRecovery(rule.name, state, nowSec, quietSince);
        if (occurredAt === undefined) return;
        recovered.push(rule.name);
        reports.push({
          report: {
            name: rule.name,
            status: "OK",
            message: recoveryMessage(rule.recoverAfterMinutes, state),
            occurredAt,
            ...(rule.notificationInterval !== undefined && { notificationInterval: rule.notificationInterval }),
          },
          previous: state,
        });
      }),
    );
    const unknown = await claimBrokenRuleReports(store, ruleSet.broken, nowSec, log);
    reports.push(...unknown);

    const hostId = await hostIdOrPlaceholder(() => rt.host.hostId(), {
      budgetMs: Math.floor(context.getRemainingTimeInMillis() / 3),
      spool: rt.spool !== undefined,
    });
    if (hostId === SPOOL_HOST_PLACEHOLDER) log.warn("Mackerel host id not resolved: host writes go to the spool");

    // Every rule's points in one write (one request per 1000 points): the counts of one tick.
    const flushing = plans.flatMap((plan, i) => (plan.points.length > 0 ? [i] : []));
    const countPoints: ServiceMetricPoint[] = flushing.flatMap((i) => {
      const name = ruleMetricName(rules[i]!.name);
      return plans[i]!.points.map((p) => ({ name, time: p.time, value: p.value }));
    });
    const countsWrite: MackerelWrite | undefined =
      countPoints.length > 0
        ? { kind: "serviceMetrics", service: env.MACKEREL_SERVICE_NAME, points: countPoints }
        : undefined;
    const writes: MackerelWrite[] = countsWrite ? [countsWrite] : [];
    if (reports.length > 0) {
      const checkReports: CheckReport[] = reports.map(({ report }) => ({
        source: { type: "host", hostId },
        ...report,
      }));
      writes.push({ kind: "checkReports", reports: checkReports });
    }
    writes.push({ kind: "hostMetrics", points: [{ hostId, name: HEARTBEAT_METRIC, time: nowSec, value: 1 }] });

    const client = rt.client.withRemainingTime(() => context.getRemainingTimeInMillis());
    let result;
    try {
      result = await deliver(writes, client, log, rt.spool, rt.host);
    } catch (error) {
      // Neither sent nor spooled: the claimed reports were not made; free them for the next tick.
      await Promise.all(reports.map(({ report, previous }) => store.releaseClaim(report.name, report, previous)));
      throw error;
    }
    const rejected = new Set(result.rejected.map((r) => r.write));

    // Only what Mackerel (or the spool) took is marked: rejected counts are posted again by the next tick.
    const countsTaken = countsWrite !== undefined && !rejected.has(countsWrite);
    await mapLimit(countsTaken ? flushing : [], READ_CONCURRENCY, async (i) => {
      const rule = rules[i]!.name;
      const plan = plans[i]!;
      const minutes = views[i]!.minutes;
      const marks = plan.points
        .filter((p) => (minutes.get(p.time)?.count ?? 0) > 0)
        .map((p) => ({ minute: p.time, value: p.value }));
      await store.markPosted(rule, marks);
      if (plan.watermark !== undefined) {
        const moved = await store.advanceWatermark(rule, views[i]!.state.flushedThrough, plan.watermark);
        if (!moved) log.warn("the watermark was moved by another tick", { rule });
      }
    });

    const points = Object.fromEntries(
      (countsTaken ? flushing : []).map((i) => [rules[i]!.name, plans[i]!.points.length]),
    );
    const corrections = plans.reduce((sum, p) => sum + p.corrections, 0);
    const expiredMinutes = plans.reduce((sum, p) => sum + p.expiredMinutes, 0);
    if (expiredMinutes > 0) {
      log.warn("minutes older than 24 hours were not posted (expired)", {
        expiredMinutes,
        expiredMatches: plans.reduce((sum, p) => sum + p.expiredMatches, 0),
      });
    }
    emitMetrics({
      TickRuns: 1,
      LogCountPointsPosted: Object.values(points).reduce((a, b) => a + b, 0),
      LogCountCorrections: corrections,
      LogCountMinutesExpired: expiredMinutes,
      RulesRecovered: recovered.length,
      ItemsSpooled: spooledTotal(result),
      WritesRejected: result.rejected.length,
    });
    log.info("tick", {
      points,
      corrections,
      expiredMinutes,
      recovered,
      posted: result.posted,
      spooled: result.spooled,
    });
    throwIfRejected(result);
    return {
      outcome: "ticked",
      points,
      corrections,
      expiredMinutes,
      recovered,
      unknown: unknown.map((u) => u.report.name),
      heartbeat: !rejected.has(writes[writes.length - 1]!),
      posted: result.posted,
      spooled: result.spooled,
    };
  } finally {
    await store.releaseLease(TICK_LEASE, owner).catch((error: unknown) => {
      log.warn("could not release the tick lease (it expires by itself)", { error });
    });
  }
}

/** Maps with at most `limit` calls in flight, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
