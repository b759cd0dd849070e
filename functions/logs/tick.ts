/**
 * The per-minute tick (`{"tick": {}}` from a one-minute EventBridge rule to the check function):
 *
 * 1. Flushes the log rules' per-minute counts as service metrics `logs.<rule>.count` in the module's service:
 *    every closed minute exactly once per rule (a per-rule watermark `flushedThrough`), zero-filled, and a
 *    minute whose total changed after it was posted (a late event) again with its new total, which Mackerel's
 *    one-value-per-minute rule turns into a correction.
 *    - A minute is closed `TICK_GRACE_SECONDS` (tick-plan.ts) after it ends: CloudWatch Logs delivers
 *      subscription events within seconds, and Lambda's asynchronous queue adds a little more; later events
 *      are still counted and corrected by a re-post.
 *    - A bucket is marked (`pMM`, conditional on its count) and the watermark moved (conditional on its old
 *      value) only after Mackerel took the points (or the spool did, which delivers them: during an outage
 *      the backlog must not be re-spooled every minute). A rejected write leaves both untouched.
 *    - Catch-up is bounded: minutes older than 24 hours (minus `EXPIRY_MARGIN_SECONDS`) are never
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
import { Delivery } from "../shared/delivery/service.js";
import { checkReportsWrite, type DeliveryCounts } from "../shared/delivery/writes.js";
import type { LambdaContext } from "../shared/lambda.js";
import type { Logger } from "../shared/logger.js";
import type { MackerelWrite, ServiceMetricPoint } from "../shared/mackerel-client.js";
import type { Runtime } from "../shared/runtime.js";
import { sharedStateStore } from "../shared/state/index.js";
import { type ClaimedReport, claimBrokenRuleReports, recoveryMessage, releaseClaims } from "./rule-reports.js";
import { loadConfiguredRuleSet, type RuleSet } from "./rule-set.js";
import { lastClosedMinute, oldestPostableMinute, planFlush, recoveryDue, ruleMetricName } from "./tick-plan.js";

/** The pipeline's own heartbeat, a custom host metric of the module's host. */
export const HEARTBEAT_METRIC = "custom.mackerel_serverless.heartbeat";
/** The lease that keeps ticks from overlapping. */
export const TICK_LEASE = "tick";
/** The lease outlives the tick's deadline by this much (clock differences between containers). */
const LEASE_MARGIN_MS = 10_000;
/** Rules read in parallel. */
const READ_CONCURRENCY = 8;

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
    const reports: ClaimedReport[] = [];
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

    const delivery = new Delivery(rt, context, log);
    const hostId = await delivery.hostId();

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
    const drafts = reports.map(({ report }) => report);
    if (drafts.length > 0) writes.push(checkReportsWrite(drafts, hostId));
    writes.push({ kind: "hostMetrics", points: [{ hostId, name: HEARTBEAT_METRIC, time: nowSec, value: 1 }] });

    let result;
    try {
      result = await delivery.deliver(writes);
    } catch (error) {
      // Neither sent nor spooled: the claimed reports were not made; free them for the next tick.
      await releaseClaims(store, reports, log);
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
    log.info("tick", {
      points,
      corrections,
      expiredMinutes,
      recovered,
      posted: result.posted,
      spooled: result.spooled,
    });
    const metrics = {
      TickRuns: 1,
      LogCountPointsPosted: Object.values(points).reduce((a, b) => a + b, 0),
      LogCountCorrections: corrections,
      LogCountMinutesExpired: expiredMinutes,
      RulesRecovered: recovered.length,
    };
    delivery.finish(result, metrics, []);
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
