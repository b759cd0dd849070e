/**
 * What the fault suite sent, and the check of what Mackerel ended up with: every datum inside Mackerel's
 * windows present exactly once, everything else counted as expired or rejected; lost = 0.
 */
import type { LocalMackerelServer } from "../../../scripts/local/mackerel";

export type Datum =
  | { kind: "serviceMetric"; service: string; name: string; time: number; value: number }
  | { kind: "hostMetric"; name: string; time: number; value: number }
  /** Identified by name and (unique) message: the function stamps occurredAt itself. */
  | { kind: "checkReport"; name: string; message: string; status: string };

export type Fate = "deliver" | "expire" | "reject";

export interface Figures {
  sent: number;
  delivered: number;
  expired: number;
  rejected: number;
  lost: number;
  /** Data found more than once in Mackerel (accepted twice): must be 0. */
  duplicated: number;
  /** Extra arrivals Mackerel took idempotently (same value / same report ignored): retries and redeliveries. */
  resentIdempotently: number;
}

export class Ledger {
  private readonly entries: { datum: Datum; fate: Fate }[] = [];

  add(datum: Datum, fate: Fate = "deliver"): void {
    this.entries.push({ datum, fate });
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * Compares with the server. `expiredCounted` is what the functions reported as dropped (EMF), which
   * must equal the data expected to expire; `exactlyOnceArrivals` additionally requires that each
   * delivered datum reached Mackerel in exactly one processed request.
   */
  verify(
    mackerel: LocalMackerelServer,
    hostId: string | undefined,
    options: { expiredCounted: number; exactlyOnceArrivals?: boolean },
  ): { figures: Figures; problems: string[] } {
    const problems: string[] = [];
    const services = new Map(mackerel.serviceMetrics().map((m) => [`${m.service}/${m.name}/${m.time}`, m]));
    const hosts = new Map(mackerel.hostMetrics(hostId).map((m) => [`${m.name}/${m.time}`, m]));
    const reports = mackerel.checkReports();
    let delivered = 0;
    let expired = 0;
    let rejected = 0;
    let duplicated = 0;
    let resent = 0;
    for (const { datum, fate } of this.entries) {
      let present: number;
      let arrivals: number;
      if (datum.kind === "serviceMetric") {
        const found = services.get(`${datum.service}/${datum.name}/${datum.time}`);
        present = found && found.value === datum.value ? 1 : 0;
        arrivals = mackerel.writeCount("serviceMetric", datum);
      } else if (datum.kind === "hostMetric") {
        const found = hosts.get(`${datum.name}/${datum.time}`);
        present = found && found.value === datum.value ? 1 : 0;
        arrivals = hostId ? mackerel.writeCount("hostMetric", { hostId, name: datum.name, time: datum.time }) : 0;
      } else {
        const accepted = reports.filter((r) => r.name === datum.name && r.message === datum.message);
        present = accepted.length;
        if (accepted.length > 1) duplicated += accepted.length - 1;
        const first = accepted[0];
        arrivals = first
          ? mackerel.writeCount("checkReport", { hostId: first.hostId, name: first.name, occurredAt: first.occurredAt })
          : 0;
        if (first && first.status !== datum.status)
          problems.push(`${datum.name} "${datum.message}": status ${first.status}`);
      }
      const label = `${datum.kind} ${datum.name} ${"time" in datum ? datum.time : datum.message}`;
      if (fate === "deliver") {
        if (present >= 1) delivered++;
        else problems.push(`${label}: missing in Mackerel`);
        if (arrivals > 1) resent += arrivals - 1;
        if (options.exactlyOnceArrivals && arrivals !== 1) problems.push(`${label}: arrived ${arrivals} times`);
      } else {
        if (present > 0 || arrivals > 0) problems.push(`${label}: expected to be ${fate}ed, but Mackerel got it`);
        if (fate === "expire") expired++;
        else rejected++;
      }
    }
    if (options.expiredCounted !== expired) {
      problems.push(`the functions counted ${options.expiredCounted} expired, ${expired} expected`);
    }
    const sent = this.entries.length;
    const lost = sent - delivered - Math.min(expired, options.expiredCounted) - rejected;
    return {
      figures: {
        sent,
        delivered,
        expired: options.expiredCounted,
        rejected,
        lost,
        duplicated,
        resentIdempotently: resent,
      },
      problems,
    };
  }
}
