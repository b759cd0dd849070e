/**
 * The literal table (functions/logs/literal-table.ts) against `includes`: on generated literals and texts over
 * a small alphabet (so that literals overlap, share ends and are prefixes of each other), the bits it reports
 * are exactly the literals that occur; in a JSON string's text (the payload scan), exactly those that occur in
 * the decoded string.
 */
import {
  isRawSafeLiteral,
  literalsFrom,
  literalsIn,
  literalTable,
  MAX_TRACKED_LITERALS,
} from "../../../functions/logs/literal-table";
import { mulberry32 } from "../../../scripts/testing";

const ALPHABET = ["a", "b", "n", "t", "A", "B", "N"];
/** What JSON escapes briefly (`\n`, `\t`, `\"`, `\\`), so that escapes' letters neighbour the literals'. */
const ESCAPED = ["\n", "\t", '"', "\\"];

function word(next: () => number, min: number, max: number, pieces: readonly string[]): string {
  let out = "";
  const length = min + Math.floor(next() * (max - min + 1));
  for (let i = 0; i < length; i++) out += pieces[Math.floor(next() * pieces.length)]!;
  return out;
}

const foldAscii = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

function expectedBits(exact: readonly string[], folded: readonly string[], text: string): number {
  let bits = 0;
  exact.forEach((literal, i) => {
    if (text.includes(literal)) bits |= 1 << i;
  });
  folded.forEach((literal, i) => {
    if (foldAscii(text).includes(literal)) bits |= 1 << (exact.length + i);
  });
  return bits;
}

/** How many generated tables had their exact literals in more than one group. */
let split = 0;

function generatedTable(next: () => number) {
  // Up to 24 literals: more than one group (at most 16 literals each) often enough.
  const exact = [...new Set(Array.from({ length: 1 + Math.floor(next() * 24) }, () => word(next, 1, 4, ALPHABET)))];
  const folded =
    next() < 0.5
      ? [...new Set(Array.from({ length: Math.floor(next() * 3) }, () => foldAscii(word(next, 1, 3, ALPHABET))))]
      : [];
  const table = literalTable(exact, folded)!;
  if (table.groups.filter((group) => !group.foldCase).length > 1) split++;
  return { exact, folded, table };
}

test("the bits are exactly the literals that occur in a line (20,000 generated pairs)", () => {
  const next = mulberry32(7);
  let nonEmpty = 0;
  for (let i = 0; i < 20_000; i++) {
    const { exact, folded, table } = generatedTable(next);
    const text = word(next, 0, 24, ALPHABET);
    const expected = expectedBits(exact, folded, text);
    const bits = literalsIn(table.groups, text);
    // The case in the failure message when they differ (an object per pair would triple the run time).
    if (bits !== expected) expect({ exact, folded, text, bits }).toEqual({ exact, folded, text, bits: expected });
    if (expected !== 0) nonEmpty++;
  }
  expect(nonEmpty).toBeGreaterThan(10_000);
  expect(split).toBeGreaterThan(2_000);
});

test("in a JSON string's text, the bits are the literals of the decoded string (20,000 generated pairs)", () => {
  const next = mulberry32(8);
  let escapedNeighbours = 0;
  for (let i = 0; i < 20_000; i++) {
    const { exact, folded, table } = generatedTable(next);
    const decoded = word(next, 0, 16, [...ALPHABET, ...ESCAPED]);
    // The string as CloudWatch Logs writes it, within a larger text (the search must stay inside it).
    const json = JSON.stringify(decoded);
    const text = `{"x":"ab"},${json},"ban"`;
    const start = text.indexOf(json) + 1;
    const end = start + json.length - 2;
    let bits = 0;
    for (const group of table.groups) {
      group.search.lastIndex = start;
      if (group.search.test(text) && group.search.lastIndex <= end) {
        bits |= literalsFrom(group, text, group.search.lastIndex, start, end, true);
      }
    }
    const expected = expectedBits(exact, folded, decoded);
    if (bits !== expected) expect({ exact, folded, decoded, bits }).toEqual({ exact, folded, decoded, bits: expected });
    if (expectedBits(exact, folded, json.slice(1, -1)) !== expected) escapedNeighbours++;
  }
  // Often enough, the JSON text holds a literal the decoded string does not (`\n` + `a` holds `na`).
  expect(escapedNeighbours).toBeGreaterThan(1_000);
});

test("the table's limits: at most MAX_TRACKED_LITERALS literals, none empty", () => {
  const many = Array.from({ length: MAX_TRACKED_LITERALS + 1 }, (_, i) => `lit${i}`);
  expect(literalTable(many.slice(0, MAX_TRACKED_LITERALS), [])?.literals).toHaveLength(MAX_TRACKED_LITERALS);
  expect(literalTable(many, [])).toBeUndefined();
  expect(literalTable(["a", ""], [])).toBeUndefined();
  // Late literals are numbered after the others.
  const table = literalTable(["ERROR"], ["task"], ["HealthCheck"])!;
  expect(table.literals).toEqual(["ERROR", "task", "HealthCheck"]);
  expect(literalsIn(table.lateGroups, "a HealthCheck")).toBe(1 << 2);
});

test("raw-safe literals exclude what JSON may escape", () => {
  expect(["ERROR", "panic:", "é", "😀", "status=5"].every(isRawSafeLiteral)).toBe(true);
  expect(['say "hi"', "a\\b", "a/b", "tab\there", "", "\u0000"].some(isRawSafeLiteral)).toBe(false);
});
