/**
 * The Mackerel organization the server keeps: services and roles, hosts, the current metric values,
 * accepted check reports and their alerts, and counters of what was ignored, replaced and refused.
 * Requests reach it already authenticated and parsed (routes.ts, bodies.ts).
 */
import { CheckAlerts } from "./alerts.js";
import type { MetricPoint, MetricWindow } from "./bodies.js";
import {
  bad,
  CHECK_REPORT_MAX_AGE_SECONDS,
  compare,
  HttpError,
  key,
  METRIC_MAX_AGE_SECONDS,
  METRIC_MAX_FUTURE_SECONDS,
  SERVICE_NAME_PATTERN,
  show,
} from "./rules.js";
import type {
  AlertEvent,
  LocalHost,
  LocalHostSeed,
  LocalMackerelServerOptions,
  LocalService,
  OpenAlert,
  RecordedCheckReport,
  RecordedHostMetric,
  RecordedServiceMetric,
  WriteKind,
} from "./types.js";

const DEFAULT_SERVICES = ["my-service"];

/** A host as kept: the API's view without what is derived from its role names. */
type HostState = Omit<LocalHost, "type" | "roles" | "interfaces"> & { roleFullnames: string[] };

/** The organization's state, as the server's options seed it. */
export class MackerelModel {
  private services = new Map<string, { name: string; memo: string; roles: Set<string> }>();
  private hostsById = new Map<string, HostState>();
  private hostSeq = 0;
  private readonly serviceValues = new Map<string, RecordedServiceMetric>();
  private readonly hostValues = new Map<string, RecordedHostMetric>();
  private readonly reports: RecordedCheckReport[] = [];
  private readonly alerts = new CheckAlerts();
  private readonly writes = new Map<string, number>();
  private readonly counterValues = new Map<string, number>();

  constructor(
    private readonly options: LocalMackerelServerOptions,
    private readonly clock: () => number,
  ) {
    this.initialize();
  }

  /** Forgets everything recorded; services and hosts are those of the options again. */
  reset(): void {
    this.serviceValues.clear();
    this.hostValues.clear();
    this.reports.length = 0;
    this.alerts.clear();
    this.writes.clear();
    this.counterValues.clear();
    this.initialize();
  }

  private initialize(): void {
    this.services = new Map();
    for (const name of this.options.services ?? DEFAULT_SERVICES) this.addService(name);
    this.hostsById = new Map();
    this.hostSeq = 0;
    for (const seed of this.options.hosts ?? []) this.createHost(seed);
  }

  // ----- services and hosts -----

  addService(name: string, memo = ""): void {
    if (!SERVICE_NAME_PATTERN.test(name)) throw new Error(`invalid service name ${show(name)}`);
    if (!this.services.has(name)) this.services.set(name, { name, memo, roles: new Set() });
  }

  createHost(seed: LocalHostSeed): LocalHost {
    const id = seed.id ?? this.nextHostId();
    if (this.hostsById.has(id)) throw new Error(`host id ${id} already exists`);
    if (seed.customIdentifier !== undefined && !seed.isRetired && this.findByCustomIdentifier(seed.customIdentifier)) {
      throw new Error(`customIdentifier ${seed.customIdentifier} is already used`);
    }
    for (const fullname of seed.roleFullnames ?? []) this.ensureRole(fullname);
    const now = this.nowSeconds();
    const host: HostState = {
      id,
      name: seed.name,
      displayName: seed.displayName,
      customIdentifier: seed.customIdentifier,
      meta: structuredClone(seed.meta ?? {}),
      memo: seed.memo ?? "",
      status: seed.status ?? "working",
      isRetired: seed.isRetired ?? false,
      retiredAt: seed.isRetired ? now : undefined,
      createdAt: now,
      roleFullnames: [...(seed.roleFullnames ?? [])],
      checks: structuredClone(seed.checks ?? []),
    };
    this.hostsById.set(id, host);
    return hostView(host);
  }

  /** `POST /api/v0/hosts`: a customIdentifier already used by a live host answers 400. */
  registerHost(seed: LocalHostSeed): { id: string } {
    if (seed.customIdentifier !== undefined && this.findByCustomIdentifier(seed.customIdentifier)) {
      throw bad(`customIdentifier ${show(seed.customIdentifier)} is already used by another host in the organization`);
    }
    return { id: this.createHost(seed).id };
  }

  /** `GET /api/v0/hosts-by-custom-identifier/<id>`: live hosts only. */
  hostByCustomIdentifier(customIdentifier: string): { host: LocalHost } {
    const host = this.findByCustomIdentifier(customIdentifier);
    if (!host) throw new HttpError(404, `Host not found for customIdentifier ${show(customIdentifier)}`);
    return { host: hostView(host) };
  }

  /** `POST /api/v0/hosts/<id>/retire`: the host's alerts close; a retired host is not found again. */
  retireHost(hostId: string): { success: true } {
    const host = this.liveHost(hostId);
    host.isRetired = true;
    host.retiredAt = this.nowSeconds();
    this.alerts.closeForRetiredHost(hostId, host.retiredAt);
    return { success: true };
  }

  private nextHostId(): string {
    // Mackerel host ids are 11 characters of [0-9A-Za-z]; these are deterministic.
    let id: string;
    do {
      id = `H${String(++this.hostSeq).padStart(10, "0")}`;
    } while (this.hostsById.has(id));
    return id;
  }

  private ensureRole(fullname: string): void {
    const [service, role] = fullname.split(":") as [string, string];
    let state = this.services.get(service);
    if (!state) {
      state = { name: service, memo: "", roles: new Set() };
      this.services.set(service, state);
    }
    state.roles.add(role);
  }

  private findByCustomIdentifier(customIdentifier: string): HostState | undefined {
    for (const host of this.hostsById.values()) {
      if (!host.isRetired && host.customIdentifier === customIdentifier) return host;
    }
    return undefined;
  }

  private liveHost(hostId: string): HostState {
    const host = this.hostsById.get(hostId);
    if (!host || host.isRetired) throw new HttpError(404, `Host not found: ${hostId}`);
    return host;
  }

  // ----- writes -----

  /** Where a metric point's time falls against the server clock; far future answers 400 unless dropped. */
  readonly metricWindow = (time: number, field: string): MetricWindow => {
    const now = this.nowSeconds();
    if (time > now + METRIC_MAX_FUTURE_SECONDS) {
      if ((this.options.futureMetrics ?? "reject") === "reject") {
        throw bad(`${field} ${time} is more than 24 hours in the future of the server clock (${now})`);
      }
      return "future";
    }
    return time < now - METRIC_MAX_AGE_SECONDS ? "old" : "keep";
  };

  acceptServiceMetrics(service: string, points: MetricPoint[]): { success: true } {
    if (!this.services.has(service)) throw new HttpError(404, `Service not found: ${service}`);
    for (const p of points) {
      this.countWrite("serviceMetric", { service, name: p.name, time: p.time });
      if (p.window === "old") this.bump("ignored.serviceMetricsTooOld");
      else if (p.window === "future") this.bump("ignored.serviceMetricsTooNew");
      else {
        const k = key(service, p.name, p.time);
        if (this.serviceValues.has(k)) this.bump("replaced.serviceMetrics");
        this.serviceValues.set(k, { service, name: p.name, time: p.time, value: p.value });
      }
    }
    return { success: true };
  }

  acceptHostMetrics(points: (MetricPoint & { hostId: string })[]): { success: true } {
    for (const p of points) this.liveHost(p.hostId);
    for (const p of points) {
      this.countWrite("hostMetric", { hostId: p.hostId, name: p.name, time: p.time });
      if (p.window === "old") this.bump("ignored.hostMetricsTooOld");
      else if (p.window === "future") this.bump("ignored.hostMetricsTooNew");
      else {
        const k = key(p.hostId, p.name, p.time);
        if (this.hostValues.has(k)) this.bump("replaced.hostMetrics");
        this.hostValues.set(k, { hostId: p.hostId, name: p.name, time: p.time, value: p.value });
      }
    }
    return { success: true };
  }

  acceptCheckReports(reports: RecordedCheckReport[]): { success: true } {
    for (const r of reports) this.liveHost(r.hostId);
    const now = this.nowSeconds();
    const latestWins = (this.options.checkReportOrdering ?? "latest-wins") === "latest-wins";
    for (const report of reports) {
      this.countWrite("checkReport", { hostId: report.hostId, name: report.name, occurredAt: report.occurredAt });
      if (report.occurredAt <= now - CHECK_REPORT_MAX_AGE_SECONDS) {
        this.bump("ignored.checkReportsTooOld");
        continue;
      }
      const state = this.alerts.state(report.hostId, report.name);
      if (state && report.occurredAt === state.latestOccurredAt) {
        this.bump("ignored.duplicateCheckReports");
        continue;
      }
      if (state && latestWins && report.occurredAt < state.latestOccurredAt) {
        this.bump("ignored.outOfOrderCheckReports");
        continue;
      }
      report.receivedAt = this.clock();
      this.reports.push(report);
      this.alerts.apply(report);
    }
    return { success: true };
  }

  // ----- views and counters -----

  serviceMetrics(service?: string): RecordedServiceMetric[] {
    return [...this.serviceValues.values()]
      .filter((m) => service === undefined || m.service === service)
      .sort((a, b) => compare(a.service, b.service) || compare(a.name, b.name) || a.time - b.time)
      .map((m) => ({ ...m }));
  }

  hostMetrics(hostId?: string): RecordedHostMetric[] {
    return [...this.hostValues.values()]
      .filter((m) => hostId === undefined || m.hostId === hostId)
      .sort((a, b) => compare(a.hostId, b.hostId) || compare(a.name, b.name) || a.time - b.time)
      .map((m) => ({ ...m }));
  }

  checkReports(): RecordedCheckReport[] {
    return this.reports.map((r) => ({ ...r }));
  }

  openAlerts(): OpenAlert[] {
    return this.alerts.openAlerts();
  }

  alertEvents(): AlertEvent[] {
    return this.alerts.events();
  }

  hosts(): LocalHost[] {
    return [...this.hostsById.values()].map(hostView);
  }

  serviceList(): LocalService[] {
    return [...this.services.values()]
      .sort((a, b) => compare(a.name, b.name))
      .map((s) => ({ name: s.name, memo: s.memo, roles: [...s.roles].sort(compare) }));
  }

  bump(counter: string, by = 1): void {
    if (by === 0) return;
    this.counterValues.set(counter, (this.counterValues.get(counter) ?? 0) + by);
  }

  counter(name: string): number {
    return this.counterValues.get(name) ?? 0;
  }

  counters(): Record<string, number> {
    return Object.fromEntries([...this.counterValues.entries()].sort(([a], [b]) => compare(a, b)));
  }

  writeCount(kind: WriteKind, id: Record<string, string | number>): number {
    return this.writes.get(writeKey(kind, id)) ?? 0;
  }

  private countWrite(kind: WriteKind, id: Record<string, string | number>): void {
    const k = writeKey(kind, id);
    this.writes.set(k, (this.writes.get(k) ?? 0) + 1);
  }

  private nowSeconds(): number {
    return Math.floor(this.clock() / 1000);
  }
}

function hostView(host: HostState): LocalHost {
  const roles: Record<string, string[]> = {};
  for (const fullname of host.roleFullnames) {
    const [service, role] = fullname.split(":") as [string, string];
    (roles[service] ??= []).push(role);
  }
  const view: LocalHost = {
    id: host.id,
    name: host.name,
    meta: structuredClone(host.meta),
    memo: host.memo,
    type: "unknown",
    status: host.status,
    isRetired: host.isRetired,
    createdAt: host.createdAt,
    roles,
    interfaces: [],
    checks: structuredClone(host.checks),
  };
  if (host.displayName !== undefined) view.displayName = host.displayName;
  if (host.customIdentifier !== undefined) view.customIdentifier = host.customIdentifier;
  if (host.retiredAt !== undefined) view.retiredAt = host.retiredAt;
  return view;
}

function writeKey(kind: WriteKind, id: Record<string, string | number>): string {
  switch (kind) {
    case "serviceMetric":
      return key(kind, String(id.service), String(id.name), Number(id.time));
    case "hostMetric":
      return key(kind, String(id.hostId), String(id.name), Number(id.time));
    case "checkReport":
      return key(kind, String(id.hostId), String(id.name), Number(id.occurredAt));
  }
}
