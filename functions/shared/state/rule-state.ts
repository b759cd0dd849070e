/**
 * The state of each log rule (item `rule#<rule>` / `state`, layout in README.md): its newest match, the newest
 * check report claimed for it and the tick's watermark. Every report of a rule gets its own second across all
 * containers (Mackerel ignores a report whose (host, name, occurredAt) it has, and one older than its newest),
 * and the OK that closes an alert is claimed by one container only.
 */
import type { CheckStatus } from "../names.js";
import { type Item, itemKey, N, num, S, type StateTable, str } from "./table.js";

/** What the table knows about one log rule. Times: `lastMatchAt` in ms; the others in epoch seconds. */
export interface RuleState {
  /** Timestamp of the newest matching event (epoch ms, event time). */
  lastMatchAt?: number;
  /** occurredAt of the newest check report claimed for the rule. */
  reportedAt?: number;
  reportedStatus?: CheckStatus;
  /** The last minute posted as `logs.<rule>.count` by the tick's normal flush (the watermark). */
  flushedThrough?: number;
}

/** The outcome of {@link claimReport}. */
export interface ReportClaim {
  /** The occurredAt this report may use (unique for the rule); undefined: do not report (see reason). */
  occurredAt?: number;
  /** Why no report: another report of the same status holds this second (and the next ones), or was recent. */
  skipped?: "same-second" | "recently-reported" | "contention";
  /** The state before this claim. */
  previous: RuleState;
}

export interface ClaimReportOptions {
  status: CheckStatus;
  /** Epoch seconds: the report's preferred occurredAt. */
  nowSec: number;
  /** Epoch ms of the newest matching event: recorded as `lastMatchAt` when newer than the stored one. */
  lastMatchAt?: number;
  /**
   * Skip the report when the newest report has the same status and is at most this many seconds old
   * (rate-limits reports that repeat themselves, such as UNKNOWN for a rule that cannot run). Default 0:
   * only the same second is taken.
   */
  minIntervalSec?: number;
}

/**
 * How far ahead of now a report of an already reported status may move its occurredAt to find a free second.
 * Beyond that, the report is skipped: more reports of one status per second than this only change the message.
 */
export const MAX_OCCURRED_AT_AHEAD_SECONDS = 2;

/** Optimistic rounds of {@link claimReport} under contention before it gives up on the report. */
const CLAIM_ATTEMPTS = 8;

/** The partition of a rule's items (its hour items and its state). */
export const rulePk = (rule: string) => `rule#${rule}`;
/** The sort key of a rule's state item. */
export const RULE_STATE_SK = "state";
const stateKey = (rule: string): Item => itemKey(rulePk(rule), RULE_STATE_SK);

/** The placeholders of the rule state's attributes. */
const NAMES = { "#m": "lastMatchAt", "#at": "reportedAt", "#st": "reportedStatus" } as const;

/** A rule's state from its item. */
export function ruleStateOf(item: Item): RuleState {
  const lastMatchAt = num(item, "lastMatchAt");
  const reportedAt = num(item, "reportedAt");
  const reportedStatus = str(item, "reportedStatus") as CheckStatus | undefined;
  const flushedThrough = num(item, "flushedThrough");
  return {
    ...(lastMatchAt !== undefined && { lastMatchAt }),
    ...(reportedAt !== undefined && { reportedAt }),
    ...(reportedStatus !== undefined && { reportedStatus }),
    ...(flushedThrough !== undefined && { flushedThrough }),
  };
}

/** A rule's state, strongly consistent (empty when the rule has none yet). */
export async function getRuleState(table: StateTable, rule: string): Promise<RuleState> {
  const item = await table.get(stateKey(rule));
  return item ? ruleStateOf(item) : {};
}

/**
 * Moves a rule's watermark from `from` (undefined: none yet) to `to`, only if it is still `from`.
 *
 * @returns false when another writer moved it first.
 */
export async function advanceWatermark(
  table: StateTable,
  rule: string,
  from: number | undefined,
  to: number,
): Promise<boolean> {
  const { applied } = await table.updateIf({
    key: stateKey(rule),
    update: "SET #w = :to",
    condition: from === undefined ? "attribute_not_exists(#w)" : "#w = :from",
    names: { "#w": "flushedThrough" },
    values: { ":to": N(to), ...(from !== undefined && { ":from": N(from) }) },
  });
  return applied;
}

/**
 * Claims the occurredAt of a check report for a rule, and records its newest match, in one conditional write
 * (optimistic concurrency, re-read on conflict).
 *
 * Every report of a rule gets its own second, newer than every report claimed before it, across all
 * containers: `nowSec` when free; else the second after the newest claim, when that report has another
 * status (a status change must never be lost) or is at most {@link MAX_OCCURRED_AT_AHEAD_SECONDS} ahead of
 * now. Otherwise the report is skipped: a report of the same status holds this second, and Mackerel would
 * have ignored this one anyway (its matches are still counted).
 */
export async function claimReport(table: StateTable, rule: string, options: ClaimReportOptions): Promise<ReportClaim> {
  const { status, nowSec } = options;
  const t = options.lastMatchAt;
  const minInterval = options.minIntervalSec ?? 0;
  const key = stateKey(rule);

  // The common case, no contention: one write, conditional on nothing newer being stored.
  const fastConditions = ["(attribute_not_exists(#at) OR #at < :s)"];
  const fastValues: Item = { ":s": N(nowSec), ":st": S(status) };
  if (t !== undefined) {
    fastConditions.push("(attribute_not_exists(#m) OR #m < :t)");
    fastValues[":t"] = N(t);
  }
  if (minInterval > 0) {
    fastConditions.push("(attribute_not_exists(#st) OR #st <> :st OR #at < :since)");
    fastValues[":since"] = N(nowSec - minInterval);
  }
  const fast = await table.updateIf({
    key,
    update: `SET ${t !== undefined ? "#m = :t, " : ""}#at = :s, #st = :st`,
    condition: fastConditions.join(" AND "),
    names: t !== undefined ? { ...NAMES } : { "#at": NAMES["#at"], "#st": NAMES["#st"] },
    values: fastValues,
    returnValues: "ALL_OLD",
  });
  if (fast.applied) return { occurredAt: nowSec, previous: fast.attributes ? ruleStateOf(fast.attributes) : {} };

  for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
    const old = await getRuleState(table, rule);
    const setMatch = t !== undefined && (old.lastMatchAt === undefined || t > old.lastMatchAt);
    const decision = decideSecond(old, status, nowSec, minInterval);
    if (!setMatch && decision.skipped) return { skipped: decision.skipped, previous: old };

    const sets: string[] = [];
    const values: Item = {};
    const names: Record<string, string> = {};
    if (setMatch) {
      sets.push("#m = :t");
      values[":t"] = N(t!);
      names["#m"] = NAMES["#m"];
    }
    if (decision.occurredAt !== undefined) {
      sets.push("#at = :s", "#st = :st");
      values[":s"] = N(decision.occurredAt);
      values[":st"] = S(status);
      names["#at"] = NAMES["#at"];
      names["#st"] = NAMES["#st"];
    }
    // Exactly the state read above, or retry.
    const conditions = [
      expect(names, values, "#m", ":om", old.lastMatchAt),
      expect(names, values, "#at", ":oat", old.reportedAt),
      expect(names, values, "#st", ":ost", old.reportedStatus),
    ];
    const { applied } = await table.updateIf({
      key,
      update: `SET ${sets.join(", ")}`,
      condition: conditions.join(" AND "),
      names,
      values,
    });
    if (applied) {
      return decision.occurredAt !== undefined
        ? { occurredAt: decision.occurredAt, previous: old }
        : { skipped: decision.skipped, previous: old };
    }
    await table.sleep(5 + Math.floor(table.random() * 20 * attempt));
  }
  // Still contended: keep the newest match at least (recovery depends on it); the report is skipped.
  if (t !== undefined) await recordMatch(table, rule, t);
  return { skipped: "contention", previous: await getRuleState(table, rule) };
}

/** A condition that the attribute of `placeholder` still has `value` (or is absent when undefined). */
function expect(
  names: Record<string, string>,
  values: Item,
  placeholder: keyof typeof NAMES,
  valuePlaceholder: string,
  value: number | string | undefined,
): string {
  names[placeholder] = NAMES[placeholder];
  if (value === undefined) return `attribute_not_exists(${placeholder})`;
  values[valuePlaceholder] = typeof value === "number" ? N(value) : S(value);
  return `${placeholder} = ${valuePlaceholder}`;
}

/** Which second a report of `status` takes given the stored state (see {@link claimReport}). */
export function decideSecond(
  old: RuleState,
  status: CheckStatus,
  nowSec: number,
  minIntervalSec = 0,
): { occurredAt?: number; skipped?: ReportClaim["skipped"] } {
  const sameStatus = old.reportedStatus === status;
  if (old.reportedAt === undefined) return { occurredAt: nowSec };
  if (sameStatus && minIntervalSec > 0 && old.reportedAt >= nowSec - minIntervalSec) {
    return { skipped: "recently-reported" };
  }
  if (old.reportedAt < nowSec) return { occurredAt: nowSec };
  const next = old.reportedAt + 1;
  if (!sameStatus) return { occurredAt: next };
  return next <= nowSec + MAX_OCCURRED_AT_AHEAD_SECONDS ? { occurredAt: next } : { skipped: "same-second" };
}

/** Records `lastMatchAt = max(stored, t)`. */
export async function recordMatch(table: StateTable, rule: string, t: number): Promise<void> {
  await table.updateIf({
    key: stateKey(rule),
    update: "SET #m = :t",
    condition: "attribute_not_exists(#m) OR #m < :t",
    names: { "#m": NAMES["#m"] },
    values: { ":t": N(t) },
  });
}

/**
 * Claims the OK report that closes a rule's alert: only if the state is still `seen` (nothing reported since)
 * and the newest match is not newer than `quietSinceMs`. At most one container wins.
 *
 * @returns the occurredAt of the OK report, or undefined when the claim lost.
 */
export async function claimRecovery(
  table: StateTable,
  rule: string,
  seen: RuleState,
  nowSec: number,
  quietSinceMs: number,
): Promise<number | undefined> {
  if (seen.reportedStatus === undefined || seen.reportedStatus === "OK" || seen.reportedAt === undefined) {
    return undefined;
  }
  const occurredAt = Math.max(nowSec, seen.reportedAt + 1);
  const { applied } = await table.updateIf({
    key: stateKey(rule),
    update: "SET #at = :s, #st = :ok",
    condition: "#st = :ost AND #at = :oat AND (attribute_not_exists(#m) OR #m <= :quiet)",
    names: { ...NAMES },
    values: {
      ":s": N(occurredAt),
      ":ok": S("OK"),
      ":ost": S(seen.reportedStatus),
      ":oat": N(seen.reportedAt),
      ":quiet": N(quietSinceMs),
    },
  });
  return applied ? occurredAt : undefined;
}

/** Undoes a claim (the report could neither be sent nor spooled), if nothing was claimed after it. */
export async function releaseClaim(
  table: StateTable,
  rule: string,
  claimed: { occurredAt: number; status: CheckStatus },
  previous: RuleState,
): Promise<void> {
  const restore = previous.reportedAt !== undefined && previous.reportedStatus !== undefined;
  await table.updateIf({
    key: stateKey(rule),
    update: restore ? "SET #at = :oat, #st = :ost" : "REMOVE #at, #st",
    condition: "#at = :s AND #st = :st",
    names: { "#at": NAMES["#at"], "#st": NAMES["#st"] },
    values: {
      ":s": N(claimed.occurredAt),
      ":st": S(claimed.status),
      ...(restore && { ":oat": N(previous.reportedAt!), ":ost": S(previous.reportedStatus!) }),
    },
  });
}
