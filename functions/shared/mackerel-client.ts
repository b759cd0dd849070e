/**
 * A small Mackerel API client for the module's functions.
 *
 * - Writes are described as plain {@link MackerelWrite} objects, so a write that cannot be delivered now
 *   can be serialized to the spool and sent later by the same code.
 * - Every request has a timeout and is retried with full-jitter backoff on 5xx, 429, timeouts and
 *   network errors, within the time the invocation has left; Retry-After is honoured. 4xx other than
 *   429 are permanent (as in mackerel-agent and `mkr throw`) and never retried.
 * - Retrying a write is safe: Mackerel keeps one value per (metric, time) and ignores a second check
 *   report with the same (host, name, occurredAt).
 * - On 401/403 the API key is re-read once (rotation) before the refusal counts as permanent.
 *
 * It uses Node's built-in fetch: it is undici, with keep-alive, and costs nothing to import
 * (see the README's cold-start table).
 */
import type { ApiKeySource } from "./api-key.js";
import { MackerelRejectedError, MackerelUnavailableError } from "./errors.js";
import { CHECK_REPORTS_PER_REQUEST, type CheckStatus } from "./names.js";
import { redactMessage } from "./redact.js";
import { backoffDelay, noDeadline, parseRetryAfter, type RemainingTime, sleep } from "./retry.js";

/** A service metric point: `time` in epoch seconds. */
export interface ServiceMetricPoint {
  name: string;
  time: number;
  value: number;
}

/** A host metric point: `time` in epoch seconds. */
export interface HostMetricPoint {
  hostId: string;
  name: string;
  time: number;
  value: number;
}

/**
 * A check monitoring report, as Mackerel's API takes it: the one report type of every function (the metric
 * payload's checks, scheduled checks, log rules, the tick) and of the spool.
 */
export interface CheckReport {
  source: { type: "host"; hostId: string };
  name: string;
  status: CheckStatus;
  /** At most 1024 code points. */
  message: string;
  /** Epoch seconds. */
  occurredAt: number;
  notificationInterval?: number;
  maxCheckAttempts?: number;
}

/** A check report before its host is known: `source` is attached when it is sent (`checkReportsWrite`). */
export type CheckReportDraft = Omit<CheckReport, "source">;

/** One write to Mackerel: what the functions send, and what the spool stores. */
export type MackerelWrite =
  | { kind: "serviceMetrics"; service: string; points: ServiceMetricPoint[] }
  | { kind: "hostMetrics"; points: HostMetricPoint[] }
  | { kind: "checkReports"; reports: CheckReport[] };

/** Host registration body (`POST /api/v0/hosts`). */
export interface HostRegistration {
  name: string;
  displayName?: string;
  customIdentifier?: string;
  meta: Record<string, unknown>;
  memo?: string;
  roleFullnames?: string[];
  checks?: { name: string; memo?: string }[];
}

export interface MackerelClientOptions {
  /** Base URL, e.g. `https://api.mackerelio.com/`. */
  baseUrl: string;
  apiKey: ApiKeySource;
  /** Time the invocation has left (Lambda's `getRemainingTimeInMillis`). */
  remainingTime?: RemainingTime;
  /** Per-request timeout in ms (default 5000). */
  timeoutMs?: number;
  /** Attempts per request, the first included (default 4). */
  maxAttempts?: number;
  /** Backoff base and cap in ms (default 200 / 5000). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Time kept in reserve at the end of the invocation for spooling and returning (default 1500 ms). */
  reserveMs?: number;
  fetch?: typeof fetch;
  random?: () => number;
}

/** Mackerel has no documented limit on points per tsdb request; this keeps bodies well under any proxy limit. */
const POINTS_PER_REQUEST = 1000;

interface Attempt {
  response?: { status: number; body: unknown; retryAfterMs?: number };
  networkError?: unknown;
}

/** Calls Mackerel's API with timeouts, bounded retries and clear errors. */
export class MackerelClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  private readonly remainingTime: RemainingTime;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly reserveMs: number;

  constructor(private readonly options: MackerelClientOptions) {
    this.base = options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`;
    this.fetchImpl = options.fetch ?? fetch;
    this.remainingTime = options.remainingTime ?? noDeadline;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.reserveMs = options.reserveMs ?? 1500;
  }

  /** Time the invocation has left (ms), as this client measures it: for what the caller does after a failure. */
  readonly remainingTimeMs = (): number => this.remainingTime();

  /** A client that shares everything but measures time against another invocation's deadline. */
  withRemainingTime(remainingTime: RemainingTime): MackerelClient {
    return new MackerelClient({ ...this.options, remainingTime, fetch: this.fetchImpl });
  }

  /** Sends one {@link MackerelWrite}, split into as many requests as Mackerel's limits need. */
  async send(write: MackerelWrite): Promise<void> {
    switch (write.kind) {
      case "serviceMetrics":
        return this.postServiceMetrics(write.service, write.points);
      case "hostMetrics":
        return this.postHostMetrics(write.points);
      case "checkReports":
        return this.postCheckReports(write.reports);
    }
  }

  /** `POST /api/v0/services/<service>/tsdb`. */
  async postServiceMetrics(service: string, points: ServiceMetricPoint[]): Promise<void> {
    for (const batch of chunk(points, POINTS_PER_REQUEST)) {
      await this.request("POST", `api/v0/services/${encodeURIComponent(service)}/tsdb`, batch);
    }
  }

  /** `POST /api/v0/tsdb`. */
  async postHostMetrics(points: HostMetricPoint[]): Promise<void> {
    for (const batch of chunk(points, POINTS_PER_REQUEST)) {
      await this.request("POST", "api/v0/tsdb", batch);
    }
  }

  /** `POST /api/v0/monitoring/checks/report`, at most 100 reports per request. */
  async postCheckReports(reports: CheckReport[]): Promise<void> {
    for (const batch of chunk(reports, CHECK_REPORTS_PER_REQUEST)) {
      await this.request("POST", "api/v0/monitoring/checks/report", { reports: batch });
    }
  }

  /** The id of the non-retired host with this custom identifier, or undefined when there is none. */
  async findHostByCustomIdentifier(customIdentifier: string): Promise<string | undefined> {
    try {
      const body = await this.request(
        "GET",
        `api/v0/hosts-by-custom-identifier/${encodeURIComponent(customIdentifier)}`,
      );
      const id = (body as { host?: { id?: unknown } } | undefined)?.host?.id;
      return typeof id === "string" ? id : undefined;
    } catch (error) {
      if (error instanceof MackerelRejectedError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Registers a host and returns its id. */
  async registerHost(registration: HostRegistration): Promise<string> {
    const body = await this.request("POST", "api/v0/hosts", registration);
    const id = (body as { id?: unknown } | undefined)?.id;
    if (typeof id !== "string") throw new MackerelUnavailableError("Mackerel answered host registration without an id");
    return id;
  }

  /** Sends one API request with retries; returns the parsed JSON body. */
  async request(method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let key = await this.options.apiKey.get(this.remainingTime());
    let keyRefreshed = false;
    let lastFailure = "no attempt made";
    let lastStatus: number | undefined;
    let lastError: unknown;

    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const budget = this.remainingTime() - this.reserveMs;
      if (budget <= 0) break;
      const result = await this.attempt(method, path, payload, key, Math.min(this.timeoutMs, budget));

      if (result.response) {
        const { status, body: responseBody, retryAfterMs } = result.response;
        if (status >= 200 && status < 300) return responseBody;
        const mackerelMessage = extractErrorMessage(responseBody);
        const described = `${method} /${path} answered ${status}${mackerelMessage ? `: ${mackerelMessage}` : ""}`;
        if ((status === 401 || status === 403) && !keyRefreshed) {
          // The key may have been rotated since this container read it: re-read once and try again.
          keyRefreshed = true;
          const fresh = await this.options.apiKey.refresh(this.remainingTime());
          if (fresh !== key) {
            key = fresh;
            attempt--;
            continue;
          }
        }
        if (status !== 429 && status < 500) {
          throw new MackerelRejectedError(`Mackerel refused ${described}`, status, mackerelMessage);
        }
        lastFailure = described;
        lastStatus = status;
        if (attempt < this.maxAttempts && !(await this.pause(attempt, retryAfterMs))) break;
      } else {
        lastError = result.networkError;
        lastFailure = `${method} /${path} failed: ${describeNetworkError(result.networkError)}`;
        lastStatus = undefined;
        if (attempt < this.maxAttempts && !(await this.pause(attempt, undefined))) break;
      }
    }
    throw new MackerelUnavailableError(`Mackerel unavailable: ${lastFailure}`, lastStatus, lastError);
  }

  /** Waits before the next attempt; false when the invocation has no time left for it. */
  private async pause(attempt: number, retryAfterMs: number | undefined): Promise<boolean> {
    const delay = Math.max(
      backoffDelay(attempt, {
        baseMs: this.options.backoffBaseMs ?? 200,
        capMs: this.options.backoffCapMs ?? 5000,
        random: this.options.random,
      }),
      retryAfterMs ?? 0,
    );
    // Leave time for at least a short request after the wait.
    if (this.remainingTime() - this.reserveMs - delay < Math.min(this.timeoutMs, 1000)) return false;
    await sleep(delay);
    return true;
  }

  private async attempt(
    method: string,
    path: string,
    payload: string | undefined,
    key: string,
    timeoutMs: number,
  ): Promise<Attempt> {
    try {
      const response = await this.fetchImpl(new URL(path, this.base), {
        method,
        headers: {
          "X-Api-Key": key,
          Accept: "application/json",
          ...(payload === undefined ? {} : { "Content-Type": "application/json" }),
          "User-Agent": "mackerel-serverless",
        },
        body: payload,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await readBounded(response, MAX_RESPONSE_BYTES);
      return {
        response: {
          status: response.status,
          body: parseJson(text),
          retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
        },
      };
    } catch (networkError) {
      return { networkError };
    }
  }
}

/**
 * Most of a response body the client reads: Mackerel's answers are small JSON; a proxy or a broken
 * server answering with an endless body must not fill the function's memory.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** Reads at most `maxBytes` of a response body (UTF-8), then cancels the rest of the stream. */
export async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = maxBytes - size;
      chunks.push(value.byteLength > room ? value.subarray(0, room) : value);
      size += Math.min(value.byteLength, room);
      if (size >= maxBytes) break;
    }
  } finally {
    // Frees the connection's remaining bytes instead of buffering them; errors here change nothing.
    await reader.cancel().catch(() => undefined);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function chunk<T>(items: T[], size: number): T[][] {
  if (items.length === 0) return [];
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text.slice(0, 500);
  }
}

/** Longest part of Mackerel's error message kept in an error (it travels to Step Functions and logs). */
export const MACKEREL_MESSAGE_MAX_CHARS = 300;

/**
 * Mackerel's error body is `{"error":{"message":"..."}}` per mackerel-client-go; undocumented, so read it
 * defensively. Only that message field is kept, redacted, on one line and bounded: never the raw body (a
 * proxy's HTML page, an echo of the request), which could carry anything into Step Functions and logs.
 */
export function extractErrorMessage(body: unknown): string | undefined {
  let message: unknown;
  if (body && typeof body === "object") {
    const error = (body as { error?: unknown }).error;
    message = error && typeof error === "object" ? (error as { message?: unknown }).message : error;
  }
  if (typeof message !== "string") return undefined;
  return redactMessage(message, MACKEREL_MESSAGE_MAX_CHARS) || undefined;
}

function describeNetworkError(error: unknown): string {
  // Duck-typed, not `instanceof Error`: fetch's errors (DOMException, TypeError) may come from another
  // realm (vm contexts, test runners).
  if (typeof error === "object" && error !== null) {
    const { name, message, cause } = error as {
      name?: string;
      message?: string;
      cause?: { code?: string; message?: string };
    };
    if (name === "TimeoutError" || name === "AbortError") return "timed out";
    if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ""}`;
    if (message) return message;
  }
  return String(error);
}
