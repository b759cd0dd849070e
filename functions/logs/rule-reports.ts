/**
 * Check reports of log rules other than the match report (report.ts): UNKNOWN for a rule that cannot run,
 * OK when a rule has been quiet for its recovery period. Each claims its occurredAt in the state table first
 * (`StateStore.claimReport` / `claimRecovery`), so reports of one rule never share a second across containers
 * and functions, and Mackerel never drops one as a duplicate or as older than the newest.
 */
import type { Logger } from "../shared/logger.js";
import { truncateCodePoints } from "../shared/names.js";
import type { RuleState, StateStore } from "../shared/state/index.js";
import type { BrokenRule } from "./rule-set.js";

/** A report before the host is known (the caller adds `source`). */
export interface PendingReport {
  name: string;
  status: "OK" | "WARNING" | "CRITICAL" | "UNKNOWN";
  message: string;
  occurredAt: number;
  notificationInterval?: number;
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
): Promise<{ report: PendingReport; previous: RuleState }[]> {
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
        const report: PendingReport = {
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
