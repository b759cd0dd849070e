/**
 * A strict, local, Mackerel-compatible HTTP server for tests, benchmarks, the fault suite and the local
 * demo. It implements the endpoints this project uses, as Mackerel's API documentation describes them
 * (see /work/shared/MACKEREL_API.md), records everything it accepted for assertions, and injects faults
 * deterministically.
 *
 * Its rules are written from the documentation on purpose, not imported from `functions/shared`, so that
 * it checks the functions instead of mirroring their bugs.
 *
 * Where the documentation is silent, the choices below are this server's (each is configurable where a
 * test may need the other behaviour):
 * - A missing or unknown `X-Api-Key` answers 403 (`authFailureStatus`), the status every Mackerel API
 *   page documents for key problems; no source shows a 401.
 * - A POST whose Content-Type is not `application/json`, or whose body is not JSON, answers 400 (the
 *   documented "input in a format that can't be accepted").
 * - A request is validated as a whole before anything is recorded: one bad item refuses the request
 *   (400) and changes nothing.
 * - Posting to an unknown service answers 404; host metrics or check reports for an unknown or retired
 *   host answer 404.
 * - Metric points more than 24 h in the future are refused with 400 (`futureMetrics: "reject"`), since
 *   mackerel-agent never sends them; `futureMetrics: "drop"` accepts and drops them instead.
 * - Check reports: one older than the newest report already accepted for the same (host, name) is
 *   ignored (the Japanese documentation: "同じ名前/ホストで監視時刻が新しいものが既に投稿されていた場合"),
 *   and one with the same occurredAt is ignored as a duplicate (`checkReportOrdering`).
 * - A duplicate service name or a duplicate customIdentifier (among non-retired hosts) answers 400.
 * - A known path with the wrong method answers 405; an unknown path 404.
 * - Bodies over `maxBodyBytes` (default 10 MiB) answer 413.
 *
 * Node built-ins only; no test framework: plain scripts can run it too.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// ---------------------------------------------------------------------------------------------------
// Rules (from Mackerel's API documentation)
// ---------------------------------------------------------------------------------------------------

/** Service metric name (service-metrics API doc). */
export const SERVICE_METRIC_NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;
/** Custom host metric name (host-metrics API doc, "Regarding custom metric names and wildcards"). */
export const HOST_METRIC_NAME_PATTERN = /^custom(\.([-a-zA-Z0-9_]+|[*#]))+$/;
/** Service and role name: 2–63 characters of `A-Za-z0-9_-`, not starting with `-` or `_` (services API doc). */
export const SERVICE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{1,62}$/;
/** Check monitor name in a host registration's `checks` (hosts API doc). */
export const HOST_CHECK_NAME_PATTERN = /^[a-zA-Z0-9_-]+$/;
/** Graph definition units (host-metrics API doc, "Post Graph Definitions"). */
export const GRAPH_UNITS = [
  "float",
  "integer",
  "percentage",
  "seconds",
  "milliseconds",
  "bytes",
  "bytes/sec",
  "bits/sec",
  "iops",
] as const;
/** Check report statuses. */
export const CHECK_REPORT_STATUSES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const;
/** Host statuses accepted by `POST /api/v0/hosts/<id>/status`. */
export const HOST_STATUSES = ["working", "standby", "maintenance", "poweroff"] as const;

/** Metric points older than this (seconds) are accepted with 200 and not recorded. */
export const METRIC_MAX_AGE_SECONDS = 24 * 60 * 60;
/** Metric points further than this (seconds) in the future are refused or dropped (see `futureMetrics`). */
export const METRIC_MAX_FUTURE_SECONDS = 24 * 60 * 60;
/** Check reports whose occurredAt is this many seconds or more before the server's clock are ignored. */
export const CHECK_REPORT_MAX_AGE_SECONDS = 6 * 60 * 60;
/** At most this many reports per check report request. */
export const CHECK_REPORTS_MAX_PER_REQUEST = 100;
/** A check report message holds at most this many Unicode code points. */
export const CHECK_MESSAGE_MAX_CODE_POINTS = 1024;
/** Epoch values above this are taken for milliseconds (1e11 s is the year 5138) and refused. */
export const EPOCH_SECONDS_MAX = 1e11;

// ---------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------

/** A host status. */
export type HostStatus = (typeof HOST_STATUSES)[number];
/** A check report status. */
export type CheckReportStatus = (typeof CHECK_REPORT_STATUSES)[number];

/** A host to create when the server starts (or after {@link LocalMackerelServer.reset}). */
export interface LocalHostSeed {
  /** Host id; generated when omitted. */
  id?: string;
  name: string;
  displayName?: string;
  customIdentifier?: string;
  meta?: Record<string, unknown>;
  memo?: string;
  /** `service:role` names; the services and roles are created when missing. */
  roleFullnames?: string[];
  checks?: { name: string; memo?: string }[];
  /** Default `working`. */
  status?: HostStatus;
  /** A retired host: not found by custom identifier, refuses writes. */
  isRetired?: boolean;
}

/** Options of {@link LocalMackerelServer.start}. */
export interface LocalMackerelServerOptions {
  /** Accepted `X-Api-Key` values with read and write permission (default `["test-api-key"]`). */
  apiKeys?: string[];
  /** Accepted keys with read permission only: writes with them answer 403. */
  readOnlyKeys?: string[];
  /** Existing services (default `["my-service"]`). */
  services?: string[];
  /** Existing hosts. */
  hosts?: LocalHostSeed[];
  /** The server's clock in epoch ms (default `Date.now`); the 24 h and 6 h windows are measured with it. */
  now?: () => number;
  /** Status for a missing or unknown API key (default 403, as documented; 401 to test the other branch). */
  authFailureStatus?: number;
  /** Metric points more than 24 h in the future: refused with 400 (default) or accepted and dropped. */
  futureMetrics?: "reject" | "drop";
  /**
   * Which check reports are ignored for an existing (host, name): `"latest-wins"` (default, per the
   * documentation) ignores any report not newer than the newest accepted one; `"duplicates-only"`
   * ignores only a report with the same occurredAt.
   */
  checkReportOrdering?: "latest-wins" | "duplicates-only";
  /** Record parsed request bodies in {@link LocalMackerelServer.requests} (default true). */
  recordBodies?: boolean;
  /** Largest request body in bytes (default 10 MiB); larger bodies answer 413. */
  maxBodyBytes?: number;
  /** Port to listen on (default 0: a free port). The server listens on 127.0.0.1 only. */
  port?: number;
}

/** A host as the API returns it. */
export interface LocalHost {
  id: string;
  name: string;
  displayName?: string;
  customIdentifier?: string;
  meta: Record<string, unknown>;
  memo: string;
  type: string;
  status: HostStatus;
  isRetired: boolean;
  retiredAt?: number;
  /** Epoch seconds (server clock). */
  createdAt: number;
  roles: Record<string, string[]>;
  interfaces: unknown[];
  checks: { name: string; memo?: string }[];
}

/** A service as the API returns it. */
export interface LocalService {
  name: string;
  memo: string;
  roles: string[];
}

/** A recorded service metric value (the current one for its key). */
export interface RecordedServiceMetric {
  service: string;
  name: string;
  time: number;
  value: number;
}

/** A recorded host metric value (the current one for its key). */
export interface RecordedHostMetric {
  hostId: string;
  name: string;
  time: number;
  value: number;
}

/** An accepted check report. */
export interface RecordedCheckReport {
  hostId: string;
  name: string;
  status: CheckReportStatus;
  message: string;
  occurredAt: number;
  notificationInterval?: number;
  maxCheckAttempts?: number;
  /** Server clock (epoch ms) when it was accepted. */
  receivedAt: number;
}

/** An open check alert. */
export interface OpenAlert {
  hostId: string;
  checkName: string;
  status: Exclude<CheckReportStatus, "OK">;
  message: string;
  /** occurredAt of the report that opened it. */
  openedAt: number;
  /** occurredAt of the latest report that changed it. */
  updatedAt: number;
}

/** An alert transition: Mackerel notifies on `open` and `statusChange`. */
export interface AlertEvent {
  type: "open" | "statusChange" | "close";
  hostId: string;
  checkName: string;
  status: CheckReportStatus;
  /** occurredAt of the report, or the server clock in epoch seconds for `retired`. */
  at: number;
  reason: "report" | "retired";
}

/** A graph definition as posted. */
export interface RecordedGraphDef {
  name: string;
  displayName?: string;
  unit?: string;
  metrics: { name: string; displayName?: string; isStacked?: boolean }[];
}

/** A created graph annotation. */
export interface RecordedGraphAnnotation {
  id: string;
  title: string;
  description?: string;
  from: number;
  to: number;
  service: string;
  roles?: string[];
}

/** One request the server received. The API key itself is never recorded. */
export interface RecordedRequest {
  /** 1, 2, 3… in arrival order. */
  seq: number;
  method: string;
  /** Raw path, without the query string (percent-encoding kept). */
  path: string;
  /** Raw query string without `?` (empty when none). */
  query: string;
  /** Status answered (or processed, for `acceptThenReset`); 0 when the connection was reset unanswered. */
  status: number;
  /** False when the client got no response (reset faults). */
  responded: boolean;
  /** The key was one of the accepted keys (read-write or read-only). */
  apiKeyValid: boolean;
  /** The key was a read-only key. */
  apiKeyReadOnly: boolean;
  /** The fault that decided the outcome, if any. */
  fault?: FaultPlan["mode"] | "outage";
  /** Parsed JSON body (when `recordBodies`). */
  body?: unknown;
  /** Server clock (epoch ms) when the request arrived. */
  receivedAt: number;
}

/** Kinds of writes counted by {@link LocalMackerelServer.writeCount}. */
export type WriteKind = "serviceMetric" | "hostMetric" | "checkReport";

/** Which requests a fault plan applies to. */
export interface FaultMatch {
  /** Only requests whose raw path starts with this (e.g. `/api/v0/tsdb`). */
  pathPrefix?: string;
  /** Only requests with this method (e.g. `POST`). */
  method?: string;
  /**
   * How many matching requests the plan applies to: default 1, except `errorRate` (unlimited). Use
   * `Infinity` for "until {@link LocalMackerelServer.clearFaults}".
   */
  count?: number;
}

/**
 * A deterministic fault. Plans are consulted in the order they were injected; the first one that matches
 * a request and has count left decides it. A faulted request never changes the recorded state, except
 * `acceptThenReset` and `delay` without `thenStatus`, which model a server that did the work.
 */
export type FaultPlan =
  /** Answer `status` (4xx/5xx) without processing, with an optional Retry-After header. */
  | (FaultMatch & { mode: "status"; status: number; retryAfter?: number | string; message?: string })
  /**
   * Each matching request fails with probability `rate`, with a status drawn from `statuses`; a seeded
   * mulberry32 PRNG makes the sequence repeatable.
   */
  | (FaultMatch & { mode: "errorRate"; rate: number; seed: number; statuses: number[]; retryAfter?: number | string })
  /**
   * Wait `ms` before answering (to exceed client timeouts). Then the request is processed normally (the
   * work is done even when the client has gone), or, with `thenStatus`, answered with that status
   * unprocessed.
   */
  | (FaultMatch & { mode: "delay"; ms: number; thenStatus?: number })
  /** Destroy the connection without a response and without processing (connection reset). */
  | (FaultMatch & { mode: "reset" })
  /** Process the request (state recorded), then destroy the connection unanswered: a lost response. */
  | (FaultMatch & { mode: "acceptThenReset" });

/** A controllable clock for the `now` option. */
export class ManualClock {
  /** @param ms Start time in epoch ms (default: the real time now, rounded down to a whole second). */
  constructor(private ms: number = Math.floor(Date.now() / 1000) * 1000) {}

  /** The current time in epoch ms; pass `clock.now` as the `now` option. */
  readonly now = (): number => this.ms;

  /** The current time in whole epoch seconds. */
  nowSeconds(): number {
    return Math.floor(this.ms / 1000);
  }

  /** Moves the clock by `ms` (may be negative). */
  advance(ms: number): void {
    this.ms += ms;
  }

  /** Sets the clock to `ms` epoch ms. */
  set(ms: number): void {
    this.ms = ms;
  }
}

/** The mulberry32 PRNG: a repeatable sequence in [0, 1) for a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Number of Unicode code points in `text` (an emoji outside the BMP counts as one). */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------------

/** An error answered as `{"error":{"message":...}}`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface HostState {
  id: string;
  name: string;
  displayName?: string;
  customIdentifier?: string;
  meta: Record<string, unknown>;
  memo: string;
  status: HostStatus;
  isRetired: boolean;
  retiredAt?: number;
  createdAt: number;
  roleFullnames: string[];
  checks: { name: string; memo?: string }[];
}

interface ServiceState {
  name: string;
  memo: string;
  roles: Set<string>;
}

interface CheckState {
  latestOccurredAt: number;
  nonOkStreak: number;
  alert?: OpenAlert;
}

interface ActiveFault {
  plan: FaultPlan;
  remaining: number;
  random?: () => number;
}

interface Route {
  write: boolean;
  handle: (ctx: RequestContext) => unknown;
}

interface RequestContext {
  params: string[];
  query: URLSearchParams;
  body: unknown;
}

type FaultDecision =
  | { kind: "none" }
  | {
      kind: "status";
      status: number;
      message: string;
      headers: Record<string, string>;
      fault: RecordedRequest["fault"];
    }
  | { kind: "delay"; ms: number; thenStatus?: number }
  | { kind: "reset" }
  | { kind: "acceptThenReset" };

const DEFAULT_API_KEYS = ["test-api-key"];
const DEFAULT_SERVICES = ["my-service"];

const key = (...parts: (string | number)[]): string => JSON.stringify(parts);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const show = (value: unknown): string => {
  if (value === undefined) return "undefined";
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

const bad = (message: string): HttpError => new HttpError(400, message);

function requireString(value: unknown, field: string): string {
  if (typeof value !== "string") throw bad(`${field} must be a string (got ${show(value)})`);
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  return value === undefined ? undefined : requireString(value, field);
}

function requireEpochSeconds(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw bad(`${field} must be an integer number of epoch seconds (got ${show(value)})`);
  }
  if (value > EPOCH_SECONDS_MAX) {
    throw bad(`${field} must be in epoch seconds; ${value} looks like milliseconds`);
  }
  if (value < 0) throw bad(`${field} must not be negative (got ${value})`);
  return value;
}

function requireFiniteNumber(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw bad(`${field} must be a finite number (got ${show(value)})`);
  }
  return value;
}

function requireArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw bad(`${field} must be an array (got ${show(value)})`);
  return value;
}

function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (!isObject(value)) throw bad(`${field} must be an object (got ${show(value)})`);
  return value;
}

function retryAfterHeader(value: number | string | undefined): Record<string, string> {
  return value === undefined ? {} : { "Retry-After": String(value) };
}

function statusMessage(status: number): string {
  if (status === 429) return "Too Many Requests";
  if (status === 503) return "Service Unavailable";
  if (status >= 500) return "Internal Server Error";
  return "Bad Request";
}

// ---------------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------------

/**
 * A local Mackerel API. Start it with {@link LocalMackerelServer.start}, point the client's base URL at
 * {@link LocalMackerelServer.url}, then assert on what it recorded.
 */
export class LocalMackerelServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:12345/`. */
  readonly url: string;
  /** The port the server listens on. */
  readonly port: number;

  private readonly options: LocalMackerelServerOptions;
  private readonly clock: () => number;
  private apiKeySet = new Set<string>();
  private readOnlyKeySet = new Set<string>();

  private services = new Map<string, ServiceState>();
  private hostsById = new Map<string, HostState>();
  private hostSeq = 0;
  private annotationSeq = 0;
  private readonly serviceValues = new Map<string, RecordedServiceMetric>();
  private readonly hostValues = new Map<string, RecordedHostMetric>();
  private readonly reports: RecordedCheckReport[] = [];
  private readonly checkStates = new Map<string, CheckState>();
  private readonly events: AlertEvent[] = [];
  private readonly graphDefsByName = new Map<string, RecordedGraphDef>();
  private readonly annotations: RecordedGraphAnnotation[] = [];
  private readonly writes = new Map<string, number>();
  private readonly counterValues = new Map<string, number>();
  private readonly log: RecordedRequest[] = [];
  private requestSeq = 0;

  private faults: ActiveFault[] = [];
  private outage: { status: number; retryAfter?: number | string } | undefined;

  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private closed = false;

  private readonly routes: { pattern: string[]; method: string; route: Route }[];

  private constructor(
    private readonly server: Server,
    port: number,
    options: LocalMackerelServerOptions,
  ) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}/`;
    this.options = options;
    this.clock = options.now ?? Date.now;
    this.routes = this.buildRoutes();
    this.initialize();
  }

  /** Starts a server on 127.0.0.1 (a free port unless `options.port` is given). */
  static async start(options: LocalMackerelServerOptions = {}): Promise<LocalMackerelServer> {
    const holder: { instance?: LocalMackerelServer } = {};
    const server = createServer((req, res) => {
      if (!holder.instance) {
        res.destroy();
        return;
      }
      void holder.instance.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const instance = new LocalMackerelServer(server, port, options);
    holder.instance = instance;
    return instance;
  }

  /** Stops the server: drops open connections and pending delayed requests. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.timers) {
      clearTimeout(pending.timer);
      pending.resolve();
    }
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ----- configuration -----

  /**
   * Replaces the accepted keys (simulates rotation): requests with any other key answer
   * `authFailureStatus`. `readOnlyKeys` is replaced too when given.
   */
  setApiKeys(apiKeys: string[], readOnlyKeys?: string[]): void {
    this.apiKeySet = new Set(apiKeys);
    if (readOnlyKeys) this.readOnlyKeySet = new Set(readOnlyKeys);
  }

  /** Creates a service (as `POST /api/v0/services` would); a no-op when it exists. */
  addService(name: string, memo = ""): void {
    if (!SERVICE_NAME_PATTERN.test(name)) throw new Error(`invalid service name ${show(name)}`);
    if (!this.services.has(name)) this.services.set(name, { name, memo, roles: new Set() });
  }

  /** Creates a host directly and returns its id. */
  addHost(seed: LocalHostSeed): string {
    return this.createHost(seed).id;
  }

  /**
   * Turns a maintenance-like outage on or off: while on, every write (POST) answers `status` (default
   * 503) and changes nothing; reads keep working.
   */
  setOutage(on: boolean, options: { status?: number; retryAfter?: number | string } = {}): void {
    this.outage = on ? { status: options.status ?? 503, retryAfter: options.retryAfter } : undefined;
  }

  /** Adds fault plans (see {@link FaultPlan}); they apply after those already injected. */
  injectFaults(plan: FaultPlan | FaultPlan[]): void {
    for (const p of Array.isArray(plan) ? plan : [plan]) {
      validateFaultPlan(p);
      const remaining = p.count ?? (p.mode === "errorRate" ? Number.POSITIVE_INFINITY : 1);
      this.faults.push({ plan: p, remaining, random: p.mode === "errorRate" ? mulberry32(p.seed) : undefined });
    }
  }

  /** Removes every fault plan that has not run out yet. */
  clearFaults(): void {
    this.faults = [];
  }

  /** Fault plans with count left, in the order they are consulted. */
  pendingFaults(): { plan: FaultPlan; remaining: number }[] {
    return this.faults.filter((f) => f.remaining > 0).map((f) => ({ plan: f.plan, remaining: f.remaining }));
  }

  /**
   * Forgets everything recorded and goes back to the state given at start: services, hosts and keys from
   * the options, no faults, no outage, empty logs and counters.
   */
  reset(): void {
    this.serviceValues.clear();
    this.hostValues.clear();
    this.reports.length = 0;
    this.checkStates.clear();
    this.events.length = 0;
    this.graphDefsByName.clear();
    this.annotations.length = 0;
    this.writes.clear();
    this.counterValues.clear();
    this.log.length = 0;
    this.requestSeq = 0;
    this.faults = [];
    this.outage = undefined;
    this.initialize();
  }

  /** Resolves once no request is being handled (delayed requests included). */
  async whenIdle(): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  // ----- recorded state -----

  /** Current service metric values (one per service, name, time), sorted by service, name, time. */
  serviceMetrics(service?: string): RecordedServiceMetric[] {
    return [...this.serviceValues.values()]
      .filter((m) => service === undefined || m.service === service)
      .sort((a, b) => compare(a.service, b.service) || compare(a.name, b.name) || a.time - b.time)
      .map((m) => ({ ...m }));
  }

  /** Current host metric values (one per host, name, time), sorted by host id, name, time. */
  hostMetrics(hostId?: string): RecordedHostMetric[] {
    return [...this.hostValues.values()]
      .filter((m) => hostId === undefined || m.hostId === hostId)
      .sort((a, b) => compare(a.hostId, b.hostId) || compare(a.name, b.name) || a.time - b.time)
      .map((m) => ({ ...m }));
  }

  /** Accepted check reports in arrival order (ignored ones are only counted). */
  checkReports(): RecordedCheckReport[] {
    return this.reports.map((r) => ({ ...r }));
  }

  /** Open check alerts, sorted by host id and check name. */
  openAlerts(): OpenAlert[] {
    return [...this.checkStates.values()]
      .flatMap((s) => (s.alert ? [{ ...s.alert }] : []))
      .sort((a, b) => compare(a.hostId, b.hostId) || compare(a.checkName, b.checkName));
  }

  /** Alert transitions in order: what Mackerel would notify about. */
  alertEvents(): AlertEvent[] {
    return this.events.map((e) => ({ ...e }));
  }

  /** Every host, retired ones included, in creation order. */
  hosts(): LocalHost[] {
    return [...this.hostsById.values()].map((h) => this.hostView(h));
  }

  /** Every service, sorted by name. */
  serviceList(): LocalService[] {
    return [...this.services.values()].sort((a, b) => compare(a.name, b.name)).map(serviceView);
  }

  /** Graph definitions, the latest per name. */
  graphDefs(): RecordedGraphDef[] {
    return [...this.graphDefsByName.values()].map((d) => structuredClone(d));
  }

  /** Created graph annotations in order. */
  graphAnnotations(): RecordedGraphAnnotation[] {
    return this.annotations.map((a) => structuredClone(a));
  }

  /** Every request received, in order (live array; the key itself is never stored). */
  get requests(): readonly RecordedRequest[] {
    return this.log;
  }

  /**
   * Counters of what was ignored, rejected, replaced and faulted, e.g. `ignored.serviceMetricsTooOld`,
   * `ignored.duplicateCheckReports`, `rejected.400`, `replaced.serviceMetrics`, `faults.reset`.
   */
  get counters(): Readonly<Record<string, number>> {
    return Object.fromEntries([...this.counterValues.entries()].sort(([a], [b]) => compare(a, b)));
  }

  /** One counter (0 when never incremented). */
  counter(name: string): number {
    return this.counterValues.get(name) ?? 0;
  }

  /**
   * How many times the item with this key arrived in a request the server processed (a 2xx, including
   * `acceptThenReset`), whether it was then kept, replaced, dropped as too old or ignored as a duplicate.
   * "Delivered exactly once" is `writeCount(...) === 1`.
   */
  writeCount(kind: "serviceMetric", id: { service: string; name: string; time: number }): number;
  writeCount(kind: "hostMetric", id: { hostId: string; name: string; time: number }): number;
  writeCount(kind: "checkReport", id: { hostId: string; name: string; occurredAt: number }): number;
  writeCount(kind: WriteKind, id: Record<string, string | number>): number {
    return this.writes.get(writeKey(kind, id)) ?? 0;
  }

  // ----- request handling -----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    try {
      await this.handleRequest(req, res);
    } catch (error) {
      send(res, 500, { error: { message: `local server error: ${String(error)}` } });
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = this.clock();
    const method = (req.method ?? "GET").toUpperCase();
    const rawUrl = req.url ?? "/";
    const queryAt = rawUrl.indexOf("?");
    const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = queryAt < 0 ? "" : rawUrl.slice(queryAt + 1);
    const apiKey = headerValue(req.headers["x-api-key"]);
    const apiKeyReadOnly = apiKey !== undefined && !this.apiKeySet.has(apiKey) && this.readOnlyKeySet.has(apiKey);
    const apiKeyValid = apiKey !== undefined && (this.apiKeySet.has(apiKey) || apiKeyReadOnly);

    const entry: RecordedRequest = {
      seq: ++this.requestSeq,
      method,
      path,
      query,
      status: 0,
      responded: false,
      apiKeyValid,
      apiKeyReadOnly,
      receivedAt,
    };

    const { text, tooLarge } = await readBody(req, this.options.maxBodyBytes ?? 10 * 1024 * 1024);
    let parsedBody: unknown;
    let bodyError: string | undefined;
    if (text !== "") {
      try {
        parsedBody = JSON.parse(text);
      } catch {
        bodyError = "the request body is not valid JSON";
      }
    }
    if (this.options.recordBodies !== false && parsedBody !== undefined) entry.body = parsedBody;
    this.log.push(entry);

    // The server "fails" before looking at the request: outage first, then fault plans.
    const isWrite = method !== "GET" && method !== "HEAD";
    if (this.outage && isWrite) {
      this.bump("faults.outage");
      entry.fault = "outage";
      return this.answer(
        res,
        entry,
        this.outage.status,
        {
          error: { message: "Mackerel is under maintenance" },
        },
        retryAfterHeader(this.outage.retryAfter),
      );
    }

    const decision = this.decideFault(method, path);
    let resetAfterProcessing = false;
    switch (decision.kind) {
      case "status":
        entry.fault = decision.fault;
        this.bump(`faults.${decision.fault}`);
        return this.answer(res, entry, decision.status, { error: { message: decision.message } }, decision.headers);
      case "reset":
        entry.fault = "reset";
        this.bump("faults.reset");
        entry.status = 0;
        res.destroy();
        req.socket.destroy();
        return;
      case "delay":
        entry.fault = "delay";
        this.bump("faults.delay");
        await this.sleep(decision.ms);
        if (this.closed) {
          res.destroy();
          return;
        }
        if (decision.thenStatus !== undefined) {
          return this.answer(res, entry, decision.thenStatus, {
            error: { message: `injected fault: ${decision.thenStatus} after ${decision.ms} ms` },
          });
        }
        break;
      case "acceptThenReset":
        entry.fault = "acceptThenReset";
        this.bump("faults.acceptThenReset");
        resetAfterProcessing = true;
        break;
      case "none":
        break;
    }

    let status: number;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      body = this.dispatch(method, path, query, apiKey, parsedBody, bodyError, tooLarge, req);
      status = 200;
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      status = error.status;
      headers = error.headers;
      body = { error: { message: error.message } };
      this.bump(`rejected.${status}`);
    }

    if (resetAfterProcessing) {
      entry.status = status;
      entry.responded = false;
      res.destroy();
      req.socket.destroy();
      return;
    }
    this.answer(res, entry, status, body, headers);
  }

  private answer(
    res: ServerResponse,
    entry: RecordedRequest,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    entry.status = status;
    entry.responded = send(res, status, body, headers);
  }

  private dispatch(
    method: string,
    path: string,
    query: string,
    apiKey: string | undefined,
    body: unknown,
    bodyError: string | undefined,
    tooLarge: boolean,
    req: IncomingMessage,
  ): unknown {
    // Authentication first, as an API gateway would.
    if (apiKey === undefined || apiKey === "") {
      throw new HttpError(this.options.authFailureStatus ?? 403, "API key is missing (X-Api-Key header)");
    }
    const readWrite = this.apiKeySet.has(apiKey);
    if (!readWrite && !this.readOnlyKeySet.has(apiKey)) {
      throw new HttpError(this.options.authFailureStatus ?? 403, "Authentication failed: invalid API key");
    }

    const segments = splitPath(path);
    const match = this.matchRoute(method, segments);
    if (match === "not-found") throw new HttpError(404, `Not found: ${method} ${path}`);
    if (match === "method-not-allowed") throw new HttpError(405, `Method not allowed: ${method} ${path}`);
    const { route, params } = match;

    if (route.write && !readWrite) {
      throw new HttpError(403, "This API key does not have write permission");
    }
    if (method === "POST") {
      if (tooLarge) throw new HttpError(413, "The request body is too large");
      const contentType = headerValue(req.headers["content-type"]);
      const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
      if (mediaType !== "application/json") {
        throw bad(`Content-Type must be application/json (got ${show(contentType)})`);
      }
      if (bodyError) throw bad(bodyError);
      if (body === undefined) throw bad("the request body must be JSON");
    }
    return route.handle({ params, query: new URLSearchParams(query), body });
  }

  private matchRoute(
    method: string,
    segments: string[],
  ): { route: Route; params: string[] } | "not-found" | "method-not-allowed" {
    let pathMatched = false;
    for (const candidate of this.routes) {
      const params = matchPattern(candidate.pattern, segments);
      if (!params) continue;
      pathMatched = true;
      if (candidate.method === method) return { route: candidate.route, params };
    }
    return pathMatched ? "method-not-allowed" : "not-found";
  }

  private decideFault(method: string, path: string): FaultDecision {
    for (const fault of this.faults) {
      if (fault.remaining <= 0) continue;
      const { plan } = fault;
      if (plan.pathPrefix !== undefined && !path.startsWith(plan.pathPrefix)) continue;
      if (plan.method !== undefined && plan.method.toUpperCase() !== method) continue;
      fault.remaining--;
      switch (plan.mode) {
        case "status":
          return {
            kind: "status",
            status: plan.status,
            message: plan.message ?? `injected fault: ${statusMessage(plan.status)}`,
            headers: retryAfterHeader(plan.retryAfter),
            fault: "status",
          };
        case "errorRate": {
          const random = fault.random!;
          const draw = random();
          const pick = random();
          if (draw >= plan.rate) return { kind: "none" };
          const status = plan.statuses[Math.floor(pick * plan.statuses.length)]!;
          return {
            kind: "status",
            status,
            message: `injected fault: ${statusMessage(status)}`,
            headers: retryAfterHeader(plan.retryAfter),
            fault: "errorRate",
          };
        }
        case "delay":
          return { kind: "delay", ms: plan.ms, thenStatus: plan.thenStatus };
        case "reset":
          return { kind: "reset" };
        case "acceptThenReset":
          return { kind: "acceptThenReset" };
      }
    }
    return { kind: "none" };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const pending = {
        timer: setTimeout(() => {
          this.timers.delete(pending);
          resolve();
        }, ms),
        resolve,
      };
      this.timers.add(pending);
    });
  }

  private bump(counter: string, by = 1): void {
    if (by === 0) return;
    this.counterValues.set(counter, (this.counterValues.get(counter) ?? 0) + by);
  }

  private countWrite(kind: WriteKind, id: Record<string, string | number>): void {
    const k = writeKey(kind, id);
    this.writes.set(k, (this.writes.get(k) ?? 0) + 1);
  }

  private nowSeconds(): number {
    return Math.floor(this.clock() / 1000);
  }

  // ----- state setup -----

  private initialize(): void {
    this.apiKeySet = new Set(this.options.apiKeys ?? DEFAULT_API_KEYS);
    this.readOnlyKeySet = new Set(this.options.readOnlyKeys ?? []);
    this.services = new Map();
    for (const name of this.options.services ?? DEFAULT_SERVICES) this.addService(name);
    this.hostsById = new Map();
    this.hostSeq = 0;
    this.annotationSeq = 0;
    for (const seed of this.options.hosts ?? []) this.createHost(seed);
  }

  private createHost(seed: LocalHostSeed): HostState {
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
    return host;
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

  private hostView(host: HostState): LocalHost {
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

  // ----- routes -----

  private buildRoutes(): { pattern: string[]; method: string; route: Route }[] {
    const r = (method: string, pattern: string, write: boolean, handle: Route["handle"]) => ({
      method,
      pattern: pattern.split("/").filter(Boolean),
      route: { write, handle },
    });
    return [
      r("POST", "api/v0/services/:/tsdb", true, (c) => this.postServiceMetrics(c.params[0]!, c.body)),
      r("POST", "api/v0/tsdb", true, (c) => this.postHostMetrics(c.body)),
      r("POST", "api/v0/monitoring/checks/report", true, (c) => this.postCheckReports(c.body)),
      r("GET", "api/v0/hosts-by-custom-identifier/:", false, (c) => this.getHostByCustomIdentifier(c.params[0]!)),
      r("GET", "api/v0/hosts", false, (c) => this.listHosts(c.query)),
      r("GET", "api/v0/hosts.json", false, (c) => this.listHosts(c.query)),
      r("POST", "api/v0/hosts", true, (c) => this.registerHost(c.body)),
      r("GET", "api/v0/hosts/:", false, (c) => ({ host: this.hostView(this.anyHost(c.params[0]!)) })),
      r("POST", "api/v0/hosts/:/status", true, (c) => this.updateHostStatus(c.params[0]!, c.body)),
      r("POST", "api/v0/hosts/:/retire", true, (c) => this.retireHost(c.params[0]!, c.body)),
      r("GET", "api/v0/services", false, () => ({ services: this.serviceList() })),
      r("POST", "api/v0/services", true, (c) => this.createService(c.body)),
      r("POST", "api/v0/graph-defs/create", true, (c) => this.createGraphDefs(c.body)),
      r("POST", "api/v0/graph-annotations", true, (c) => this.createGraphAnnotation(c.body)),
    ];
  }

  private anyHost(hostId: string): HostState {
    const host = this.hostsById.get(hostId);
    if (!host) throw new HttpError(404, `Host not found: ${hostId}`);
    return host;
  }

  /** Checks a metric point's time against the windows: "keep", "old" or "future" (when dropped). */
  private metricWindow(time: number, field: string): "keep" | "old" | "future" {
    const now = this.nowSeconds();
    if (time > now + METRIC_MAX_FUTURE_SECONDS) {
      if ((this.options.futureMetrics ?? "reject") === "reject") {
        throw bad(`${field} ${time} is more than 24 hours in the future of the server clock (${now})`);
      }
      return "future";
    }
    return time < now - METRIC_MAX_AGE_SECONDS ? "old" : "keep";
  }

  private postServiceMetrics(service: string, body: unknown): unknown {
    const items = requireArray(body, "body");
    const points = items.map((item, i) => {
      const field = `[${i}]`;
      const point = requireObject(item, field);
      const name = requireString(point.name, `${field}.name`);
      if (!SERVICE_METRIC_NAME_PATTERN.test(name)) {
        throw bad(`${field}.name ${show(name)} does not match [a-zA-Z0-9._-]+`);
      }
      const time = requireEpochSeconds(point.time, `${field}.time`);
      const value = requireFiniteNumber(point.value, `${field}.value`);
      return { name, time, value, window: this.metricWindow(time, `${field}.time`) };
    });
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

  private postHostMetrics(body: unknown): unknown {
    const items = requireArray(body, "body");
    const points = items.map((item, i) => {
      const field = `[${i}]`;
      const point = requireObject(item, field);
      const hostId = requireString(point.hostId, `${field}.hostId`);
      const name = requireString(point.name, `${field}.name`);
      if (!HOST_METRIC_NAME_PATTERN.test(name)) {
        throw bad(`${field}.name ${show(name)} does not match ^custom(\\.([-a-zA-Z0-9_]+|[*#]))+$`);
      }
      const time = requireEpochSeconds(point.time, `${field}.time`);
      const value = requireFiniteNumber(point.value, `${field}.value`);
      return { hostId, name, time, value, window: this.metricWindow(time, `${field}.time`) };
    });
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

  private postCheckReports(body: unknown): unknown {
    const input = requireObject(body, "body");
    const items = requireArray(input.reports, "reports");
    if (items.length === 0) throw bad("reports must hold at least one report");
    if (items.length > CHECK_REPORTS_MAX_PER_REQUEST) {
      throw bad(`reports holds ${items.length} reports; at most ${CHECK_REPORTS_MAX_PER_REQUEST} are accepted`);
    }
    const reports = items.map((item, i) => {
      const field = `reports[${i}]`;
      const report = requireObject(item, field);
      const source = requireObject(report.source, `${field}.source`);
      if (source.type !== "host") throw bad(`${field}.source.type must be "host" (got ${show(source.type)})`);
      const hostId = requireString(source.hostId, `${field}.source.hostId`);
      const name = requireString(report.name, `${field}.name`);
      if (name === "") throw bad(`${field}.name must not be empty`);
      const status = report.status;
      if (typeof status !== "string" || !(CHECK_REPORT_STATUSES as readonly string[]).includes(status)) {
        throw bad(`${field}.status must be one of ${CHECK_REPORT_STATUSES.join(", ")} (got ${show(status)})`);
      }
      const message = requireString(report.message, `${field}.message`);
      const length = codePointLength(message);
      if (length > CHECK_MESSAGE_MAX_CODE_POINTS) {
        throw bad(`${field}.message has ${length} characters; at most ${CHECK_MESSAGE_MAX_CODE_POINTS} are accepted`);
      }
      const occurredAt = requireEpochSeconds(report.occurredAt, `${field}.occurredAt`);
      const recorded: RecordedCheckReport = {
        hostId,
        name,
        status: status as CheckReportStatus,
        message,
        occurredAt,
        receivedAt: 0,
      };
      if (report.notificationInterval !== undefined) {
        const interval = report.notificationInterval;
        if (typeof interval !== "number" || !Number.isInteger(interval) || interval < 10) {
          throw bad(`${field}.notificationInterval must be an integer number of minutes >= 10 (got ${show(interval)})`);
        }
        recorded.notificationInterval = interval;
      }
      if (report.maxCheckAttempts !== undefined) {
        const attempts = report.maxCheckAttempts;
        if (typeof attempts !== "number" || !Number.isInteger(attempts) || attempts < 1 || attempts > 10) {
          throw bad(`${field}.maxCheckAttempts must be an integer from 1 to 10 (got ${show(attempts)})`);
        }
        recorded.maxCheckAttempts = attempts;
      }
      return recorded;
    });
    for (const r of reports) this.liveHost(r.hostId);

    const now = this.nowSeconds();
    const latestWins = (this.options.checkReportOrdering ?? "latest-wins") === "latest-wins";
    for (const report of reports) {
      this.countWrite("checkReport", { hostId: report.hostId, name: report.name, occurredAt: report.occurredAt });
      if (report.occurredAt <= now - CHECK_REPORT_MAX_AGE_SECONDS) {
        this.bump("ignored.checkReportsTooOld");
        continue;
      }
      const stateKey = key(report.hostId, report.name);
      const state = this.checkStates.get(stateKey);
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
      this.applyToAlert(report, state);
    }
    return { success: true };
  }

  private applyToAlert(report: RecordedCheckReport, previous: CheckState | undefined): void {
    const stateKey = key(report.hostId, report.name);
    const state: CheckState = previous ?? { latestOccurredAt: report.occurredAt, nonOkStreak: 0 };
    state.latestOccurredAt = Math.max(state.latestOccurredAt, report.occurredAt);
    this.checkStates.set(stateKey, state);
    const base = { hostId: report.hostId, checkName: report.name, at: report.occurredAt, reason: "report" as const };
    if (report.status === "OK") {
      state.nonOkStreak = 0;
      if (state.alert) {
        state.alert = undefined;
        this.events.push({ ...base, type: "close", status: "OK" });
      }
      return;
    }
    const status = report.status;
    state.nonOkStreak++;
    if (state.alert) {
      if (state.alert.status !== status) this.events.push({ ...base, type: "statusChange", status });
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
      this.events.push({ ...base, type: "open", status });
    }
  }

  private getHostByCustomIdentifier(customIdentifier: string): unknown {
    const host = this.findByCustomIdentifier(customIdentifier);
    if (!host) throw new HttpError(404, `Host not found for customIdentifier ${show(customIdentifier)}`);
    return { host: this.hostView(host) };
  }

  private listHosts(query: URLSearchParams): unknown {
    const statuses = query.getAll("status");
    const wanted = statuses.length > 0 ? statuses : ["working", "standby"];
    const customIdentifier = query.get("customIdentifier");
    const name = query.get("name");
    const service = query.get("service");
    const roles = query.getAll("role");
    const hosts = [...this.hostsById.values()].filter((h) => {
      if (h.isRetired || !wanted.includes(h.status)) return false;
      if (customIdentifier !== null && h.customIdentifier !== customIdentifier) return false;
      if (name !== null && h.name !== name) return false;
      if (service !== null) {
        const inService = h.roleFullnames.filter((f) => f.startsWith(`${service}:`)).map((f) => f.split(":")[1]);
        if (inService.length === 0) return false;
        if (roles.length > 0 && !inService.some((role) => roles.includes(role!))) return false;
      }
      return true;
    });
    return { hosts: hosts.map((h) => this.hostView(h)) };
  }

  private registerHost(body: unknown): unknown {
    const input = requireObject(body, "body");
    const name = requireString(input.name, "name");
    if (name === "") throw bad("name must not be empty");
    const displayName = optionalString(input.displayName, "displayName");
    const customIdentifier = optionalString(input.customIdentifier, "customIdentifier");
    const memo = optionalString(input.memo, "memo");
    const meta = requireObject(input.meta, "meta");
    let roleFullnames: string[] | undefined;
    if (input.roleFullnames !== undefined) {
      roleFullnames = requireArray(input.roleFullnames, "roleFullnames").map((value, i) => {
        const fullname = requireString(value, `roleFullnames[${i}]`);
        const [service, role, extra] = fullname.split(":");
        if (
          extra !== undefined ||
          !service ||
          !role ||
          !SERVICE_NAME_PATTERN.test(service) ||
          !SERVICE_NAME_PATTERN.test(role)
        ) {
          throw bad(`roleFullnames[${i}] ${show(fullname)} must be <service>:<role> with valid names`);
        }
        return fullname;
      });
    }
    let checks: { name: string; memo?: string }[] | undefined;
    if (input.checks !== undefined) {
      checks = requireArray(input.checks, "checks").map((value, i) => {
        const check = requireObject(value, `checks[${i}]`);
        const checkName = requireString(check.name, `checks[${i}].name`);
        if (!HOST_CHECK_NAME_PATTERN.test(checkName)) {
          throw bad(`checks[${i}].name ${show(checkName)} does not match [a-zA-Z0-9_-]+`);
        }
        const checkMemo = optionalString(check.memo, `checks[${i}].memo`);
        return checkMemo === undefined ? { name: checkName } : { name: checkName, memo: checkMemo };
      });
    }
    if (customIdentifier !== undefined && this.findByCustomIdentifier(customIdentifier)) {
      throw bad(`customIdentifier ${show(customIdentifier)} is already used by another host in the organization`);
    }
    const host = this.createHost({ name, displayName, customIdentifier, meta, memo, roleFullnames, checks });
    return { id: host.id };
  }

  private updateHostStatus(hostId: string, body: unknown): unknown {
    const input = requireObject(body, "body");
    const status = input.status;
    if (typeof status !== "string" || !(HOST_STATUSES as readonly string[]).includes(status)) {
      throw bad(`status must be one of ${HOST_STATUSES.join(", ")} (got ${show(status)})`);
    }
    this.liveHost(hostId).status = status as HostStatus;
    return { success: true };
  }

  private retireHost(hostId: string, body: unknown): unknown {
    requireObject(body, "body");
    const host = this.liveHost(hostId);
    host.isRetired = true;
    host.retiredAt = this.nowSeconds();
    for (const state of this.checkStates.values()) {
      if (state.alert?.hostId !== hostId) continue;
      this.events.push({
        type: "close",
        hostId,
        checkName: state.alert.checkName,
        status: state.alert.status,
        at: host.retiredAt,
        reason: "retired",
      });
      state.alert = undefined;
      state.nonOkStreak = 0;
    }
    return { success: true };
  }

  private createService(body: unknown): unknown {
    const input = requireObject(body, "body");
    const name = requireString(input.name, "name");
    if (!SERVICE_NAME_PATTERN.test(name)) {
      throw bad(
        `name ${show(name)} must be 2-63 characters of A-Za-z0-9_- and must not start with a hyphen or an underscore`,
      );
    }
    const memo = optionalString(input.memo, "memo") ?? "";
    if (this.services.has(name)) throw bad(`a service named ${show(name)} already exists`);
    const state: ServiceState = { name, memo, roles: new Set() };
    this.services.set(name, state);
    return serviceView(state);
  }

  private createGraphDefs(body: unknown): unknown {
    const defs = requireArray(body, "body").map((item, i): RecordedGraphDef => {
      const field = `[${i}]`;
      const def = requireObject(item, field);
      const name = requireString(def.name, `${field}.name`);
      if (!HOST_METRIC_NAME_PATTERN.test(name)) {
        throw bad(`${field}.name ${show(name)} must begin with custom. and match ^custom(\\.([-a-zA-Z0-9_]+|[*#]))+$`);
      }
      if (countHashes(name) > 1) throw bad(`${field}.name ${show(name)} uses the wildcard # more than once`);
      const displayName = optionalString(def.displayName, `${field}.displayName`);
      const unit = optionalString(def.unit, `${field}.unit`);
      if (unit !== undefined && !(GRAPH_UNITS as readonly string[]).includes(unit)) {
        throw bad(`${field}.unit must be one of ${GRAPH_UNITS.join(", ")} (got ${show(unit)})`);
      }
      const metricPattern = new RegExp(`^${escapeRegExp(name)}\\.([-a-zA-Z0-9_]+|[*#])$`);
      const metrics = requireArray(def.metrics, `${field}.metrics`).map((value, j) => {
        const mField = `${field}.metrics[${j}]`;
        const metric = requireObject(value, mField);
        const metricName = requireString(metric.name, `${mField}.name`);
        if (!metricPattern.test(metricName)) {
          throw bad(`${mField}.name ${show(metricName)} must be ${name}.<[-a-zA-Z0-9_]+ or * or #>`);
        }
        if (countHashes(metricName) > 1) throw bad(`${mField}.name ${show(metricName)} uses # more than once`);
        const metricDisplayName = optionalString(metric.displayName, `${mField}.displayName`);
        if (metric.isStacked !== undefined && typeof metric.isStacked !== "boolean") {
          throw bad(`${mField}.isStacked must be a boolean (got ${show(metric.isStacked)})`);
        }
        return {
          name: metricName,
          ...(metricDisplayName === undefined ? {} : { displayName: metricDisplayName }),
          ...(metric.isStacked === undefined ? {} : { isStacked: metric.isStacked as boolean }),
        };
      });
      return {
        name,
        ...(displayName === undefined ? {} : { displayName }),
        ...(unit === undefined ? {} : { unit }),
        metrics,
      };
    });
    for (const def of defs) this.graphDefsByName.set(def.name, def);
    return { success: true };
  }

  private createGraphAnnotation(body: unknown): unknown {
    const input = requireObject(body, "body");
    const title = requireString(input.title, "title");
    if (title === "") throw bad("title must not be empty");
    if (codePointLength(title) > 250) throw bad(`title has ${codePointLength(title)} characters; at most 250`);
    const description = optionalString(input.description, "description");
    if (description !== undefined && codePointLength(description) > 1024) {
      throw bad(`description has ${codePointLength(description)} characters; at most 1024`);
    }
    const from = requireEpochSeconds(input.from, "from");
    const to = requireEpochSeconds(input.to, "to");
    if (from > to) throw bad(`from (${from}) must not be after to (${to})`);
    const serviceName = requireString(input.service, "service");
    let roles: string[] | undefined;
    if (input.roles !== undefined) {
      roles = requireArray(input.roles, "roles").map((role, i) => requireString(role, `roles[${i}]`));
    }
    const service = this.services.get(serviceName);
    if (!service) throw new HttpError(404, `Service not found: ${serviceName}`);
    for (const role of roles ?? []) {
      if (!service.roles.has(role)) throw new HttpError(404, `Role not found: ${serviceName}:${role}`);
    }
    const annotation: RecordedGraphAnnotation = {
      id: `A${String(++this.annotationSeq).padStart(10, "0")}`,
      title,
      ...(description === undefined ? {} : { description }),
      from,
      to,
      service: serviceName,
      ...(roles === undefined ? {} : { roles }),
    };
    this.annotations.push(annotation);
    return structuredClone(annotation);
  }
}

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function serviceView(state: ServiceState): LocalService {
  return { name: state.name, memo: state.memo, roles: [...state.roles].sort(compare) };
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

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Splits a raw path into decoded segments; a malformed escape answers 400. */
function splitPath(path: string): string[] {
  return path
    .split("/")
    .slice(1)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw bad(`malformed percent-encoding in the path: ${show(segment)}`);
      }
    });
}

/** Matches decoded segments against a pattern where `:` is a parameter; returns the parameters. */
function matchPattern(pattern: string[], segments: string[]): string[] | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!;
    const actual = segments[i]!;
    if (expected === ":") {
      if (actual === "") return undefined;
      params.push(actual);
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}

function countHashes(name: string): number {
  return name.split(".").filter((segment) => segment === "#").length;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function readBody(req: IncomingMessage, limit: number): Promise<{ text: string; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) tooLarge = true;
    else chunks.push(buffer);
  }
  return { text: tooLarge ? "" : Buffer.concat(chunks).toString("utf8"), tooLarge };
}

/** Writes a JSON response; false when the connection is already gone. */
function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): boolean {
  if (res.destroyed || res.writableEnded) return false;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
  return true;
}

function validateFaultPlan(plan: FaultPlan): void {
  const fail = (message: string): never => {
    throw new TypeError(`invalid fault plan ${show(plan)}: ${message}`);
  };
  if (plan.count !== undefined && !(plan.count >= 0)) fail("count must be >= 0");
  const isErrorStatus = (s: number) => Number.isInteger(s) && s >= 400 && s <= 599;
  switch (plan.mode) {
    case "status":
      if (!isErrorStatus(plan.status)) fail("status must be a 4xx or 5xx code");
      break;
    case "errorRate":
      if (!(plan.rate >= 0 && plan.rate <= 1)) fail("rate must be within [0, 1]");
      if (plan.statuses.length === 0 || !plan.statuses.every(isErrorStatus)) fail("statuses must be 4xx/5xx codes");
      break;
    case "delay":
      if (!(plan.ms >= 0)) fail("ms must be >= 0");
      if (plan.thenStatus !== undefined && !isErrorStatus(plan.thenStatus)) fail("thenStatus must be 4xx/5xx");
      break;
    case "reset":
    case "acceptThenReset":
      break;
    default:
      fail("unknown mode");
  }
}

// ---------------------------------------------------------------------------------------------------
// Monitor definitions (monitors API; the file `mkr monitors pull` writes and `mkr monitors push` reads)
// ---------------------------------------------------------------------------------------------------

/** Service metric monitor operators (monitors API: "the comparison operator, `>` or `<`"). */
export const MONITOR_OPERATORS = [">", "<"] as const;
/** Alert status of a connectivity monitor when a host is gone (monitors API). */
export const ALERT_STATUSES_ON_GONE = ["CRITICAL", "WARNING"] as const;
/** Fields the monitors API documents for each type this project generates, besides the common ones. */
const MONITOR_COMMON_FIELDS = ["id", "type", "name", "memo", "notificationInterval", "isMute"];
const MONITOR_TYPE_FIELDS: Record<string, string[]> = {
  service: [
    "service",
    "metric",
    "operator",
    "warning",
    "critical",
    "duration",
    "maxCheckAttempts",
    "missingDurationWarning",
    "missingDurationCritical",
  ],
  connectivity: ["scopes", "excludeScopes", "alertStatusOnGone"],
};

/**
 * Checks a monitors file (`{"monitors": [...]}`) against the documented fields of Mackerel's monitors
 * API, for the types this project generates (service metric and connectivity monitors; any other type
 * is reported as not checked rather than passed). Returns the problems, each naming the monitor and the
 * field; an empty list means every definition is valid. Choices where the documentation is silent: a
 * service metric monitor needs at least one of warning/critical, and `duration` is a whole number >= 1.
 */
export function validateMonitorDefinitions(file: unknown): string[] {
  const problems: string[] = [];
  if (file === null || typeof file !== "object" || Array.isArray(file)) return ["the file must be a JSON object"];
  const top = file as Record<string, unknown>;
  for (const key of Object.keys(top)) if (key !== "monitors") problems.push(`unknown top-level field "${key}"`);
  if (!Array.isArray(top.monitors)) return [...problems, "monitors must be an array"];
  const names = new Map<string, number>();
  top.monitors.forEach((value, i) => {
    const at = `monitors[${i}]`;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      problems.push(`${at} must be an object`);
      return;
    }
    const m = value as Record<string, unknown>;
    const type = typeof m.type === "string" ? m.type : undefined;
    const allowed = type === undefined ? undefined : MONITOR_TYPE_FIELDS[type];
    if (!allowed) {
      problems.push(`${at}.type ${show(m.type)} is not a type this stand-in checks (service, connectivity)`);
      return;
    }
    for (const key of Object.keys(m)) {
      if (!MONITOR_COMMON_FIELDS.includes(key) && !allowed.includes(key)) {
        problems.push(`${at}: field "${key}" is not documented for ${type} monitors`);
      }
    }
    if (typeof m.name !== "string" || m.name === "") problems.push(`${at}.name must be a non-empty string`);
    else {
      if (names.has(m.name)) problems.push(`${at}.name ${show(m.name)} repeats monitors[${names.get(m.name)}]`);
      names.set(m.name, i);
    }
    if (m.memo !== undefined && typeof m.memo !== "string") problems.push(`${at}.memo must be a string`);
    if (m.isMute !== undefined && typeof m.isMute !== "boolean") problems.push(`${at}.isMute must be a boolean`);
    if (
      m.notificationInterval !== undefined &&
      !(Number.isInteger(m.notificationInterval) && (m.notificationInterval as number) >= 10)
    ) {
      problems.push(`${at}.notificationInterval must be a whole number of minutes, at least 10`);
    }
    const scopes = (field: string) => {
      const v = m[field];
      if (v === undefined) return;
      if (!Array.isArray(v)) return problems.push(`${at}.${field} must be an array`);
      v.forEach((scope, j) => {
        const [service, role, extra] = typeof scope === "string" ? scope.split(":") : [];
        const ok =
          typeof scope === "string" &&
          extra === undefined &&
          SERVICE_NAME_PATTERN.test(service ?? "") &&
          (role === undefined || SERVICE_NAME_PATTERN.test(role));
        if (!ok) problems.push(`${at}.${field}[${j}] ${show(scope)} must be <service> or <service>:<role>`);
      });
    };
    if (type === "connectivity") {
      scopes("scopes");
      scopes("excludeScopes");
      if (m.alertStatusOnGone !== undefined && !ALERT_STATUSES_ON_GONE.includes(m.alertStatusOnGone as never)) {
        problems.push(`${at}.alertStatusOnGone must be CRITICAL or WARNING`);
      }
      return;
    }
    if (typeof m.service !== "string" || !SERVICE_NAME_PATTERN.test(m.service)) {
      problems.push(`${at}.service must be a service name`);
    }
    if (typeof m.metric !== "string" || !SERVICE_METRIC_NAME_PATTERN.test(m.metric)) {
      problems.push(`${at}.metric must be a service metric name ([a-zA-Z0-9._-]+)`);
    }
    if (!MONITOR_OPERATORS.includes(m.operator as never)) problems.push(`${at}.operator must be > or <`);
    const threshold = (field: string) => {
      const v = m[field];
      if (v !== undefined && v !== null && (typeof v !== "number" || !Number.isFinite(v))) {
        problems.push(`${at}.${field} must be a number or null`);
      }
      return typeof v === "number";
    };
    const hasWarning = threshold("warning");
    const hasCritical = threshold("critical");
    if (!hasWarning && !hasCritical) problems.push(`${at}: warning or critical must be set`);
    if (!(Number.isInteger(m.duration) && (m.duration as number) >= 1)) {
      problems.push(`${at}.duration must be a whole number of points, at least 1`);
    }
    if (
      m.maxCheckAttempts !== undefined &&
      !(
        Number.isInteger(m.maxCheckAttempts) &&
        (m.maxCheckAttempts as number) >= 1 &&
        (m.maxCheckAttempts as number) <= 10
      )
    ) {
      problems.push(`${at}.maxCheckAttempts must be a whole number from 1 to 10`);
    }
    for (const field of ["missingDurationWarning", "missingDurationCritical"]) {
      const v = m[field];
      if (
        v !== undefined &&
        v !== null &&
        !(Number.isInteger(v) && (v as number) >= 10 && (v as number) % 10 === 0 && (v as number) <= 10080)
      ) {
        problems.push(`${at}.${field} must be minutes in multiples of 10, from 10 to 10080`);
      }
    }
  });
  return problems;
}
