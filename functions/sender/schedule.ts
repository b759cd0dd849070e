/**
 * The sender's retry schedule, shared with the construct (which sizes the queue's maxReceiveCount from
 * it), so the two cannot drift apart.
 *
 * A spooled message whose delivery fails (Mackerel still unavailable) is made invisible for
 * `min(900 s, 60 s × 2^(receives − 1))`: 60, 120, 240, 480 s, then every 15 minutes. The first four
 * retries take 900 s together, each later one 900 s, so the k-th receive comes about 900 × (k − 4) s
 * after the first: covering H hours takes 4 + 4·H receives (100 for 24 h). The queue's maxReceiveCount
 * adds a margin for receives that end without a delivery attempt (a sender timeout or crash, after which
 * the queue's own visibility timeout applies). Data older than Mackerel's windows is dropped before the
 * message could reach that count, so only refusals and poison messages reach the dead-letter queue.
 */

/** First retry delay (s). */
export const RETRY_BASE_SECONDS = 60;
/** Largest retry delay (s): also the longest a spooled write waits after Mackerel recovers. */
export const RETRY_CAP_SECONDS = 900;
/** The sender function's timeout (s). */
export const SENDER_TIMEOUT_SECONDS = 60;
/** The spool's visibility timeout: six times the function timeout, as AWS recommends for Lambda sources. */
export const SPOOL_VISIBILITY_TIMEOUT_SECONDS = 6 * SENDER_TIMEOUT_SECONDS;
/** Receives beyond the schedule's need, for invocations that end without trying (timeouts, crashes). */
export const RECEIVE_MARGIN = 5;
/** Default and bounds of the module's `spool_max_age_hours`. */
export const SPOOL_MAX_AGE_HOURS_DEFAULT = 24;
export const SPOOL_MAX_AGE_HOURS_MIN = 6;
export const SPOOL_MAX_AGE_HOURS_MAX = 24;

/** Delay (s) before the next receive after the `receiveCount`-th receive failed (1-based). */
export function retryDelaySeconds(receiveCount: number): number {
  const n = Math.max(1, Math.floor(receiveCount));
  return Math.min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** Math.min(n - 1, 30));
}

/** Seconds between the first and the `receives`-th receive when every attempt fails. */
export function retryWindowSeconds(receives: number): number {
  let total = 0;
  for (let n = 1; n < receives; n++) total += retryDelaySeconds(n);
  return total;
}

/** Receives before the cap is reached, and their total delay. */
function ramp(): { receives: number; seconds: number } {
  let receives = 0;
  let seconds = 0;
  while (retryDelaySeconds(receives + 1) < RETRY_CAP_SECONDS) {
    receives++;
    seconds += retryDelaySeconds(receives);
  }
  return { receives, seconds };
}

/**
 * maxReceiveCount = {@link receivesPerHour} × hours + {@link receiveCountOffset}: linear, so Terraform can
 * compute it from a variable. Exact because the ramp and an hour are whole multiples of the cap.
 */
export const receivesPerHour = 3600 / RETRY_CAP_SECONDS;
export const receiveCountOffset = (() => {
  const { receives, seconds } = ramp();
  if (seconds % RETRY_CAP_SECONDS !== 0 || 3600 % RETRY_CAP_SECONDS !== 0) {
    throw new Error("the retry schedule must keep the ramp and one hour whole multiples of the cap");
  }
  // receives k with window(k) >= H h: k = ramp.receives + 1 + (H·3600 − ramp.seconds) / cap.
  return receives + 1 - seconds / RETRY_CAP_SECONDS + RECEIVE_MARGIN;
})();

/** The queue's maxReceiveCount for retries that span `hours` (whole hours). */
export function maxReceiveCountFor(hours: number): number {
  return receivesPerHour * hours + receiveCountOffset;
}
