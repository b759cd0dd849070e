/**
 * What Mackerel would ignore anyway, and the order to send the rest in. Pure.
 *
 * - Service and host metric points whose time is 24 h or more in the past are silently dropped by
 *   Mackerel (the metric function refuses them at the same edge).
 * - A check report whose occurredAt is 6 h or more before the time it is posted is silently ignored.
 */
import { type DeliveryCounts, noCounts } from "../shared/delivery/writes.js";
import type { MackerelWrite } from "../shared/mackerel-client.js";
import { CHECK_REPORT_RETENTION_SECONDS, METRIC_RETENTION_SECONDS } from "../shared/names.js";

export interface ExpiryResult {
  /** The writes with only what Mackerel still takes (empty writes removed). */
  writes: MackerelWrite[];
  /** Items dropped as too old, by kind. */
  expired: DeliveryCounts;
  /** The oldest time among the dropped items (epoch s), for the log line. */
  oldestExpired?: number;
}

/** True when Mackerel would drop a metric point of this time at `nowSeconds`. */
export const metricExpired = (time: number, nowSeconds: number): boolean =>
  time <= nowSeconds - METRIC_RETENTION_SECONDS;

/** True when Mackerel would ignore a check report of this occurredAt at `nowSeconds`. */
export const reportExpired = (occurredAt: number, nowSeconds: number): boolean =>
  occurredAt <= nowSeconds - CHECK_REPORT_RETENTION_SECONDS;

/** Removes what Mackerel would ignore at `nowSeconds` and counts it. */
export function dropExpired(writes: MackerelWrite[], nowSeconds: number): ExpiryResult {
  const expired = noCounts();
  let oldestExpired: number | undefined;
  const note = (time: number) => {
    oldestExpired = oldestExpired === undefined ? time : Math.min(oldestExpired, time);
  };
  const kept: MackerelWrite[] = [];
  for (const write of writes) {
    if (write.kind === "checkReports") {
      const reports = write.reports.filter((r) => {
        if (!reportExpired(r.occurredAt, nowSeconds)) return true;
        expired.checkReports++;
        note(r.occurredAt);
        return false;
      });
      if (reports.length > 0) kept.push({ ...write, reports });
    } else {
      const points = write.points.filter((p) => {
        if (!metricExpired(p.time, nowSeconds)) return true;
        expired[write.kind]++;
        note(p.time);
        return false;
      });
      if (points.length > 0) kept.push({ ...write, points } as MackerelWrite);
    }
  }
  return { writes: kept, expired, ...(oldestExpired === undefined ? {} : { oldestExpired }) };
}

/** The write with its points or reports sorted by time of occurrence (stable). */
export function inOccurrenceOrder(write: MackerelWrite): MackerelWrite {
  if (write.kind === "checkReports") {
    return { ...write, reports: [...write.reports].sort((a, b) => a.occurredAt - b.occurredAt) };
  }
  return { ...write, points: [...write.points].sort((a, b) => a.time - b.time) } as MackerelWrite;
}
