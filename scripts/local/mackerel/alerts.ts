/**
 * Check monitoring as Mackerel documents it: per (host, check name) the newest report wins, an alert
 * opens after `maxCheckAttempts` consecutive non-OK reports, follows status changes and closes on OK or
 * when its host is retired. The transitions are recorded, since they are what Mackerel notifies about.
 */
import { compare, key } from "./rules.js";
import type { AlertEvent, OpenAlert, RecordedCheckReport } from "./types.js";

/** What is known of one (host, check name). */
export interface CheckState {
  latestOccurredAt: number;
  nonOkStreak: number;
  alert?: OpenAlert;
}

/** The check states and alert transitions of the organization. */
export class CheckAlerts {
  private readonly states = new Map<string, CheckState>();
  private readonly log: AlertEvent[] = [];

  /** The state of one (host, check name), if a report was accepted for it. */
  state(hostId: string, name: string): CheckState | undefined {
    return this.states.get(key(hostId, name));
  }

  /** Applies an accepted report to its check's state and alert. */
  apply(report: RecordedCheckReport): void {
    const stateKey = key(report.hostId, report.name);
    const state: CheckState = this.states.get(stateKey) ?? { latestOccurredAt: report.occurredAt, nonOkStreak: 0 };
    state.latestOccurredAt = Math.max(state.latestOccurredAt, report.occurredAt);
    this.states.set(stateKey, state);
    const base = { hostId: report.hostId, checkName: report.name, at: report.occurredAt, reason: "report" as const };
    if (report.status === "OK") {
      state.nonOkStreak = 0;
      if (state.alert) {
        state.alert = undefined;
        this.log.push({ ...base, type: "close", status: "OK" });
      }
      return;
    }
    const status = report.status;
    state.nonOkStreak++;
    if (state.alert) {
      if (state.alert.status !== status) this.log.push({ ...base, type: "statusChange", status });
      state.alert.status = status;
      state.alert.message = report.message;
      state.alert.updatedAt = report.occurredAt;
      return;
    }
    if (state.nonOkStreak >= (report.maxCheckAttempts ?? 1)) {
      state.alert = {
        hostId: report.hostId,
        checkName: report.name,
        status,
        message: report.message,
        openedAt: report.occurredAt,
        updatedAt: report.occurredAt,
      };
      this.log.push({ ...base, type: "open", status });
    }
  }

  /** Closes every open alert of a host that was retired at `at` (epoch seconds). */
  closeForRetiredHost(hostId: string, at: number): void {
    for (const state of this.states.values()) {
      if (state.alert?.hostId !== hostId) continue;
      this.log.push({
        type: "close",
        hostId,
        checkName: state.alert.checkName,
        status: state.alert.status,
        at,
        reason: "retired",
      });
      state.alert = undefined;
      state.nonOkStreak = 0;
    }
  }

  /** Open alerts, sorted by host id and check name. */
  openAlerts(): OpenAlert[] {
    return [...this.states.values()]
      .flatMap((s) => (s.alert ? [{ ...s.alert }] : []))
      .sort((a, b) => compare(a.hostId, b.hostId) || compare(a.checkName, b.checkName));
  }

  /** Alert transitions in order. */
  events(): AlertEvent[] {
    return this.log.map((e) => ({ ...e }));
  }

  /** Forgets every state and transition. */
  clear(): void {
    this.states.clear();
    this.log.length = 0;
  }
}
