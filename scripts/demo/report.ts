/** The demo's checks before a run and its printed output. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { type DemoStream, firstLine, formatValue, isoSeconds, renderTable } from "../lib/demo-output";
import { DIST_DIR } from "../local/lambda-runner";
import { ROOT } from "../local/step-functions";
import { DEMO_LOG_BURST, DEMO_STATE_MACHINE, DemoError, type DemoResult, FUNCTIONS } from "./defaults";

/** The zips must exist (the README's set-up builds them); a note when the sources are newer. */
export function checkZips(distDir: string, out: DemoStream): void {
  const missing = FUNCTIONS.filter((name) => !existsSync(join(distDir, `${name}.zip`)));
  if (missing.length > 0) {
    throw new DemoError(
      `the built functions are missing: ${missing.map((n) => relative(ROOT, join(distDir, `${n}.zip`))).join(", ")}`,
      "run the set-up first: npm ci && npm run build",
    );
  }
  if (distDir !== DIST_DIR) return;
  const oldestZip = Math.min(...FUNCTIONS.map((name) => statSync(join(distDir, `${name}.zip`)).mtimeMs));
  if (newestSource(join(ROOT, "functions")) > oldestZip) {
    out.write("note: functions/ changed after the zips were built; run `npm run build` to demo the current code\n\n");
  }
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** What the demo runs, printed first. */
export function header(): string {
  return [
    "mackerel-serverless local demo: no AWS account, nothing leaves this machine",
    `  functions  ${FUNCTIONS.join(", ")}, from the built zips, each in its own Node.js process as in Lambda`,
    "  Mackerel   a local Mackerel-compatible recorder (strict API)",
    "  AWS        local Secrets Manager (a fake key), SQS spool, DynamoDB (dynalite) state table",
    `  runs       the example state machine ${relative(ROOT, DEMO_STATE_MACHINE)},`,
    `             2 HTTP checks, a burst of ${DEMO_LOG_BURST.events} log events, a tick`,
    "",
    "",
  ].join("\n");
}

/** What Mackerel received, as tables and a summary line. */
export function report(result: DemoResult): string {
  const hostNames = new Map(result.hosts.map((h) => [h.id, h.name]));
  const serviceRows = [...result.serviceMetrics]
    .sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name) || a.time - b.time)
    .map((m) => [m.service, m.name, isoSeconds(m.time), formatValue(m.value)]);
  const hostRows = result.hostMetrics.map((m) => [
    hostNames.get(m.hostId) ?? m.hostId,
    m.name,
    isoSeconds(m.time),
    formatValue(m.value),
  ]);
  const reportRows = result.checkReports.map((r) => [r.name, r.status, firstLine(r.message, 60)]);
  const alerts = result.openAlerts.map((a) => `${a.checkName} (${a.status})`);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return [
    renderTable(
      "Service metrics",
      [{ header: "service" }, { header: "name" }, { header: "time" }, { header: "value", right: true }],
      serviceRows,
    ),
    renderTable(
      "Host metrics",
      [{ header: "host" }, { header: "name" }, { header: "time" }, { header: "value", right: true }],
      hostRows,
    ),
    renderTable("Check reports", [{ header: "check" }, { header: "status" }, { header: "message" }], reportRows),
    `Mackerel received ${plural(result.serviceMetrics.length, "service metric")}, ` +
      `${plural(result.hostMetrics.length, "host metric")} and ${plural(result.checkReports.length, "check report")} ` +
      `in ${result.seconds.toFixed(1)} s; spool empty; open alerts: ${alerts.join(", ") || "none"}.\n`,
  ].join("\n");
}
