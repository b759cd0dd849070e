/**
 * Check reports of log rules other than the match report (report.ts): UNKNOWN for a rule that cannot run,
 * OK when a rule has been quiet for its recovery period. Each claims its occurredAt in the state table first
 * (`StateStore.claimReport` / `claimRecovery`), so reports of one rule never share a second across containers
 * and functions, and Mackerel never drops one as a duplicate or as older than the newest.
 */
import type { Logger } from "../shared/logger.js";
import type { CheckReportDraft } from "../shared/mackerel-client.js";
import { truncateCodePoints } from "../shared/names.js";
import type { RuleState, StateStore } from "../shared/state-store.js";
import type { BrokenRule } from "./rule-set.js";

/** A report whose second was claimed in the state table, with the rule's state before the claim. */
export interface ClaimedReport {
  report: CheckReportDraft;
  /** What {@link releaseClaims} restores when the report could neither be sent nor spooled. */
  previous: RuleState;
}

/** An UNKNOWN report of a rule that cannot run is repeated at most this often (per rule, across containers). */
export const UNKNOWN_REPEAT_SECONDS = 60 * 60;

/** The UNKNOWN report's message for a rule that cannot run. */
export function brokenRuleMessage(rule: BrokenRule): string {
  return truncateCodePoints(
    `This log rule cannot run, so its matches are neither alerted nor counted (the other rules run): ${rule.reason}. Fix it in log_rules.`,
  );
}

/** The OK report's message when a rule has been quiet for its recovery period. */
export function recoveryMessage(recoverAfterMinutes: number, state: RuleState): string {
  const last = state.lastMatchAt === undefined ? "none recorded" : new Date(state.lastMatchAt).toISOString();
  const minutes = `${recoverAfterMinutes} minute${recoverAfterMinutes === 1 ? "" : "s"}`;
  return `No matching log event for at least ${minutes} (last match: ${last}).`;
}

/**
 * Claims UNKNOWN reports for the rules that cannot run and have a usable name, rate-limited to one per rule per
 * {@link UNKNOWN_REPEAT_SECONDS}. A claim that fails on a DynamoDB error is logged and skipped.
 */
export async function claimBrokenRuleReports(
  store: StateStore,
  broken: readonly BrokenRule[],
  nowSec: number,
  log: Logger,
): Promise<ClaimedReport[]> {
  const claimed = await Promise.all(
    broken.map(async (rule) => {
      if (rule.name === undefined) return [];
      try {
        const claim = await store.claimReport(rule.name, {
          status: "UNKNOWN",
          nowSec,
          minIntervalSec: UNKNOWN_REPEAT_SECONDS,
        });
        if (claim.occurredAt === undefined) return [];
        const report: CheckReportDraft = {
          name: rule.name,
          status: "UNKNOWN",
          message: brokenRuleMessage(rule),
          occurredAt: claim.occurredAt,
        };
        return [{ report, previous: claim.previous }];
      } catch (error) {
        log.error("could not claim the UNKNOWN report of a rule that cannot run", { rule: rule.name, error });
        return [];
      }
    }),
  );
  return claimed.flat();
}

/**
 * Frees the claimed seconds of reports Mackerel never got (neither sent nor spooled), so that the state does
 * not claim them: the tick would otherwise take an alert as open or closed when it is not. A release that
 * fails is logged: the caller's own failure is what it reports.
 */
export async function releaseClaims(store: StateStore, claims: readonly ClaimedReport[], log: Logger): Promise<void> {
  await Promise.all(
    claims.map(({ report, previous }) =>
      store.releaseClaim(report.name, report, previous).catch((error: unknown) => {
        log.error("could not release a report claim", { rule: report.name, error });
      }),
    ),
  );
}
