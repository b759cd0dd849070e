/**
 * The logs function: CloudWatch Logs subscription filters (per log group, or the account policy) invoke it
 * asynchronously with `{"awslogs":{"data": ...}}`. Thin: decode, skip what must be skipped, evaluate the rules,
 * then per rule that matched: add its per-minute counts to the state table (atomic ADDs, one UpdateItem per
 * hour touched), claim a check report second (and record the newest match), and post one check report.
 * The per-minute metric `logs.<rule>.count` is posted by the check function's tick, never from here: Mackerel
 * keeps one value per minute, so only the summed total may be posted.
 *
 * It never throws for bad input: a corrupt payload is logged with its reason and dropped with a counted metric
 * (an asynchronous invocation that throws is retried, pointlessly). A payload is counted once: a mark in the
 * state table (per stream and event ids) makes a duplicate delivery or a retry post its reports only. It
 * throws only when no count could be stored at all (the mark is removed first), so that Lambda's retry stores
 * them later (the tick then re-posts those minutes as corrections), and when its check reports could neither
 * be posted nor spooled (Mackerel and SQS down at once): the claims are released and the mark kept, so
 * Lambda's asynchronous retry posts the reports later without counting the matches twice. Either way it
 * throws {@link MackerelUnavailableError}, the module's one "try again later" name.
 */
import { createHash } from "node:crypto";
import { type LogsEnvironment, logsEnvironment, parseEnvironment } from "../shared/config.js";
import type { DeliveryResult } from "../shared/delivery/deliver.js";
import { Delivery, deliveryMetrics } from "../shared/delivery/service.js";
import { checkReportsWrite, writeSize } from "../shared/delivery/writes.js";
import { emitMetrics } from "../shared/emf.js";
import { ConfigurationError, MackerelUnavailableError } from "../shared/errors.js";
import type { LambdaContext } from "../shared/lambda.js";
import { logger } from "../shared/logger.js";
import { METRIC_RETENTION_SECONDS } from "../shared/names.js";
import { createRuntime, type Runtime } from "../shared/runtime.js";
import { type ReportClaim, sharedStateStore, type StateStore } from "../shared/state/index.js";
import { decodeForRules, type RulePayload } from "./decode-for-rules.js";
import { isOwnLogGroup, parseOwnLogGroups } from "./loop-guard.js";
import { NO_LITERALS } from "./raw-events.js";
import { epochMinuteSeconds } from "./minutes.js";
import { buildRuleReport } from "./report.js";
import { type ClaimedReport, claimBrokenRuleReports, releaseClaims } from "./rule-reports.js";
import { type BrokenRule, loadConfiguredRuleSet } from "./rule-set.js";
import { type CompiledRule, evaluate, rawLiteralSearches, type RuleMatch } from "./rules.js";

/** What an invocation did (the return value, for tests and for Lambda's logs). */
export type LogsResult =
  | { outcome: "control" }
  | { outcome: "corrupt"; reason: string; detail: string }
  | { outcome: "own-log-group"; logGroup: string; skippedEvents: number }
  | {
      outcome: "processed";
      logGroup: string;
      events: number;
      /** Matches per rule that matched. */
      matched: Record<string, number>;
      /** Check reports posted, spooled, refused by Mackerel (logged, not retried) and skipped (second taken). */
      reports: { posted: number; spooled: number; rejected: number; skipped: number };
      /** Rules whose counts could not be stored. */
      countFailures: string[];
    };

/** The counts of a minute older than this can never be posted (Mackerel drops points older than 24 h). */
const COUNT_HORIZON_SECONDS = METRIC_RETENTION_SECONDS;

interface Setup {
  rules: readonly CompiledRule[];
  byName: ReadonlyMap<string, CompiledRule>;
  broken: readonly BrokenRule[];
  ownLogGroups: readonly string[];
  store: StateStore;
}

const log = logger.child({ function: "logs" });
let runtime: Runtime<LogsEnvironment> | undefined;
let setup: Setup | undefined;
/** Rules that cannot run are reported once per container (and at most hourly across containers). */
let brokenReported = false;

async function loadSetup(env: LogsEnvironment): Promise<Setup> {
  const store = sharedStateStore(env.STATE_TABLE_NAME);
  const ruleSet = await loadConfiguredRuleSet(env, store);
  for (const rule of ruleSet.broken) {
    log.error("log rule cannot run: skipped, the other rules keep running", {
      rule: rule.name,
      index: rule.index,
      reason: rule.reason,
    });
  }
  return {
    rules: ruleSet.rules,
    byName: new Map(ruleSet.rules.map((rule) => [rule.name, rule])),
    broken: ruleSet.broken,
    ownLogGroups: parseOwnLogGroups(env.MACKEREL_SERVERLESS_OWN_LOG_GROUPS, "MACKEREL_SERVERLESS_OWN_LOG_GROUPS"),
    store,
  };
}

/** Lambda entry point. */
export async function handler(event: unknown, context: LambdaContext): Promise<LogsResult> {
  const startedMs = Date.now();
  runtime ??= createRuntime(parseEnvironment(logsEnvironment));
  setup ??= await loadSetup(runtime.env);

  const { rules, ownLogGroups } = setup;
  // Events no rule can match are counted, not parsed (the module's own log groups: none is parsed).
  const decoded = decodeForRules(event, (logGroup) =>
    isOwnLogGroup(logGroup, ownLogGroups) ? NO_LITERALS : rawLiteralSearches(rules, logGroup),
  );
  if (decoded.kind === "corrupt") {
    log.error("corrupt subscription payload dropped", { reason: decoded.reason, detail: decoded.detail });
    emitMetrics({ CorruptPayloads: 1 }, { properties: { reason: decoded.reason } });
    return { outcome: "corrupt", reason: decoded.reason, detail: decoded.detail };
  }
  if (decoded.kind === "control") {
    log.info("CONTROL_MESSAGE skipped");
    return { outcome: "control" };
  }
  const payload = decoded.payload;
  if (isOwnLogGroup(payload.logGroup, setup.ownLogGroups)) {
    // The run-time loop guard: never process the module's own logs (each invocation would cause the next).
    log.warn("events of the module's own log group skipped (loop guard)", {
      logGroup: payload.logGroup,
      events: payload.eventCount,
    });
    emitMetrics({ OwnLogGroupEventsSkipped: payload.eventCount });
    return { outcome: "own-log-group", logGroup: payload.logGroup, skippedEvents: payload.eventCount };
  }

  const store = setup.store;
  // A table that never answers must not outlast the invocation: its calls here run one after another.
  store.beginInvocation(context.getRemainingTimeInMillis());
  const nowSec = Math.floor(startedMs / 1000);
  const reportBroken = !brokenReported && setup.broken.length > 0;
  brokenReported = true;
  const brokenClaims = reportBroken ? claimBrokenRuleReports(store, setup.broken, nowSec, log) : Promise.resolve([]);

  const matches = evaluate(setup.rules, { ...payload, logEvents: payload.candidateEvents });
  // Counts are added, not set: a payload delivered twice (or retried after a timeout) is counted once.
  const key = matches.size > 0 ? payloadKey(payload) : "";
  let count = true;
  if (matches.size > 0) {
    try {
      count = await store.markPayload(key, context.awsRequestId, nowSec);
    } catch (error) {
      log.error("could not mark the payload as counted; counting it anyway", { error });
    }
    if (!count) log.info("payload already counted (a duplicate delivery or a retry): reports only", { key });
  }
  const horizon = epochMinuteSeconds((startedMs / 1000 - COUNT_HORIZON_SECONDS) * 1000) + 60;
  const outcomes = await Promise.all(
    [...matches].map(([name, match]) =>
      recordRule(store, setup!.byName.get(name)!, match, { startedMs, horizon, count }),
    ),
  );

  const pending: ClaimedReport[] = [...(await brokenClaims)];
  for (const outcome of outcomes) {
    if (outcome.claim.occurredAt === undefined) continue;
    const report = buildRuleReport(outcome.rule, outcome.match, startedMs);
    pending.push({ report: { ...report, occurredAt: outcome.claim.occurredAt }, previous: outcome.claim.previous });
  }
  const delivery = await postReports(new Delivery(runtime, context, log), store, pending);

  const countFailures = outcomes.filter((o) => !o.counted).map((o) => o.rule.name);
  const skippedReports = outcomes.filter((o) => o.claim.occurredAt === undefined).length;
  const matched = Object.fromEntries([...matches].map(([name, m]) => [name, m.count]));
  const matchedEvents = outcomes.reduce((sum, o) => sum + o.match.count, 0);
  emitMetrics({
    EventsEvaluated: payload.eventCount,
    MatchedEvents: matchedEvents,
    RulesMatched: matches.size,
    ExpiredMatches: outcomes.reduce((sum, o) => sum + o.expired, 0),
    DuplicatePayloads: matches.size > 0 && !count ? 1 : 0,
    CountWriteFailures: countFailures.length,
    ...deliveryMetrics(delivery.result, ["checkReports"]),
    ReportsSkipped: skippedReports,
    ReportsRetriedLater: delivery.failure ? pending.length : 0,
  });
  if (matches.size > 0) {
    log.info("log rules matched", {
      logGroup: payload.logGroup,
      events: payload.eventCount,
      matched,
      reports: delivery.posted + delivery.spooled,
    });
  }
  if (countFailures.length > 0 && countFailures.length === outcomes.length) {
    await store.unmarkPayload(key, context.awsRequestId).catch((error: unknown) => {
      log.error("could not unmark the payload: a retry will not count it", { error });
    });
    throw new MackerelUnavailableError(
      `the state table took none of the counts (rules ${countFailures.join(", ")}): retried by Lambda`,
    );
  }
  if (delivery.failure) {
    // The counts are stored and the payload stays marked: the retry posts the reports only.
    if (delivery.failure instanceof MackerelUnavailableError || delivery.failure instanceof ConfigurationError) {
      throw delivery.failure;
    }
    throw new MackerelUnavailableError(
      `check reports could neither be posted nor spooled: retried by Lambda`,
      undefined,
      delivery.failure,
    );
  }
  return {
    outcome: "processed",
    logGroup: payload.logGroup,
    events: payload.eventCount,
    matched,
    reports: {
      posted: delivery.posted,
      spooled: delivery.spooled,
      rejected: delivery.rejected,
      skipped: skippedReports,
    },
    countFailures,
  };
}

interface RuleOutcome {
  rule: CompiledRule;
  match: RuleMatch;
  counted: boolean;
  expired: number;
  claim: ReportClaim;
}

/** Adds one rule's counts and claims its report second; DynamoDB failures are logged, never thrown. */
async function recordRule(
  store: StateStore,
  rule: CompiledRule,
  match: RuleMatch,
  options: { startedMs: number; horizon: number; count: boolean },
): Promise<RuleOutcome> {
  const { startedMs, horizon } = options;
  const minutes = new Map<number, number>();
  let expired = 0;
  for (const [minute, count] of match.minuteCounts) {
    if (minute < horizon) expired += count;
    else minutes.set(minute, count);
  }
  let counted = true;
  if (options.count && minutes.size > 0) {
    try {
      await store.addMinuteCounts(rule.name, minutes);
    } catch (error) {
      counted = false;
      log.error("could not add the rule's counts to the state table", { rule: rule.name, error });
    }
  }
  if (expired > 0) log.warn("matches older than 24 hours are not counted", { rule: rule.name, expired });

  const nowSec = Math.floor(startedMs / 1000);
  // An event stamped in the future (a producer's clock) must not hold the rule's recovery back.
  const lastMatchAt = Math.min(match.lastMatchAt, startedMs);
  let claim: ReportClaim;
  try {
    claim = await store.claimReport(rule.name, { status: rule.status, nowSec, lastMatchAt });
  } catch (error) {
    // Better a report that Mackerel may drop as a duplicate than none.
    log.error("could not claim a report second; reporting at now", { rule: rule.name, error });
    claim = { occurredAt: nowSec, previous: {} };
  }
  if (claim.skipped) {
    log.info("report skipped: another report of this rule holds this second", {
      rule: rule.name,
      why: claim.skipped,
      count: match.count,
    });
  }
  return { rule, match, counted, expired, claim };
}

/** Identifies a payload across deliveries: its stream and the ids of its events (unique per event). */
function payloadKey(payload: RulePayload): string {
  return createHash("sha256")
    .update(
      [
        payload.owner,
        payload.logGroup,
        payload.logStream,
        payload.firstEventId,
        payload.lastEventId,
        payload.eventCount,
      ].join("\n"),
    )
    .digest("hex")
    .slice(0, 40);
}

/**
 * Posts the claimed reports to the module's host (spooling what Mackerel cannot take); never throws: a
 * failure to do either is returned (claims released) for the handler to fail the invocation with. Refusals
 * are counted, not thrown: a retry would be refused the same way.
 */
async function postReports(
  delivery: Delivery,
  store: StateStore,
  pending: ClaimedReport[],
): Promise<{ posted: number; spooled: number; rejected: number; result?: DeliveryResult; failure?: unknown }> {
  if (pending.length === 0) return { posted: 0, spooled: 0, rejected: 0 };
  try {
    const hostId = await delivery.hostId();
    const reports = pending.map(({ report }) => report);
    const result = await delivery.deliver([checkReportsWrite(reports, hostId)]);
    // A refusal (logged by the delivery, counted as WritesRejected) is not retried: Mackerel would refuse it again.
    return {
      posted: result.posted.checkReports,
      spooled: result.spooledCounts.checkReports,
      rejected: result.rejected.reduce((sum, r) => sum + writeSize(r.write), 0),
      result,
    };
  } catch (error) {
    log.error("check reports could neither be sent nor spooled", { reports: pending.length, error });
    await releaseClaims(store, pending, log);
    return { posted: 0, spooled: 0, rejected: 0, failure: error };
  }
}
