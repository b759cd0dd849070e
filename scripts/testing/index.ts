/**
 * Generic helpers for tests, benchmarks and the local stand-ins: a clock a test moves by hand and a
 * seeded PRNG, so that time-dependent and random behaviour repeats exactly. Node built-ins only.
 */

/** A controllable clock; pass `clock.now` wherever a stand-in takes a `now: () => number` option. */
export class ManualClock {
  /** @param ms Start time in epoch ms (default: the real time now, rounded down to a whole second). */
  constructor(private ms: number = Math.floor(Date.now() / 1000) * 1000) {}

  /** The current time in epoch ms. */
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
