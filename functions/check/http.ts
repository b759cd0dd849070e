/**
 * HTTP checks with Node's fetch: one request (following up to {@link MAX_REDIRECTS} redirects unless
 * `follow_redirects = false`), the body read up to {@link MAX_BODY_BYTES}, everything within
 * `timeout_seconds`. Observing (I/O) and evaluating (pure) are separate.
 */
import {
  type CheckOutcome,
  describeThresholds,
  evaluateThreshold,
  formatDuration,
  formatNumber,
  worstStatus,
} from "./outcome.js";
import { excerpt } from "./redact.js";
import type { RunContext } from "./run-context.js";
import type { HttpSpec } from "./spec.js";

/** The body is read up to this many bytes; body checks see this prefix. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Redirects followed before the check fails (browsers allow 20; a health endpoint needs few). */
export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers that must not follow a redirect to another origin (as in the Fetch standard). */
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

export type HttpFailure = "dns" | "connect" | "tls" | "timeout" | "reset" | "redirect" | "other";

export type HttpObservation =
  | {
      ok: true;
      status: number;
      /** From sending the first request to the end of the (bounded) body read, ms. */
      latencyMs: number;
      body: string;
      bodyTruncated: boolean;
      finalUrl: string;
      redirects: number;
      /** The Location of a 3xx that was not followed. */
      location?: string;
    }
  | { ok: false; failure: HttpFailure; detail: string; latencyMs: number; finalUrl: string; redirects: number };

/** Reads at most `max` bytes of a body and cancels the rest. */
async function readBounded(response: Response, max: number): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: "", truncated: false };
  const reader = response.body.getReader();
  const decoder = new TextDecoder("utf-8");
  let text = "";
  let total = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = max - total;
      if (value.byteLength >= room) {
        text += decoder.decode(value.subarray(0, room), { stream: true });
        total = max;
        // At the bound: whatever follows is not read (a body of exactly the bound counts as cut too).
        truncated = true;
        break;
      }
      total += value.byteLength;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    text += decoder.decode();
    // Stop the transfer of anything not read (and free the connection).
    await reader.cancel().catch(() => undefined);
  }
  return { text, truncated };
}

/** Drops a response's body without reading it. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function errorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
  const direct = (cause as { code?: unknown } | undefined)?.code;
  if (typeof direct === "string") return direct;
  // Several addresses tried (happy eyeballs): an AggregateError of the attempts.
  const errors = (cause as { errors?: unknown[] } | undefined)?.errors;
  const first = errors?.find((e) => typeof (e as { code?: unknown }).code === "string") as { code: string } | undefined;
  return first?.code;
}

/** Classifies a fetch failure: DNS, connect (refused/unreachable), TLS, timeout, reset or other. */
export function classifyFetchError(error: unknown): { failure: HttpFailure; detail: string } {
  const name = (error as { name?: string } | undefined)?.name;
  if (name === "TimeoutError" || name === "AbortError") return { failure: "timeout", detail: "timed out" };
  const code = errorCode(error);
  const causeMessage = ((error as { cause?: { message?: string } } | undefined)?.cause?.message ?? "").trim();
  const detail =
    code && causeMessage.includes(code) ? causeMessage : [code, causeMessage || undefined].filter(Boolean).join(": ");
  if (code && /^(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL|EAI_NODATA)$/.test(code)) return { failure: "dns", detail };
  if (
    code &&
    /^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|EADDRNOTAVAIL)$/.test(code)
  ) {
    return { failure: "connect", detail };
  }
  if (code && /^(ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED)$/.test(code)) return { failure: "reset", detail };
  if (
    code &&
    /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|EPROTO|ERR_OSSL)/.test(
      code,
    )
  ) {
    return { failure: "tls", detail };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { failure: "other", detail: detail || message };
}

function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.host === b.host;
}

/**
 * Sends the check's request and reads the response. Never throws: failures are observations.
 *
 * Redirects (301, 302, 303, 307, 308) are followed up to {@link MAX_REDIRECTS} when `followRedirects`:
 * 303 (and 301/302 after a POST) continue as GET without a body, as browsers do; credential headers
 * are dropped when the redirect leaves the origin. With `followRedirects = false` the 3xx itself is the
 * response and is compared with expected_status.
 */
export async function observeHttp(
  spec: HttpSpec,
  context: Pick<RunContext, "clock" | "remainingMs">,
  fetchImpl: typeof fetch = fetch,
  /** Headers from the check's `headers_secret_arn` (never sent to another origin on a redirect). */
  secretHeaders: Record<string, string> = {},
): Promise<HttpObservation> {
  const timeoutMs = Math.max(1, Math.floor(Math.min(spec.timeoutSeconds * 1000, context.remainingMs())));
  const signal = AbortSignal.timeout(timeoutMs);
  const began = context.clock();
  const elapsed = () => Math.round(context.clock() - began);
  let url = new URL(spec.url);
  let method: string = spec.method;
  const headers: Record<string, string> = {
    "user-agent": "mackerel-serverless-check",
    ...lowerKeys(spec.headers),
    ...lowerKeys(secretHeaders),
  };
  const dropOnOtherOrigin = [...CREDENTIAL_HEADERS, ...Object.keys(lowerKeys(secretHeaders))];
  let redirects = 0;

  try {
    for (;;) {
      const response = await fetchImpl(url, { method, headers, redirect: "manual", signal });
      const location = response.headers.get("location");
      if (spec.followRedirects && REDIRECT_STATUSES.has(response.status) && location) {
        await discard(response);
        if (redirects >= MAX_REDIRECTS) {
          return fail("redirect", `more than ${MAX_REDIRECTS} redirects`);
        }
        const next = new URL(location, url);
        if (next.protocol !== "http:" && next.protocol !== "https:") {
          return fail("redirect", `redirected to a ${next.protocol} URL`);
        }
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
          if (method !== "HEAD") method = "GET";
        }
        if (!sameOrigin(url, next)) for (const h of dropOnOtherOrigin) delete headers[h];
        url = next;
        redirects++;
        continue;
      }
      const { text, truncated } =
        method === "HEAD" ? { text: "", truncated: false } : await readBounded(response, MAX_BODY_BYTES);
      return {
        ok: true,
        status: response.status,
        latencyMs: elapsed(),
        body: text,
        bodyTruncated: truncated,
        finalUrl: url.href,
        redirects,
        ...(location && response.status >= 300 && response.status < 400 ? { location } : {}),
      };
    }
  } catch (error) {
    if (signal.aborted) return fail("timeout", `no complete response within ${formatDuration(timeoutMs / 1000)}`);
    const { failure, detail } = classifyFetchError(error);
    return fail(failure, detail);
  }

  function fail(failure: HttpFailure, detail: string): HttpObservation {
    return { ok: false, failure, detail, latencyMs: elapsed(), finalUrl: url.href, redirects };
  }
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

const FAILURE_TEXT: Record<HttpFailure, string> = {
  dns: "DNS lookup failed",
  connect: "could not connect",
  tls: "TLS handshake failed",
  timeout: "timed out",
  reset: "connection reset",
  redirect: "redirect failed",
  other: "request failed",
};

/** A URL for a message: credentials and secret-looking query values masked. */
function showUrl(url: string): string {
  return excerpt(url, 200);
}

/** Turns an observation into the check's outcome. Pure. */
export function evaluateHttp(spec: HttpSpec, observation: HttpObservation): CheckOutcome {
  const target = `${spec.method} ${showUrl(spec.url)}`;
  const via =
    observation.redirects > 0
      ? ` (after ${observation.redirects} redirect${observation.redirects > 1 ? "s" : ""} to ${showUrl(observation.finalUrl)})`
      : "";

  if (!observation.ok) {
    const detail =
      observation.failure === "timeout"
        ? observation.detail
        : `${FAILURE_TEXT[observation.failure]}: ${excerpt(observation.detail, 200)}`;
    return {
      status: "CRITICAL",
      message: `CRITICAL: ${target}${via}: ${detail}`,
      // No response: status_code 0 keeps the graph and a "status_code != 200" monitor meaningful.
      metrics: { status_code: 0 },
    };
  }

  const metrics = { latency_ms: observation.latencyMs, status_code: observation.status };
  const problems: string[] = [];
  const bodyNote = observation.bodyTruncated ? ` (checked the first ${MAX_BODY_BYTES / 1024 / 1024} MiB)` : "";
  if (!spec.expectedStatus.includes(observation.status)) {
    problems.push(`expected status ${spec.expectedStatus.join(" or ")}`);
  } else {
    if (spec.bodyContains !== undefined && !observation.body.includes(spec.bodyContains)) {
      problems.push(`body does not contain "${excerpt(spec.bodyContains, 80)}"${bodyNote}`);
    }
    if (spec.bodyRegex !== undefined && !spec.bodyRegex.test(observation.body)) {
      problems.push(`body does not match /${excerpt(spec.bodyRegex.source, 80)}/${bodyNote}`);
    }
  }
  const thresholds = { warning: spec.warningLatencyMs, critical: spec.criticalLatencyMs, direction: "above" as const };
  const latency = evaluateThreshold(observation.latencyMs, thresholds);
  const status = worstStatus(problems.length > 0 ? "CRITICAL" : "OK", latency.status);

  const lines = [
    `${status}: ${target}${via}: status ${observation.status} in ${formatNumber(observation.latencyMs)} ms${latency.breached ? ` (latency ${latency.breached} ms)` : ""}${problems.length > 0 ? `: ${problems.join("; ")}` : ""}`,
  ];
  if (problems.length > 0) {
    // Redacted before it is collapsed and cut (see excerpt).
    const body = excerpt(observation.body, 300);
    if (observation.location !== undefined) lines.push(`location: ${showUrl(observation.location)}`);
    else lines.push(body === "" ? "body: (empty)" : `body: ${body}`);
  }
  const described = describeThresholds(thresholds);
  if (described) lines.push(`latency thresholds (ms): ${described}`);
  return { status, message: lines.join("\n"), metrics };
}

/** Where a check's `headers_secret_arn` is read (functions/check/http-auth.ts `SecretHeaders`). */
export interface SecretHeadersSource {
  get(secretArn: string, remainingMs: number): Promise<Record<string, string>>;
}

/**
 * Runs an HTTP check. A headers secret that cannot be read throws (the runner reports UNKNOWN with the
 * reason, which names the secret, never a value): without its credentials the request would only fail.
 */
export async function runHttpCheck(
  spec: HttpSpec,
  context: Pick<RunContext, "clock" | "remainingMs">,
  fetchImpl?: typeof fetch,
  secrets?: SecretHeadersSource,
): Promise<CheckOutcome> {
  let secretHeaders: Record<string, string> = {};
  if (spec.headersSecretArn) {
    if (!secrets) throw new Error("headers_secret_arn is set but no secret reader was given");
    secretHeaders = await secrets.get(spec.headersSecretArn, context.remainingMs());
  }
  return evaluateHttp(spec, await observeHttp(spec, context, fetchImpl, secretHeaders));
}
