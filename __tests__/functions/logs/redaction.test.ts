/**
 * Redaction end to end: the BUILT logs function, against dynalite and the strict local Mackerel server, gets
 * every case of the generated secret corpus as a text line, a JSON log line and a multi-line event (one rule
 * per event, so each becomes one sample in its own report). Nothing posted to Mackerel and nothing the
 * function logged may contain an 8-character piece of any secret's random part.
 */
import type { LocalLambda } from "../../../scripts/local/lambda-runner";
import { forms, ORDINARY_LINES, secretCorpus, survivingPieces } from "../../support/secret-corpus";
import { makeSubscriptionEvent } from "./fixtures";
import { createWorld, minutesAgo, type World } from "./world";

const corpus = secretCorpus();
const samples = corpus.flatMap((c) => forms(c, "").map(({ form }, i) => ({ case: c, form, index: 0, formIndex: i })));
samples.forEach((s, i) => (s.index = i));
const marker = (i: number) => `[c${i}]`;
const events = samples.map((s) => forms(s.case, marker(s.index))[s.formIndex]!.text);
// Ordinary lines (non-empty ones) each after a marker, each with its own rule too.
const ordinary = ORDINARY_LINES.filter((line) => line !== "").map((line, i) => ({ line, marker: `[o${i}]` }));
const RULES = [
  ...samples.map((s) => ({ name: `leak-${s.index}`, include: [`\\[c${s.index}\\]`], max_samples: 1 })),
  ...ordinary.map((o, i) => ({ name: `ordinary-${i}`, include: [`\\[o${i}\\]`], max_samples: 1 })),
];

let world: World;
let logs: LocalLambda;
let result: unknown;

beforeAll(async () => {
  world = await createWorld();
  const table = await world.newTable();
  logs = await world.startLogs({ table, rules: RULES });
  const t = minutesAgo(2);
  result = await logs.invokeOrThrow(
    makeSubscriptionEvent({
      logGroup: "/aws/lambda/orders",
      events: [...events, ...ordinary.map((o) => `${o.marker} ${o.line}`)].map((message, i) => ({
        message,
        timestamp: t + i,
      })),
    }),
  );
}, 120_000);
afterAll(() => world.stop());

test(`${corpus.length} kinds of secrets × 3 forms = ${samples.length} samples, each reported`, () => {
  expect(corpus.length).toBeGreaterThanOrEqual(40);
  expect(result).toMatchObject({ outcome: "processed", events: samples.length + ordinary.length });
  expect((result as { reports: { posted: number } }).reports.posted).toBe(samples.length + ordinary.length);
  const reports = new Map(world.mackerel.checkReports().map((r) => [r.name, r]));
  for (const s of samples) {
    const report = reports.get(`leak-${s.index}`);
    expect({ sample: `${s.case.id}/${s.form}`, reported: report !== undefined }).toEqual({
      sample: `${s.case.id}/${s.form}`,
      reported: true,
    });
    // The sample is there (not dropped): its marker and a mask.
    expect(report!.message).toContain(marker(s.index));
    expect(report!.message).toMatch(/\[REDACTED:[a-z0-9-]+\]/);
  }
});

test("no 8-character piece of any secret in anything posted to Mackerel", () => {
  const posted = JSON.stringify(world.mackerel.requests.map((r) => r.body));
  // The check is live: the raw events do contain the pieces.
  const raw = events.join("\n");
  for (const c of corpus) expect(survivingPieces(raw, c.parts).length).toBeGreaterThan(0);
  const leaks = corpus.map((c) => [c.id, survivingPieces(posted, c.parts)] as const).filter(([, l]) => l.length > 0);
  expect(leaks).toEqual([]);
});

test("no 8-character piece of any secret in what the function logged", () => {
  expect(logs.logs.length).toBeGreaterThan(0);
  const logged = logs.logs.join("\n");
  const leaks = corpus.map((c) => [c.id, survivingPieces(logged, c.parts)] as const).filter(([, l]) => l.length > 0);
  expect(leaks).toEqual([]);
});

test("a sample keeps its context readable: a text line with a GitHub token", () => {
  const s = samples.find((x) => x.case.id === "github-ghp" && x.form === "text")!;
  const report = world.mackerel.checkReports().find((r) => r.name === `leak-${s.index}`)!;
  expect(report.message).toContain(`${marker(s.index)} git push with [REDACTED:github-token] refused`);
});

test("ordinary lines (request ids, UUIDs, trace ids, ARNs, hashes, SHAs) reach Mackerel exactly as logged", () => {
  const reports = new Map(world.mackerel.checkReports().map((r) => [r.name, r]));
  for (const [i, o] of ordinary.entries()) {
    const sample = reports.get(`ordinary-${i}`)!.message.split("\n")[1];
    expect(sample).toBe(`${o.marker} ${o.line}`);
  }
});
