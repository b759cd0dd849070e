/**
 * Per-minute buckets of log rule matches. Mackerel keeps one value per (metric, timestamp), so counts are kept
 * per epoch minute (in seconds, the unit Mackerel's `time` takes) and summed before they are posted.
 */

/** A count per epoch minute, keyed by the minute's first second (epoch seconds, a multiple of 60). */
export type MinuteCounts = Map<number, number>;

/** Floors an epoch-milliseconds timestamp to its epoch minute, in seconds: `1700000059999` → `1700000040`. */
export function epochMinuteSeconds(timestampMs: number): number {
  return Math.floor(timestampMs / 60_000) * 60;
}

/** Adds `count` to the bucket of the minute that holds `timestampMs`. */
export function addToMinute(counts: MinuteCounts, timestampMs: number, count = 1): void {
  const minute = epochMinuteSeconds(timestampMs);
  counts.set(minute, (counts.get(minute) ?? 0) + count);
}

/** Adds every bucket of `from` to `into` (e.g. to combine several payloads before one write per minute). */
export function mergeMinuteCounts(into: MinuteCounts, from: ReadonlyMap<number, number>): MinuteCounts {
  for (const [minute, count] of from) into.set(minute, (into.get(minute) ?? 0) + count);
  return into;
}
