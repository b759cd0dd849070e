/**
 * Property test of the fast path (functions/logs/raw-events.ts, decode-for-rules.ts): on generated payloads
 * and rules, decoding for the rules gives what a full parse gives (envelope, event count, first and last id,
 * the same errors), its candidate events are events of the full parse in order, and the rules match exactly
 * the same (evaluate on the candidates equals evaluate on every event).
 *
 * The payloads mix what breaks naive JSON scanning: escapes, `\uXXXX` (also of letters), `\/`, control
 * characters, unicode, `{"id":` and `"},{"id":"` inside messages, other serializations (whitespace, key
 * order, extra fields), CONTROL_MESSAGE, and corrupt texts.
 */
import { gzipSync } from "node:zlib";
import {
  decodeAllForRules,
  decodeForRules,
  fullPayload,
  prefilteredPayload,
  type RuleDecodeResult,
} from "../../../functions/logs/decode-for-rules";
import { parsePayloadText } from "../../../functions/logs/decode";
import { NO_LITERALS, scanEventArray } from "../../../functions/logs/raw-events";
import type { LogEvent } from "../../../functions/logs/decode";
import { mulberry32 } from "../../../scripts/testing";
import {
  compileRules,
  evaluate,
  rawLiteralSearches,
  ruleMatchesText,
  textToMatch,
} from "../../../functions/logs/rules";

/** An event's fields as values (a scanned event decodes its message on first read). */
const plain = ({ id, timestamp, message }: LogEvent) => ({ id, timestamp, message });

/** Seeded, so that a failure reproduces. */
const rng = mulberry32;

const MESSAGE_PIECES = [
  "ERROR",
  "error",
  "ERR",
  "panic:",
  "status=503",
  "status=5",
  "timeout after 12 ms",
  "denied",
  "HealthCheck",
  "Task timed out",
  "a/b",
  "/",
  '"',
  "\\",
  "\\u0045",
  "\n",
  "\r\n",
  "\t",
  "\u0001",
  "\u2028",
  "é",
  "😀",
  "\u212a",
  '{"id":"1","timestamp":2,"message":"ERROR"}',
  '"},{"id":"',
  '"}]',
  '"logEvents":[',
  " ",
  "info",
  "x",
  "0123",
];

/** Patterns: raw-safe literals, ones JSON may escape, case folding, classes, `.*`, no literal at all. */
const PATTERNS = [
  "ERROR",
  "panic:",
  "status=5[0-9][0-9]",
  "timeout after [0-9]+ ms",
  "denied",
  "(?i)error",
  "Task timed out",
  ".*ERROR.*",
  "a/b",
  '"',
  "x\\ny",
  "😀",
  "é",
  "\\bERROR\\b",
  "[0-9]+",
  "ERR",
  // Literals that the JSON text of an escape may hold (`\n` + `ERROR` holds `nERROR`, `\t` + `info` holds
  // `tinfo`, `\r\n` + `x` holds `nx`), which are not in the decoded message.
  "nERROR",
  "tinfo",
  "nx",
  // Patterns run on the JSON text of the candidates (functions/logs/raw-pattern.ts), and one that is not.
  "E[R]+OR",
  "x\\w*y",
  "n[E]RROR",
];

/** Excludes: a word, a prefix of an include literal, a folded one, one that JSON may escape. */
const EXCLUDES = ["HealthCheck", "HealthCheck", "ERR", "info", "(?i)task", "a/b"];

const pick = <T>(next: () => number, list: readonly T[]): T => list[Math.floor(next() * list.length)]!;

function message(next: () => number): string {
  let out = "";
  const length = Math.floor(next() * 8);
  for (let i = 0; i < length; i++) out += pick(next, MESSAGE_PIECES);
  return out;
}

function rules(next: () => number): unknown[] {
  const count = 1 + Math.floor(next() * 4);
  return Array.from({ length: count }, (_, i) => ({
    name: `r${i}`,
    include: Array.from({ length: 1 + Math.floor(next() * 2) }, () => pick(next, PATTERNS)),
    ...(next() < 0.4 && { exclude: [pick(next, EXCLUDES)] }),
    ...(next() < 0.2 && { log_groups: [pick(next, ["/aws/lambda/*", "/other"])] }),
  }));
}

/** JSON.stringify, then some characters as `\uXXXX` (letters too) or `/` as `\/`: valid JSON all the same. */
function escapeMore(json: string, next: () => number): string {
  return json.replace(/[E/é]/g, (c) =>
    next() < 0.5 ? c : c === "/" && next() < 0.5 ? "\\/" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function payloadText(next: () => number): string {
  const events = Array.from({ length: Math.floor(next() * 6) }, (_, i) => ({
    id: `${37_000_000 + i}`,
    timestamp: 1_700_000_000_000 + Math.floor(next() * 600_000),
    message: message(next),
  }));
  const payload: Record<string, unknown> = {
    messageType: next() < 0.05 ? "CONTROL_MESSAGE" : "DATA_MESSAGE",
    owner: "123456789012",
    logGroup: pick(next, ["/aws/lambda/a", "/aws/lambda/a", "/other", 'we"ird', "a\\b"]),
    logStream: pick(next, ["s", 'x"logEvents":[', "s/1"]),
    subscriptionFilters: ["f"],
    logEvents: events,
  };
  const variant = next();
  if (variant < 0.05) payload.policyLevel = "ACCOUNT_LEVEL_POLICY";
  else if (variant < 0.1 && events[0]) (events[0] as Record<string, unknown>).extra = { id: "9" };
  else if (variant < 0.13 && events[0]) (events[0] as Record<string, unknown>).timestamp = 1e300;
  else if (variant < 0.16 && events[0]) (events[0] as Record<string, unknown>).id = 7;
  else if (variant < 0.19) payload.extra = { logEvents: events };
  let text = JSON.stringify(payload, null, next() < 0.05 ? 1 : undefined);
  const mangle = next();
  if (mangle < 0.1) text = escapeMore(text, next);
  else if (mangle < 0.13) text = text.slice(0, Math.floor(next() * text.length));
  else if (mangle < 0.16)
    text = text.replace("\\n", "\n"); // a raw control character: invalid JSON
  else if (mangle < 0.18)
    text = text.replace("\\n", "\\q"); // an invalid escape
  else if (mangle < 0.2)
    text = text.replace('"timestamp":1', '"timestamp":01'); // a leading zero
  else if (mangle < 0.22) text = text.replace('"logEvents":[', '"logEvents":[],"logEvents":[');
  else if (mangle < 0.24) text = text.replace(/\}$/, ',"logEvents":[]}'); // duplicate key: the last wins
  return text;
}

/** What must agree between the fast path and the full parse. */
function summary(result: RuleDecodeResult, compiled: ReturnType<typeof compileRules>) {
  if (result.kind !== "data") return result;
  // The scan is how the candidates were found (and evaluate reads their literals through it), not payload.
  const { candidateEvents, literalScan: _scan, ...rest } = result.payload;
  const matches = evaluate(compiled, { ...result.payload, logEvents: candidateEvents });
  return { ...rest, matches: [...matches] };
}

test("decoding for the rules agrees with a full parse on generated payloads (6,000 payloads)", () => {
  const next = rng(2026);
  let fast = 0;
  let fastWithSkips = 0;
  for (let i = 0; i < 6000; i++) {
    const compiled = compileRules(rules(next));
    const text = payloadText(next);
    const searchesFor = (logGroup: string) => rawLiteralSearches(compiled, logGroup);
    const full = fullPayload(parsePayloadText(text));
    const quick = prefilteredPayload(text, searchesFor);
    const decoded = quick ?? full;
    const context = `payload ${i}: ${text.slice(0, 300)}`;
    expect({ context, summary: summary(decoded, compiled) }).toEqual({ context, summary: summary(full, compiled) });
    if (full.kind === "data") {
      // And both agree with testing every rule on every event, without the literal table.
      const { logGroup } = full.payload;
      const counts = (result: RuleDecodeResult) =>
        result.kind === "data"
          ? Object.fromEntries(
              [...evaluate(compiled, { ...result.payload, logEvents: result.payload.candidateEvents })].map(
                ([name, match]) => [name, match.count],
              ),
            )
          : result.kind;
      const brute: Record<string, number> = {};
      for (const event of full.payload.candidateEvents) {
        for (const rule of compiled) {
          if (rule.appliesTo(logGroup) && ruleMatchesText(rule, textToMatch(event.message))) {
            brute[rule.name] = (brute[rule.name] ?? 0) + 1;
          }
        }
      }
      expect({ context, counts: counts(decoded) }).toEqual({ context, counts: brute });
    }
    if (quick?.kind !== "data" || full.kind !== "data") continue;
    fast++;
    // Candidates are events of the full parse, in order; every other event matches no rule.
    const all = full.payload.candidateEvents;
    let at = 0;
    for (const candidate of quick.payload.candidateEvents) {
      while (at < all.length && all[at]!.id !== candidate.id) at++;
      expect(all[at]).toEqual(plain(candidate));
    }
    const kept = new Set(quick.payload.candidateEvents.map((e) => e.id));
    if (kept.size < all.length) fastWithSkips++;
    for (const event of all.filter((e) => !kept.has(e.id))) {
      const applicable = compiled.filter((rule) => rule.appliesTo(full.payload.logGroup));
      expect(applicable.filter((rule) => ruleMatchesText(rule, textToMatch(event.message)))).toEqual([]);
    }
  }
  // The fast path must be taken, and skip events, often enough for the agreement to mean something.
  expect(fast).toBeGreaterThan(1000);
  expect(fastWithSkips).toBeGreaterThan(500);
});

test("the whole decode (base64, gzip) takes the fast path and agrees with decodeAllForRules", () => {
  const compiled = compileRules([{ name: "errors", include: ["ERROR"], exclude: ["HealthCheck"] }]);
  const events = Array.from({ length: 200 }, (_, i) => ({
    id: String(10_000 + i),
    timestamp: 1_700_000_000_000 + i * 1000,
    message: i % 10 === 0 ? `{"level":"ERROR","n":${i}}\n` : `INFO \\ "quoted" ${i}`,
  }));
  const json = JSON.stringify({
    messageType: "DATA_MESSAGE",
    owner: "1",
    logGroup: "/aws/lambda/a",
    logStream: "s",
    subscriptionFilters: ["f"],
    logEvents: events,
  });
  const event = { awslogs: { data: gzipSync(json).toString("base64") } };
  const decoded = decodeForRules(event, (g) => rawLiteralSearches(compiled, g));
  const reference = decodeAllForRules(event);
  if (decoded.kind !== "data" || reference.kind !== "data") throw new Error("expected data");
  expect(decoded.payload.eventCount).toBe(200);
  expect(decoded.payload.candidateEvents.map((e) => e.id)).toEqual(
    events.filter((_, i) => i % 10 === 0).map((e) => e.id),
  );
  expect(summary(decoded, compiled)).toEqual(summary(reference, compiled));
  // Corrupt input reads the same either way.
  expect(decodeForRules({ awslogs: { data: "!!!!" } }, () => NO_LITERALS)).toEqual(
    decodeAllForRules({ awslogs: { data: "!!!!" } }),
  );
});

/** The JSON text of a DATA_MESSAGE of log group `/g` holding `logEvents`. */
const dataMessage = (logEvents: unknown[]) =>
  JSON.stringify({
    messageType: "DATA_MESSAGE",
    owner: "1",
    logGroup: "/g",
    logStream: "s",
    subscriptionFilters: [],
    logEvents,
  });

const scanFor = (word: string) => rawLiteralSearches(compileRules([{ name: "r", include: [word] }]), "/g")!;

test("searches that cannot prefilter, or no rule at all, are handled", () => {
  const text = dataMessage([{ id: "1", timestamp: 5, message: "ERROR" }]);
  expect(prefilteredPayload(text, () => undefined)).toBeUndefined();
  const none = prefilteredPayload(text, () => NO_LITERALS);
  expect(none?.kind === "data" && none.payload).toMatchObject({
    eventCount: 1,
    candidateEvents: [],
    firstEventId: "1",
  });
  // A pattern whose literal JSON may escape (`/`) or that requires none gives no searches: the full parse.
  expect(rawLiteralSearches(compileRules([{ name: "a", include: ["a/b"] }]), "/g")).toBeUndefined();
  expect(rawLiteralSearches(compileRules([{ name: "a", include: ["[0-9]+"] }]), "/g")).toBeUndefined();
  expect(rawLiteralSearches(compileRules([{ name: "a", include: ["x"], log_groups: ["/h"] }]), "/g")).toEqual(
    NO_LITERALS,
  );
});

test("an events array in another serialization is left to the full parse", () => {
  for (const array of ['[ {"id":"1","timestamp":1,"message":"x"}]', '[{"timestamp":1,"id":"1","message":"x"}]']) {
    expect(scanEventArray(array, 0, scanFor("x"))).toBeUndefined();
  }
  const scanned = scanEventArray(
    '[{"id":"1","timestamp":1,"message":"x"},{"id":"2","timestamp":2,"message":"y"}]',
    0,
    scanFor("y"),
  );
  expect(scanned).toMatchObject({ count: 2, firstId: "1", lastId: "2" });
  expect(scanned?.candidates.map(plain)).toEqual([{ id: "2", timestamp: 2, message: "y" }]);
});

test("a message whose only escape is its final line break is read without a parse, exactly", () => {
  // The final `\n` alone, and neighbours that must still be parsed: an escaped backslash before `n`, a
  // backslash then a line break, `\r\n`, an escape earlier in the message, a line break that is not final.
  const messages = [
    "ERROR a\n",
    "ERROR\n",
    "ERROR\\n",
    "ERROR\\\n",
    "ERROR\r\n",
    'ERROR "q"\n',
    "ERROR\n\n",
    "ERROR\nx",
  ];
  const text = dataMessage([...messages, "INFO\n"].map((message, i) => ({ id: String(i + 1), timestamp: i, message })));
  const searches = rawLiteralSearches(compileRules([{ name: "errors", include: ["ERROR"] }]), "/g")!;
  const scanned = scanEventArray(text, text.indexOf("[", text.indexOf('"logEvents"')), searches);
  expect(scanned?.candidates.map((e) => e.message)).toEqual(messages);
  expect(scanned?.count).toBe(messages.length + 1);
});

test("messages longer than rules see: the literals past the cut do not count, whichever path reads them", () => {
  const compiled = compileRules([
    { name: "errors", include: ["ERROR"], exclude: ["HealthCheck"] },
    { name: "codes", include: ["status=5[0-9][0-9]"] },
  ]);
  const pad = (n: number) => "\t".repeat(n / 2) + "x".repeat(n / 2); // escapes: the JSON text is longer
  const messages = [
    `${pad(17_000)} ERROR status=503`, // past the 16 KiB cut, and its JSON text more so
    `ERROR ${pad(17_000)} HealthCheck`, // the exclude is past the cut: it does not apply
    `${pad(16_000)}ERROR`, // within the cut in characters, past it in JSON text
    `${pad(16_380)}ERROR`, // straddles the cut: not seen
  ];
  const text = dataMessage(messages.map((message, i) => ({ id: String(i + 1), timestamp: i * 60_000, message })));
  const quick = prefilteredPayload(text, (g) => rawLiteralSearches(compiled, g));
  expect(quick?.kind).toBe("data");
  const full = fullPayload(parsePayloadText(text));
  expect(summary(quick!, compiled)).toEqual(summary(full, compiled));
  const counts = summary(quick!, compiled) as { matches: [string, { count: number }][] };
  expect(counts.matches.map(([name, match]) => [name, match.count])).toEqual([["errors", 2]]);
});
