/**
 * A strict, local, Mackerel-compatible HTTP server for tests, benchmarks, the fault suite and the local
 * demo. It serves the endpoints the functions call (routes.ts), as Mackerel's public API documentation
 * (mackerel.io/api-docs) describes them, records everything it accepted for assertions (model.ts), and
 * injects faults deterministically (faults.ts).
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
 * - A duplicate customIdentifier (among non-retired hosts) answers 400.
 * - A known path with the wrong method answers 405; an unknown path 404.
 * - Bodies over `maxBodyBytes` (default 10 MiB) answer 413.
 *
 * Node built-ins only; no test framework: plain scripts can run it too.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody, send } from "./http.js";
import { FaultInjector, type FaultPlan, retryAfterHeader } from "./faults.js";
import { MackerelModel } from "./model.js";
import { type Access, apiRoutes, dispatch, headerValue } from "./routes.js";
import { HttpError } from "./rules.js";
import type { LocalHostSeed, LocalMackerelServerOptions, RecordedRequest, WriteKind } from "./types.js";

const DEFAULT_API_KEYS = ["test-api-key"];

/**
 * A local Mackerel API. Start it with {@link LocalMackerelServer.start}, point the client's base URL at
 * {@link LocalMackerelServer.url}, then assert on what it recorded.
 */
export class LocalMackerelServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:12345/`. */
  readonly url: string;
  /** The port the server listens on. */
  readonly port: number;

  private readonly clock: () => number;
  private readonly model: MackerelModel;
  private readonly routes: ReturnType<typeof apiRoutes>;
  private readonly faults = new FaultInjector();
  private apiKeySet = new Set<string>();
  private readOnlyKeySet = new Set<string>();
  private outage: { status: number; retryAfter?: number | string } | undefined;
  private readonly log: RecordedRequest[] = [];
  private requestSeq = 0;

  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private closed = false;

  private constructor(
    private readonly server: Server,
    port: number,
    private readonly options: LocalMackerelServerOptions,
  ) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}/`;
    this.clock = options.now ?? Date.now;
    this.model = new MackerelModel(options, this.clock);
    this.routes = apiRoutes(this.model);
    this.initializeKeys();
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

  /** Creates a service (as Mackerel's `POST /api/v0/services` would); a no-op when it exists. */
  addService(name: string, memo = ""): void {
    this.model.addService(name, memo);
  }

  /** Creates a host directly and returns its id. */
  addHost(seed: LocalHostSeed): string {
    return this.model.createHost(seed).id;
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
    this.faults.inject(plan);
  }

  /** Removes every fault plan that has not run out yet. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Fault plans with count left, in the order they are consulted. */
  pendingFaults(): { plan: FaultPlan; remaining: number }[] {
    return this.faults.pending();
  }

  /**
   * Forgets everything recorded and goes back to the state given at start: services, hosts and keys from
   * the options, no faults, no outage, empty logs and counters.
   */
  reset(): void {
    this.model.reset();
    this.log.length = 0;
    this.requestSeq = 0;
    this.faults.clear();
    this.outage = undefined;
    this.initializeKeys();
  }

  /** Resolves once no request is being handled (delayed requests included). */
  async whenIdle(): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  // ----- recorded state -----

  /** Current service metric values (one per service, name, time), sorted by service, name, time. */
  serviceMetrics(service?: string): ReturnType<MackerelModel["serviceMetrics"]> {
    return this.model.serviceMetrics(service);
  }

  /** Current host metric values (one per host, name, time), sorted by host id, name, time. */
  hostMetrics(hostId?: string): ReturnType<MackerelModel["hostMetrics"]> {
    return this.model.hostMetrics(hostId);
  }

  /** Accepted check reports in arrival order (ignored ones are only counted). */
  checkReports(): ReturnType<MackerelModel["checkReports"]> {
    return this.model.checkReports();
  }

  /** Open check alerts, sorted by host id and check name. */
  openAlerts(): ReturnType<MackerelModel["openAlerts"]> {
    return this.model.openAlerts();
  }

  /** Alert transitions in order: what Mackerel would notify about. */
  alertEvents(): ReturnType<MackerelModel["alertEvents"]> {
    return this.model.alertEvents();
  }

  /** Every host, retired ones included, in creation order. */
  hosts(): ReturnType<MackerelModel["hosts"]> {
    return this.model.hosts();
  }

  /** Every service, sorted by name. */
  serviceList(): ReturnType<MackerelModel["serviceList"]> {
    return this.model.serviceList();
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
    return this.model.counters();
  }

  /** One counter (0 when never incremented). */
  counter(name: string): number {
    return this.model.counter(name);
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
    return this.model.writeCount(kind, id);
  }

  // ----- request handling -----

  private initializeKeys(): void {
    this.apiKeySet = new Set(this.options.apiKeys ?? DEFAULT_API_KEYS);
    this.readOnlyKeySet = new Set(this.options.readOnlyKeys ?? []);
  }

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
    const readWrite = apiKey !== undefined && this.apiKeySet.has(apiKey);
    const apiKeyReadOnly = apiKey !== undefined && !readWrite && this.readOnlyKeySet.has(apiKey);
    const access: Access = readWrite ? "read-write" : apiKeyReadOnly ? "read-only" : "none";
    const entry: RecordedRequest = {
      seq: ++this.requestSeq,
      method,
      path,
      query,
      status: 0,
      responded: false,
      apiKeyValid: access !== "none",
      apiKeyReadOnly,
      receivedAt,
    };

    const { text, tooLarge } = await readBody(req, this.options.maxBodyBytes ?? 10 * 1024 * 1024);
    let body: unknown;
    let bodyError: string | undefined;
    if (text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        bodyError = "the request body is not valid JSON";
      }
    }
    if (this.options.recordBodies !== false && body !== undefined) entry.body = body;
    this.log.push(entry);

    // The server "fails" before looking at the request: outage first, then fault plans.
    if (this.outage && method !== "GET" && method !== "HEAD") {
      this.model.bump("faults.outage");
      entry.fault = "outage";
      const answer = { error: { message: "Mackerel is under maintenance" } };
      return this.answer(res, entry, this.outage.status, answer, retryAfterHeader(this.outage.retryAfter));
    }
    const decision = this.faults.decide(method, path);
    if (decision.kind !== "none") {
      entry.fault = decision.kind === "status" ? decision.fault : decision.kind;
      this.model.bump(`faults.${entry.fault}`);
    }
    switch (decision.kind) {
      case "status":
        return this.answer(res, entry, decision.status, { error: { message: decision.message } }, decision.headers);
      case "reset":
        res.destroy();
        req.socket.destroy();
        return;
      case "delay":
        await this.sleep(decision.ms);
        if (this.closed) {
          res.destroy();
          return;
        }
        if (decision.thenStatus !== undefined) {
          const message = `injected fault: ${decision.thenStatus} after ${decision.ms} ms`;
          return this.answer(res, entry, decision.thenStatus, { error: { message } });
        }
        break;
      default:
        break;
    }

    let status = 200;
    let answer: unknown;
    let headers: Record<string, string> = {};
    try {
      const request = { method, path, headers: req.headers, access, body, bodyError, tooLarge };
      answer = dispatch(this.routes, { ...request, keyMissing: !apiKey }, this.options.authFailureStatus ?? 403);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      status = error.status;
      headers = error.headers;
      answer = { error: { message: error.message } };
      this.model.bump(`rejected.${status}`);
    }
    if (decision.kind === "acceptThenReset") {
      entry.status = status;
      res.destroy();
      req.socket.destroy();
      return;
    }
    this.answer(res, entry, status, answer, headers);
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
}
