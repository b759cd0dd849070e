/**
 * Settings every AWS SDK client of the module's functions is built with, so that no call can hang: a
 * dependency that accepts the connection and never answers (or never accepts it) fails within seconds,
 * is retried by the SDK's standard mode (throttling, 5xx, timeouts), and the function still has time to
 * spool, fail with a retryable error, or return.
 *
 * The SDK builds its NodeHttpHandler from these plain options (no direct import of @smithy packages).
 */

/** Time to establish a TCP/TLS connection to an AWS endpoint (ms). */
export const SDK_CONNECTION_TIMEOUT_MS = 1000;
/**
 * Time a request may wait for the response once sent (socket inactivity, ms). Enforced only with
 * `throwOnRequestTimeout`: without it the SDK's HTTP handler merely logs a warning and keeps waiting (a call
 * into a DynamoDB that never answered waited out the whole invocation).
 */
export const SDK_REQUEST_TIMEOUT_MS = 3000;
/** Attempts per call, the first included: the standard retry mode backs off between them. */
export const SDK_MAX_ATTEMPTS = 3;

/** The configuration to spread into every `new XxxClient(...)`. */
export function sdkClientConfig(): {
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true };
} {
  return {
    maxAttempts: SDK_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: SDK_CONNECTION_TIMEOUT_MS,
      requestTimeout: SDK_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  };
}

/** Time kept for what follows a call (spooling, returning) when bounding it by the invocation's deadline. */
const RESERVE_MS = 1500;

/**
 * An abort signal for one SDK call (all its attempts) that fires before the invocation runs out of
 * time: `remainingMs` minus `reserveMs` (kept for what follows), and at most `capMs`.
 */
export function deadlineSignal(remainingMs: number, capMs = 10_000, reserveMs = RESERVE_MS): AbortSignal {
  const budget = Number.isFinite(remainingMs) ? remainingMs - reserveMs : capMs;
  return AbortSignal.timeout(Math.max(1, Math.floor(Math.min(capMs, budget))));
}
