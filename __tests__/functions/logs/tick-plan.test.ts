/**
 * The tick's decisions, pure: which minutes are closed, which points a rule posts (new minutes zero-filled,
 * corrections, nothing older than 24 hours), and when an alert closes.
 */
import {
  EXPIRY_MARGIN_SECONDS,
  lastClosedMinute,
  oldestPostableMinute,
  planFlush,
  recoveryDue,
  TICK_GRACE_SECONDS,
} from "../../../functions/logs/tick-plan";
import type { MinuteBucket } from "../../../functions/shared/state";

const M0 = 1_700_000_000 - (1_700_000_000 % 60); // a whole minute, epoch s
const DAY = 24 * 60 * 60;
const buckets = (entries: [number, MinuteBucket][]) => new Map(entries);

describe("closed minutes", () => {
  test(`a minute is closed ${TICK_GRACE_SECONDS} s after it ends`, () => {
    // Minute M0 ends at M0+60 and is closed from M0+60+120.
    expect(lastClosedMinute(M0 + 180)).toBe(M0);
    expect(lastClosedMinute(M0 + 179)).toBe(M0 - 60);
    expect(lastClosedMinute(M0 + 239)).toBe(M0);
  });

  test("the oldest postable minute is within 24 h minus the margin, on a minute boundary", () => {
    const oldest = oldestPostableMinute(M0 + 30);
    expect(oldest % 60).toBe(0);
    expect(oldest).toBeGreaterThanOrEqual(M0 + 30 - DAY + EXPIRY_MARGIN_SECONDS);
    expect(oldest - 60).toBeLessThan(M0 + 30 - DAY + EXPIRY_MARGIN_SECONDS);
  });
});

describe("planFlush", () => {
  const oldest = M0 - DAY + EXPIRY_MARGIN_SECONDS;

  test("a rule never flushed and never matched posts one zero, at the last closed minute", () => {
    expect(planFlush({ minutes: new Map(), watermark: undefined, closed: M0, oldest })).toEqual({
      points: [{ time: M0, value: 0 }],
      watermark: M0,
      flushed: 1,
      corrections: 0,
      expiredMinutes: 0,
      expiredMatches: 0,
    });
  });

  test("a rule never flushed starts at its oldest bucket, zero-filled, and ignores minutes not closed yet", () => {
    const plan = planFlush({
      minutes: buckets([
        [M0 - 180, { count: 4 }],
        [M0 - 60, { count: 1 }],
        [M0 + 60, { count: 9 }], // not closed yet
      ]),
      watermark: undefined,
      closed: M0,
      oldest,
    });
    expect(plan.points).toEqual([
      { time: M0 - 180, value: 4 },
      { time: M0 - 120, value: 0 },
      { time: M0 - 60, value: 1 },
      { time: M0, value: 0 },
    ]);
    expect(plan.watermark).toBe(M0);
  });

  test("after the watermark: the new minutes, then corrections of posted minutes whose total changed", () => {
    const plan = planFlush({
      minutes: buckets([
        [M0 - 600, { count: 3, posted: 3 }], // unchanged
        [M0 - 540, { count: 5, posted: 4 }], // a late match after the post
        [M0 - 480, { count: 2 }], // posted as 0 (no bucket then), or its mark lost: re-posted
        [M0 - 60, { count: 7 }],
      ]),
      watermark: M0 - 120,
      closed: M0,
      oldest,
    });
    expect(plan.points).toEqual([
      { time: M0 - 60, value: 7 },
      { time: M0, value: 0 },
      { time: M0 - 540, value: 5 },
      { time: M0 - 480, value: 2 },
    ]);
    expect(plan).toMatchObject({ watermark: M0, flushed: 2, corrections: 2 });
  });

  test("nothing new: no points, the watermark stays", () => {
    expect(planFlush({ minutes: new Map(), watermark: M0, closed: M0, oldest })).toMatchObject({
      points: [],
      watermark: undefined,
    });
  });

  test("catch-up is bounded: nothing older than 24 hours is posted, the skipped minutes and matches are counted", () => {
    const plan = planFlush({
      minutes: buckets([
        [oldest - 3600, { count: 5 }],
        [oldest + 60, { count: 2 }],
        [oldest - 7200, { count: 1, posted: 0 }], // an old correction: expired too
      ]),
      watermark: M0 - 2 * DAY,
      closed: M0,
      oldest,
    });
    expect(Math.min(...plan.points.map((p) => p.time))).toBe(oldest);
    expect(plan.points).toHaveLength((M0 - oldest) / 60 + 1);
    expect(plan.points.find((p) => p.time === oldest + 60)).toEqual({ time: oldest + 60, value: 2 });
    expect(plan.expiredMinutes).toBe((oldest - (M0 - 2 * DAY + 60)) / 60);
    expect(plan.expiredMatches).toBe(6);
    expect(plan.watermark).toBe(M0);
  });
});

describe("recoveryDue", () => {
  const now = M0 * 1000;
  test.each([
    ["never reported", {}, false],
    ["already OK", { reportedStatus: "OK" as const, lastMatchAt: now - 3_600_000 }, false],
    ["CRITICAL, quiet for 11 of 10 minutes", { reportedStatus: "CRITICAL" as const, lastMatchAt: now - 660_000 }, true],
    [
      "CRITICAL, quiet for exactly 10 minutes",
      { reportedStatus: "CRITICAL" as const, lastMatchAt: now - 600_000 },
      true,
    ],
    ["WARNING, matched 9 minutes ago", { reportedStatus: "WARNING" as const, lastMatchAt: now - 540_000 }, false],
    ["UNKNOWN of a rule that can run now, never matched", { reportedStatus: "UNKNOWN" as const }, true],
  ])("%s", (_what, state, due) => {
    expect(recoveryDue(10, state, now)).toBe(due);
  });
});
