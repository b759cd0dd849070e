/** The generic test helpers: a manual clock and a seeded PRNG. */
import { codePointLength } from "../../../scripts/local/mackerel";
import { ManualClock, mulberry32 } from "../../../scripts/testing";

describe("testing helpers", () => {
  test("ManualClock and codePointLength helpers", () => {
    const c = new ManualClock(1000);
    c.advance(2500);
    expect(c.now()).toBe(3500);
    expect(c.nowSeconds()).toBe(3);
    c.set(7000);
    expect(c.now()).toBe(7000);
    expect(codePointLength("a😀b")).toBe(3);
    expect("a😀b".length).toBe(4);
  });

  test("mulberry32 is repeatable and in [0, 1)", () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const seqA = Array.from({ length: 50 }, a);
    expect(Array.from({ length: 50 }, b)).toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(seqA).size).toBe(50);
    expect(mulberry32(43)()).not.toBe(seqA[0]);
  });
});
