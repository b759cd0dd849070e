/**
 * The report-ordering hold. Mackerel ignores a check report older than one it already has for the same
 * check, so a report posted live while older ones still wait in the spool would make Mackerel drop those
 * (and their alerts). After a container spooled because Mackerel failed, its check reports keep going to
 * the spool for {@link CHECK_REPORT_ORDER_HOLD_MS}.
 */
import type { MackerelWrite } from "../mackerel-client.js";

/**
 * Twice the sender's longest retry delay (15 min, functions/sender/schedule.ts): by then the spool has been
 * retried since Mackerel came back.
 */
export const CHECK_REPORT_ORDER_HOLD_MS = 30 * 60 * 1000;

/** Remembers when this container last put something in the spool. */
export class ReportOrderHold {
  private lastSpooledAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number = Date.now) {}

  /** Writes were spooled at `at` (epoch ms), for a cause other than the hold itself. */
  spooled(at: number): void {
    this.lastSpooledAt = at;
  }

  /** True when `write` (a check report) must wait behind what was spooled in the last hold period. */
  holdsBack(write: MackerelWrite): boolean {
    return write.kind === "checkReports" && this.now() - this.lastSpooledAt < CHECK_REPORT_ORDER_HOLD_MS;
  }
}
