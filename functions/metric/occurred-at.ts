/**
 * Distinct occurredAt seconds per (host, check) for the metric function's check reports.
 *
 * Mackerel ignores a report whose (host, name, occurredAt) it already has, and one older than the newest
 * it has: a workflow that posts CRITICAL then OK for one check within a second would leave the alert open.
 * So each report takes a second newer than every report of the check before it: in this container (a
 * monotonic guard), and across containers through the state table when the function has one (the same
 * table the logs function claims its report seconds in). A state table that does not answer in time
 * leaves the container's guard: a report is never held back for it.
 */
import type { Logger } from "../shared/logger.js";

/** The state-table operation used (functions/shared/state/check-seconds.ts `claimCheckSecond`). */
export interface CheckSecondStore {
  claimCheckSecond(check: string, preferSec: number): Promise<number>;
}

export class CheckSeconds {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly store: CheckSecondStore | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * The occurredAt for a report of check `name` on host `hostId`, at or after `nowSec`.
   * @param budgetMs - how long the state table may take before the container's guard alone decides
   */
  async claim(hostId: string, name: string, nowSec: number, budgetMs: number): Promise<number> {
    const key = `${hostId}/${name}`;
    const last = this.last.get(key);
    let second = last !== undefined && last >= nowSec ? last + 1 : nowSec;
    if (this.store) {
      try {
        second = await withBudget(this.store.claimCheckSecond(key, second), budgetMs);
      } catch (error) {
        this.log.warn("could not claim a check report second in the state table; this container's guard decides", {
          check: name,
          error,
        });
      }
    }
    this.last.set(key, Math.max(last ?? Number.NEGATIVE_INFINITY, second));
    return second;
  }
}

async function withBudget<T>(promise: Promise<T>, budgetMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${budgetMs} ms`)), Math.max(0, budgetMs));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
