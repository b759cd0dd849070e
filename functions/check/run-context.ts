/** What a check runner gets besides its spec and API: the clock and the time it may use. */
export interface RunContext {
  /** When the check started, epoch ms (windows are computed from it). */
  nowMs: number;
  /** Time the check may still use, in ms: the invocation's remaining time minus what posting needs. */
  remainingMs: () => number;
  sleep: (ms: number) => Promise<void>;
  /** The current time, epoch ms (latencies, polling). */
  clock: () => number;
}

/** A per-call timeout: at most `capMs`, never more than the check has left. */
export function callTimeout(context: RunContext, capMs: number): number {
  return Math.max(1, Math.floor(Math.min(capMs, context.remainingMs())));
}
