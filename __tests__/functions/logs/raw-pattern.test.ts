/**
 * Patterns run on a message's JSON text instead of the decoded message (functions/logs/raw-pattern.ts): the
 * patterns it accepts answer the same on both, on generated messages full of escapes; what it rejects is what
 * could differ.
 */
import { textToMatch } from "../../../functions/logs/rule-matcher";
import { testableOnJsonText } from "../../../functions/logs/raw-pattern";
import { compileUserPattern } from "../../../functions/shared/user-regexp";
import { mulberry32 } from "../../../scripts/testing";

test.each([
  "status=5[0-9][0-9]",
  "status=5\\d\\d",
  "duration=\\d\\d\\d\\d+ms",
  "Runtime\\.OutOfMemory",
  "ERR(OR|ORS)?",
  "E[A-Z_]+:",
  "x\\w{2,4}y",
  "a[-+]?[0-9]*",
])("%s runs on the JSON text", (source) => {
  expect(testableOnJsonText(source)).toBe(true);
});

test.each([
  ["timeout after [0-9]+ ms", "starts with t (`\\t` + `timeout`)"],
  ["nERROR", "starts with n"],
  ["\\bERROR\\b", "looks around the match"],
  ["ERROR$", "looks at the end"],
  ["^ERROR", "looks at the start"],
  ["ERR.R", "`.` matches what JSON escapes"],
  ["a\\sb", "`\\s` matches tab and line breaks"],
  ["a[^x]b", "a negated class matches what JSON escapes"],
  ["a[ -~]b", 'a range holding `"`, `/` and `\\`'],
  ["a/b", "`/` may be escaped"],
  ["a|tb", "an alternative that starts with t"],
  ["(?i)error", "flags"],
  ["[0-9]+ms", "starts with a class"],
  ["E?RROR", "its first character is optional"],
  ["a\\tb", "matches a tab"],
  ["é", "non-ASCII (not handled)"],
])("%s does not: %s", (source) => {
  expect(testableOnJsonText(source)).toBe(false);
});

const PIECES = ["a", "b", "n", "t", "E", "R", "O", "5", "x", "y", "_", ":", "-", "\n", "\t", '"', "\\", "/", "\r"];
const ATOMS = [
  "a",
  "b",
  "n",
  "t",
  "E",
  "R",
  "O",
  "5",
  "x",
  "y",
  "\\d",
  "\\w",
  "[a-z]",
  "[ERO]",
  "[0-9_]",
  "(a|b)",
  ":",
];
const QUANTIFIERS = ["", "", "", "+", "*", "?", "{1,2}"];

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)]!;
}

test("accepted patterns answer the same on the JSON text as on the message (generated patterns, 10 messages each)", () => {
  const next = mulberry32(11);
  let accepted = 0;
  let matched = 0;
  for (let i = 0; i < 8_000; i++) {
    const sequence = () => {
      let out = "";
      const atoms = 1 + Math.floor(next() * 4);
      for (let a = 0; a < atoms; a++) out += pick(next, ATOMS) + pick(next, QUANTIFIERS);
      return out;
    };
    // Sometimes a top-level alternative, which may start anywhere (so it is rejected).
    const source = next() < 0.3 ? `${sequence()}|${sequence()}` : sequence();
    if (!testableOnJsonText(source)) continue;
    accepted++;
    const pattern = compileUserPattern(source);
    for (let l = 0; l < 10; l++) {
      let message = "";
      const length = Math.floor(next() * 12);
      for (let c = 0; c < length; c++) message += pick(next, PIECES);
      const json = JSON.stringify(message).slice(1, -1);
      const expected = pattern.test(textToMatch(message));
      if (pattern.test(json) !== expected) {
        expect({ source, message, onJsonText: !expected }).toEqual({ source, message, onJsonText: expected });
      }
      if (expected) matched++;
    }
  }
  // Enough patterns are accepted, and match, for the agreement to mean something.
  expect(accepted).toBeGreaterThan(1_000);
  expect(matched).toBeGreaterThan(500);
});
