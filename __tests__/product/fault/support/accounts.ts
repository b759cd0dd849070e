/**
 * The fault suites' shared state: one FaultWorld per suite file, the accounts each scenario settles
 * (every datum inside Mackerel's windows delivered exactly once, the rest counted as expired or
 * rejected), and the figures table printed when the file is done.
 */
import type { LocalLambda } from "../../../../scripts/local/lambda-runner";
import type { Datum, Figures, Ledger } from "../ledger";
import { emfTotals, FaultWorld, SERVICE } from "./world";

export const MINUTE = 60_000;

// The world of the running suite file. ES module bindings are live: a suite imports `world` and reads
// the current one; only the hooks of useFaultWorld assign it.
export let world: FaultWorld;
/** Figures per scenario, printed after the file. */
export const figures: Record<string, Figures> = {};
/** Extra lines for the printed table. */
export const notes: string[] = [];
/** Dependency faults (issue #12): what each case ended in, with its measured figure. */
export const dependencyRows: [string, string][] = [];

/** Registers the hooks: the world is started once for the file, and the figures printed at its end. */
export function useFaultWorld(): void {
  beforeAll(async () => {
    world = await FaultWorld.start();
  });
  afterAll(printFigures);
}

async function printFigures(): Promise<void> {
  await world?.close();
  const rows = Object.entries(figures);
  if (rows.length === 0 && dependencyRows.length === 0) return;
  const dependencyLines =
    dependencyRows.length === 0
      ? []
      : [
          "dependency faults: every case ends in delivery, the spool or a retried error",
          ...dependencyRows.map(([name, outcome]) => `${name.padEnd(44)} ${outcome}`),
        ];
  const total: Figures = {
    sent: 0,
    delivered: 0,
    expired: 0,
    rejected: 0,
    lost: 0,
    duplicated: 0,
    resentIdempotently: 0,
  };
  for (const [, f] of rows) for (const key of Object.keys(total) as (keyof Figures)[]) total[key] += f[key];
  const line = (name: string, f: Figures) =>
    `${name.padEnd(34)} ${[f.sent, f.delivered, f.expired, f.rejected, f.lost, f.duplicated, f.resentIdempotently]
      .map((n) => String(n).padStart(9))
      .join("")}`;
  console.log(
    [
      "fault suite figures (data points and check reports)",
      `${"scenario".padEnd(34)}${["sent", "delivered", "expired", "rejected", "lost", "dup", "resent*"].map((h) => h.padStart(9)).join("")}`,
      ...rows.map(([name, f]) => line(name, f)),
      line("total", total),
      "* resent: extra arrivals Mackerel took idempotently (retries after lost responses, redelivered messages)",
      ...notes,
      ...dependencyLines,
    ].join("\n"),
  );
}

/** Checks the ledger against Mackerel, records the figures and fails with every problem found. */
export function settleAccounts(
  name: string,
  ledger: Ledger,
  sender: LocalLambda,
  exactlyOnceArrivals: boolean,
  /** Expired data counted by other functions than the sender (e.g. the logs function's ExpiredMatches). */
  expiredElsewhere = 0,
): Figures {
  const emf = emfTotals(sender);
  const expiredCounted =
    (emf.ExpiredServiceMetrics ?? 0) +
    (emf.ExpiredHostMetrics ?? 0) +
    (emf.ExpiredCheckReports ?? 0) +
    expiredElsewhere;
  const { figures: f, problems } = ledger.verify(world.mackerel, world.hostId(), {
    expiredCounted,
    exactlyOnceArrivals,
  });
  figures[name] = f;
  expect(problems).toEqual([]);
  expect(f.lost).toBe(0);
  expect(f.duplicated).toBe(0);
  expect(world.senderErrors).toEqual([]);
  return f;
}

/** A canonical metric payload whose metrics carry explicit times; returns the data it holds. */
export function payload(parts: {
  metrics?: { name: string; value: number; time: number }[];
  hostMetrics?: { name: string; value: number; time: number }[];
  checks?: { name: string; status: "OK" | "WARNING" | "CRITICAL" | "UNKNOWN"; message: string }[];
}): { event: Record<string, unknown>; data: Datum[] } {
  const data: Datum[] = [
    ...(parts.metrics ?? []).map((m) => ({ kind: "serviceMetric" as const, service: SERVICE, ...m })),
    ...(parts.hostMetrics ?? []).map((m) => ({ kind: "hostMetric" as const, ...m })),
    ...(parts.checks ?? []).map((c) => ({ kind: "checkReport" as const, ...c })),
  ];
  return { event: { ...parts }, data };
}
