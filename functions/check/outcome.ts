/**
 * What a check found, and how that becomes Mackerel writes: one check report named after the check
 * and service metrics `checks.<name>.<metric>`. Pure: no I/O, no clock.
 */
import { checkReportsWrite } from "../shared/delivery/writes.js";
import type { MackerelWrite, ServiceMetricPoint } from "../shared/mackerel-client.js";
import { CHECK_MESSAGE_MAX_CODE_POINTS, type CheckStatus, truncateCodePoints } from "../shared/names.js";
import { redactShown } from "../shared/redact.js";
import type { CheckSpec, Direction } from "./spec.js";

/** The result of running one check. */
export interface CheckOutcome {
  status: CheckStatus;
  /** Human-readable; cut to Mackerel's 1024 code points when the report is built. */
  message: string;
  /** Metric suffix (already a valid metric name segment) → value; posted as `checks.<name>.<suffix>`. */
  metrics: Record<string, number>;
}

const SEVERITY: Record<CheckStatus, number> = { OK: 0, UNKNOWN: 1, WARNING: 2, CRITICAL: 3 };

/** The more severe of two statuses (CRITICAL > WARNING > UNKNOWN > OK). */
export function worstStatus(...statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((worst, s) => (SEVERITY[s] > SEVERITY[worst] ? s : worst), "OK");
}

export interface Thresholds {
  warning?: number;
  critical?: number;
  direction: Direction;
}

export interface ThresholdResult {
  status: "OK" | "WARNING" | "CRITICAL";
  /** e.g. `>= critical 10`; undefined when no threshold is breached. */
  breached?: string;
}

/**
 * Compares a value with warning/critical thresholds. A threshold is breached when the value reaches it:
 * `value >= threshold` for direction `above`, `value <= threshold` for `below` (so `critical = 1` above
 * alerts on the first failure, and `critical = 0` below alerts when nothing was found).
 */
export function evaluateThreshold(value: number, thresholds: Thresholds): ThresholdResult {
  const reached = (limit: number | undefined) =>
    limit !== undefined && (thresholds.direction === "above" ? value >= limit : value <= limit);
  const op = thresholds.direction === "above" ? ">=" : "<=";
  if (reached(thresholds.critical))
    return { status: "CRITICAL", breached: `${op} critical ${formatNumber(thresholds.critical!)}` };
  if (reached(thresholds.warning))
    return { status: "WARNING", breached: `${op} warning ${formatNumber(thresholds.warning!)}` };
  return { status: "OK" };
}

/** Describes the thresholds for a message, e.g. `warning >= 5, critical >= 10`; empty when none. */
export function describeThresholds(thresholds: Thresholds): string {
  const op = thresholds.direction === "above" ? ">=" : "<=";
  const parts: string[] = [];
  if (thresholds.warning !== undefined) parts.push(`warning ${op} ${formatNumber(thresholds.warning)}`);
  if (thresholds.critical !== undefined) parts.push(`critical ${op} ${formatNumber(thresholds.critical)}`);
  return parts.join(", ");
}

/** A number for a message: integers as is, others with at most 3 decimals. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Math.round(value * 1000) / 1000);
}

/** A duration for a message: `45s`, `12m`, `3h 5m`, `2d 4h`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes}m${s % 60 ? ` ${s % 60}s` : ""}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${minutes % 60 ? ` ${minutes % 60}m` : ""}`;
  const days = Math.floor(hours / 24);
  return `${days}d${hours % 24 ? ` ${hours % 24}h` : ""}`;
}

/** Epoch seconds as `2024-05-01T12:00:00Z`. */
export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** An UNKNOWN outcome: the check could not run. */
export function unknown(reason: string): CheckOutcome {
  return { status: "UNKNOWN", message: `UNKNOWN: ${reason}`, metrics: {} };
}

/** The metric name of a check's metric suffix. */
export function checkMetricName(checkName: string, suffix: string): string {
  return `checks.${checkName}.${suffix}`;
}

export interface ReportTarget {
  hostId: string;
  service: string;
  /** Epoch seconds: the report's occurredAt and the metrics' time. */
  now: number;
}

/**
 * The writes for one outcome: the service metrics (when there are any) and exactly one check report
 * named after the check, its message cut to 1024 code points.
 */
export function buildWrites(
  spec: Pick<CheckSpec, "name" | "notificationInterval" | "maxCheckAttempts">,
  outcome: CheckOutcome,
  target: ReportTarget,
): MackerelWrite[] {
  const writes: MackerelWrite[] = [];
  const points: ServiceMetricPoint[] = Object.entries(outcome.metrics)
    .filter(([, value]) => Number.isFinite(value))
    .map(([suffix, value]) => ({ name: checkMetricName(spec.name, suffix), time: target.now, value }));
  if (points.length > 0) writes.push({ kind: "serviceMetrics", service: target.service, points });
  writes.push(
    checkReportsWrite(
      [
        {
          name: spec.name,
          status: outcome.status,
          // Redacted once more before the cut: the parts built from data are redacted already, this also
          // covers what comes from elsewhere (an AWS error's message in an UNKNOWN reason).
          message: truncateCodePoints(
            redactShown(outcome.message, CHECK_MESSAGE_MAX_CODE_POINTS),
            CHECK_MESSAGE_MAX_CODE_POINTS,
          ),
          occurredAt: target.now,
          ...(spec.notificationInterval === undefined ? {} : { notificationInterval: spec.notificationInterval }),
          ...(spec.maxCheckAttempts === undefined ? {} : { maxCheckAttempts: spec.maxCheckAttempts }),
        },
      ],
      target.hostId,
    ),
  );
  return writes;
}
