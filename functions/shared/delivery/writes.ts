/**
 * What delivery needs to know about a {@link MackerelWrite}: how many items it carries, which host it
 * names, and the same write pointed at another host. Pure.
 */
import type { CheckReport, CheckReportDraft, MackerelWrite } from "../mackerel-client.js";

/** Data points or reports per kind of write (posted, spooled, expired...). */
export type DeliveryCounts = Record<MackerelWrite["kind"], number>;

/** Counts of zero for every kind. */
export function noCounts(): DeliveryCounts {
  return { serviceMetrics: 0, hostMetrics: 0, checkReports: 0 };
}

/** How many data points or reports a write carries. */
export function writeSize(write: MackerelWrite): number {
  return write.kind === "checkReports" ? write.reports.length : write.points.length;
}

/** The host id a host write names (the first point's or report's), or undefined for service metrics. */
export function writeHostId(write: MackerelWrite): string | undefined {
  if (write.kind === "hostMetrics") return write.points[0]?.hostId;
  if (write.kind === "checkReports") return write.reports[0]?.source.hostId;
  return undefined;
}

/** True when any point or report of the write names host `hostId`. */
export function namesHost(write: MackerelWrite, hostId: string): boolean {
  if (write.kind === "hostMetrics") return write.points.some((p) => p.hostId === hostId);
  if (write.kind === "checkReports") return write.reports.some((r) => r.source.hostId === hostId);
  return false;
}

/** The write with host `from` replaced by `to`. */
export function replaceHostId(write: MackerelWrite, from: string, to: string): MackerelWrite {
  if (write.kind === "hostMetrics") {
    return { ...write, points: write.points.map((p) => (p.hostId === from ? { ...p, hostId: to } : p)) };
  }
  if (write.kind === "checkReports") {
    return {
      ...write,
      reports: write.reports.map((r) => (r.source.hostId === from ? { ...r, source: { ...r.source, hostId: to } } : r)),
    };
  }
  return write;
}

/** The reports, attached to host `hostId`, as one write. */
export function checkReportsWrite(drafts: readonly CheckReportDraft[], hostId: string): MackerelWrite {
  const reports: CheckReport[] = drafts.map((draft) => ({ source: { type: "host", hostId }, ...draft }));
  return { kind: "checkReports", reports };
}
