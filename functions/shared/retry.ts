/**
 * Retry timing shared by the Mackerel client and the AWS pollers: full-jitter exponential backoff
 * bounded by the time the function has left.
 */

/** Milliseconds the invocation has left; `Infinity` outside Lambda. */
export type RemainingTime = () => number;

export const noDeadline: RemainingTime = () => Number.POSITIVE_INFINITY;

export interface BackoffOptions {
  /** First delay's upper bound in ms. */
  baseMs: number;
  /** Largest delay in ms. */
  capMs: number;
  /** Random source in [0, 1); tests pin it. */
  random?: () => number;
}

/** Full-jitter delay for retry number `attempt` (1-based), per the AWS architecture blog's recommendation. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Parses an HTTP Retry-After header (delta seconds or an HTTP date) into milliseconds from `nowMs`.
 * Returns undefined when absent or unparsable.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date names its day and month ("Wed, 21 Oct 2015 07:28:00 GMT"); V8's lenient Date.parse
  // would otherwise read "1.5" or "-5" as dates.
  if (!/[a-z]{3}/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
