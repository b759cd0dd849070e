/**
 * `npm start`, the local demo: run programmatically (`runDemo`), what the local Mackerel received is exactly
 * what the demo's inputs call for, with the log counts recomputed here from the payload the logs function got;
 * run as `npm start` in a child process, it exits 0 and prints the tables; a failure exits 1 with the reason.
 * The demo's fake key never appears in any output.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEMO_API_KEY,
  DEMO_CUSTOM_IDENTIFIER,
  DEMO_LOG_BURST,
  DEMO_LOG_GROUP,
  DEMO_PREFIX,
  DEMO_SERVICE,
  type DemoResult,
  main,
  runDemo,
} from "../../scripts/demo";
import { DIST_DIR } from "../../scripts/local/lambda-runner";
import { ROOT } from "../../scripts/local/step-functions";

const HEARTBEAT = "custom.mackerel_serverless.heartbeat";

/** A stream that keeps what is written. */
function capture(isTTY = false) {
  const chunks: string[] = [];
  return { isTTY, write: (text: string) => chunks.push(text) > 0, text: () => chunks.join("") };
}

/**
 * The demo's log rules, applied here independently of the logs function: per rule, matches per epoch minute,
 * the total, and the newest match.
 */
function expectedLogCounts(events: DemoResult["logPayload"]["logEvents"]) {
  const rules: Record<string, (message: string) => boolean> = {
    errors: (m) => /\bERROR\b/.test(m) && !m.includes("healthcheck"),
    timeouts: (m) => m.includes("Task timed out"),
    access_denied: (m) => m.includes("AccessDenied") || m.includes("not authorized"),
  };
  const out: Record<string, { perMinute: Map<number, number>; total: number; last: number }> = {};
  for (const [name, matches] of Object.entries(rules)) {
    const perMinute = new Map<number, number>();
    let total = 0;
    let last = 0;
    for (const event of events) {
      if (!matches(event.message)) continue;
      const minute = Math.floor(event.timestamp / 60_000) * 60;
      perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
      total++;
      last = Math.max(last, event.timestamp);
    }
    out[name] = { perMinute, total, last };
  }
  return out;
}

describe("runDemo: what the local Mackerel received", () => {
  let result: DemoResult;
  const out = capture();
  let startedSec: number;
  let endedSec: number;

  beforeAll(async () => {
    startedSec = Math.floor(Date.now() / 1000);
    result = await runDemo({ out });
    endedSec = Math.ceil(Date.now() / 1000);
  }, 90_000);

  test("one host, registered by custom identifier; nothing left in the spool", () => {
    expect(result.hosts).toEqual([
      expect.objectContaining({ name: DEMO_PREFIX, customIdentifier: DEMO_CUSTOM_IDENTIFIER, isRetired: false }),
    ]);
    expect(result.spooled).toBe(0);
  });

  test("the burst is three whole minutes of the seeded payload, ending at the last minute a tick flushes", () => {
    const { logGroup, logEvents } = result.logPayload;
    expect(logGroup).toBe(DEMO_LOG_GROUP);
    expect(logEvents).toHaveLength(DEMO_LOG_BURST.events);
    const minutes = [...new Set(logEvents.map((e) => Math.floor(e.timestamp / 60_000) * 60))];
    expect(minutes).toEqual([minutes[0]!, minutes[0]! + 60, minutes[0]! + 120]);
    expect(minutes[0]! % 60).toBe(0);
  });

  test("service metrics: the jobs, the HTTP checks and every minute of every log rule, exactly", () => {
    const logs = expectedLogCounts(result.logPayload.logEvents);
    const minutes = [...new Set(result.logPayload.logEvents.map((e) => Math.floor(e.timestamp / 60_000) * 60))];
    const now = (name: string, value: unknown) => ({ service: DEMO_SERVICE, name, value, time: expect.any(Number) });
    const counts = (rule: string) =>
      minutes.map((time) => ({
        service: DEMO_SERVICE,
        name: `logs.${rule}.count`,
        time,
        value: logs[rule]!.perMinute.get(time) ?? 0,
      }));
    expect(result.serviceMetrics).toEqual([
      now("checks.site-checkout.latency_ms", expect.any(Number)),
      now("checks.site-checkout.status_code", 503),
      now("checks.site-health.latency_ms", expect.any(Number)),
      now("checks.site-health.status_code", 200),
      now("jobs.failed.job_a", 1),
      now("jobs.failed.job_b", 0),
      ...counts("access_denied"),
      ...counts("errors"),
      ...counts("timeouts"),
    ]);
    // The demo's seed gives each rule matches (the table is not a column of zeros).
    for (const rule of ["errors", "timeouts", "access_denied"]) expect(logs[rule]!.total).toBeGreaterThan(0);
    for (const m of result.serviceMetrics.filter((m) => !m.name.startsWith("logs."))) {
      expect(m.time).toBeGreaterThanOrEqual(startedSec);
      expect(m.time).toBeLessThanOrEqual(endedSec);
      expect(m.value).toBeGreaterThanOrEqual(0);
    }
  });

  test("host metrics: the tick's heartbeat on the module's host", () => {
    const hostId = result.hosts[0]!.id;
    expect(result.hostMetrics).toEqual([{ hostId, name: HEARTBEAT, value: 1, time: expect.any(Number) }]);
    expect(result.hostMetrics[0]!.time).toBeGreaterThanOrEqual(startedSec);
    expect(result.hostMetrics[0]!.time).toBeLessThanOrEqual(endedSec);
  });

  test("check reports: the jobs, the HTTP checks, the log rules, then the tick's recovery, exactly", () => {
    const logs = expectedLogCounts(result.logPayload.logEvents);
    const hostId = result.hosts[0]!.id;
    const site = result.siteUrl.replace(/[.]/g, "[.]");
    const header = (rule: string) =>
      `${logs[rule]!.total} matching log event${logs[rule]!.total === 1 ? "" : "s"} in ${DEMO_LOG_GROUP} — first samples:`;
    const reports = result.checkReports.map(({ hostId: h, name, status, message }) => ({
      hostId: h,
      name,
      status,
      message,
    }));
    // The state machine's two branches run in parallel: their reports arrive in either order.
    const jobs = reports.slice(0, 2).sort((a, b) => a.name.localeCompare(b.name));
    expect([...jobs, ...reports.slice(2)]).toEqual([
      { hostId, name: "job-a", status: "CRITICAL", message: "job A failed: JobFailedError" },
      { hostId, name: "job-b", status: "OK", message: "job B succeeded" },
      {
        hostId,
        name: "site-health",
        status: "OK",
        message: expect.stringMatching(new RegExp(`^OK: GET ${site}/health: status 200 in \\d+ ms$`)),
      },
      {
        hostId,
        name: "site-checkout",
        status: "CRITICAL",
        message: expect.stringMatching(
          new RegExp(
            `^CRITICAL: GET ${site}/checkout: status 503 in \\d+ ms: expected status 200\\n` +
              "body: checkout is under maintenance, contact \\[REDACTED:email\\]$",
          ),
        ),
      },
      {
        hostId,
        name: "errors",
        status: "CRITICAL",
        message: expect.stringMatching(new RegExp(`^${header("errors")}\\n`)),
      },
      {
        hostId,
        name: "access_denied",
        status: "WARNING",
        message: expect.stringMatching(new RegExp(`^${header("access_denied")}\\n`)),
      },
      {
        hostId,
        name: "timeouts",
        status: "CRITICAL",
        message: expect.stringMatching(new RegExp(`^${header("timeouts")}\\n`)),
      },
      {
        hostId,
        name: "timeouts",
        status: "OK",
        message: expect.stringMatching(
          new RegExp(
            `^No matching log event for at least 1 minute \\(last match: ${new Date(logs.timeouts!.last).toISOString()}\\)[.]$`,
          ),
        ),
      },
    ]);

    // Samples: at most max_samples (5 by default, 2 for access_denied), redacted.
    const byName = (name: string) => result.checkReports.find((r) => r.name === name)!.message;
    expect(byName("errors").split("\n")).toHaveLength(1 + Math.min(5, logs.errors!.total));
    expect(byName("access_denied").split("\n")).toHaveLength(1 + Math.min(2, logs.access_denied!.total));
    expect(byName("access_denied")).toContain("password=[REDACTED:password]");
    for (const report of result.checkReports) expect(report.message).not.toContain("hunter2");

    // The recovery is newer than the report it closes (Mackerel would ignore it otherwise).
    const timeouts = result.checkReports.filter((r) => r.name === "timeouts");
    expect(timeouts[1]!.occurredAt).toBeGreaterThan(timeouts[0]!.occurredAt);
  });

  test("open alerts: the failed job, the failing page and the two log rules still matching", () => {
    expect(result.openAlerts.map((a) => [a.checkName, a.status])).toEqual([
      ["access_denied", "WARNING"],
      ["errors", "CRITICAL"],
      ["job-a", "CRITICAL"],
      ["site-checkout", "CRITICAL"],
    ]);
  });

  test("prints a header, plain progress lines (not a TTY), the tables and the summary; never the key", () => {
    const text = out.text();
    expect(text).not.toContain(DEMO_API_KEY);
    expect(text).not.toContain("\x1b");
    expect(text).toContain("mackerel-serverless local demo");
    for (let step = 1; step <= 6; step++)
      expect(text).toMatch(new RegExp(`^\\[${step}/6\\] .+ \\(\\d+[.]\\d s\\)$`, "m"));
    for (const title of ["Service metrics", "Host metrics", "Check reports"]) {
      expect(text).toMatch(new RegExp(`^${title}$`, "m"));
    }
    for (const m of result.serviceMetrics) {
      const time = new Date(m.time * 1000).toISOString().replace(".000Z", "Z");
      expect(text).toMatch(
        new RegExp(`^  ${DEMO_SERVICE} +${m.name.replace(/[.]/g, "[.]")} +${time} +${m.value}$`, "m"),
      );
    }
    expect(text).toMatch(new RegExp(`^  ${DEMO_PREFIX} +${HEARTBEAT.replace(/[.]/g, "[.]")} +\\S+Z +1$`, "m"));
    expect(text).toMatch(/^ {2}job-a +CRITICAL +job A failed: JobFailedError$/m);
    expect(text).toMatch(
      /^ {2}site-checkout +CRITICAL +CRITICAL: GET http:\/\/127[.]0[.]0[.]1:\d+\/checkout: status 503 i…$/m,
    );
    expect(text).toMatch(
      /^Mackerel received 15 service metrics, 1 host metric and 8 check reports in \d+[.]\d s; spool empty; open alerts: access_denied \(WARNING\), errors \(CRITICAL\), job-a \(CRITICAL\), site-checkout \(CRITICAL\)[.]$/m,
    );
  });
});

describe("npm start", () => {
  test("runs on the embedded defaults: exit 0, the tables, well under a minute, never the key", () => {
    const started = Date.now();
    const run = spawnSync("npm", ["start"], { cwd: ROOT, encoding: "utf8", timeout: 90_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(run.stderr.replace(/^npm warn .*\n/gm, "")).toBe("");
    expect(run.status).toBe(0);
    expect(seconds).toBeLessThan(45);
    const stdout = run.stdout;
    expect(stdout + run.stderr).not.toContain(DEMO_API_KEY);
    expect(stdout).toContain("mackerel-serverless local demo");
    expect(stdout).toMatch(/^\[6\/6\] collecting what Mackerel received: done/m);
    expect(stdout).toMatch(/^Service metrics\n {2}service +name +time +value\n {2}-+ +-+ +-+ +-+\n/m);
    expect(stdout).toMatch(/^ {2}my-service +jobs[.]failed[.]job_a +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +1$/m);
    expect(stdout).toMatch(/^ {2}my-service +logs[.]errors[.]count +\d{4}-\d\d-\d\dT\d\d:\d\d:00Z +\d+$/m);
    expect(stdout).toMatch(/^Host metrics\n/m);
    expect(stdout).toMatch(/^Check reports\n {2}check +status +message\n/m);
    expect(stdout).toMatch(/^ {2}timeouts +OK +No matching log event/m);
    expect(stdout).toMatch(/^Mackerel received 15 service metrics, 1 host metric and 8 check reports in /m);
  }, 120_000);
});

describe("failures exit 1 with the reason", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "demo-dist-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("no built zips: says to run the set-up", async () => {
    const out = capture();
    const err = capture();
    expect(await main({ distDir: dir, out, err })).toBe(1);
    expect(err.text()).toMatch(/^demo failed: the built functions are missing: .*metric[.]zip/m);
    expect(err.text()).toContain("hint: run the set-up first: npm ci && npm run build");
  });

  test("a run that takes too long: gives up, names the step, and stops everything it started", async () => {
    const out = capture();
    const err = capture();
    expect(await main({ timeoutMs: 200, out, err })).toBe(1);
    // Which step it gives up in depends on the machine; the message names it.
    expect(err.text()).toMatch(/^demo failed: (starting|running|sending) .+: gave up after 0[.]2 s$/m);
    const children = spawnSync("ps", ["-o", "args=", "--ppid", String(process.pid)], { encoding: "utf8" }).stdout;
    expect(children.split("\n").filter((line) => line.includes("aws-lambda-ric"))).toEqual([]);
  }, 60_000);

  test("a function that fails: names the step and the error, and stops everything it started", async () => {
    // The check function's zip where the metric function's should be: every metric Task fails validation.
    for (const name of ["check", "logs"]) copyFileSync(join(DIST_DIR, `${name}.zip`), join(dir, `${name}.zip`));
    copyFileSync(join(DIST_DIR, "check.zip"), join(dir, "metric.zip"));
    const out = capture();
    const err = capture();
    expect(await main({ distDir: dir, out, err })).toBe(1);
    expect(err.text()).toMatch(
      /^demo failed: running the example state machine jobs-lambda-invoke[.]asl[.]json: the state machine failed: MackerelValidationError: invalid check input/m,
    );
    expect(out.text() + err.text()).not.toContain(DEMO_API_KEY);
    // The function processes it started (children of this process) were stopped.
    const children = spawnSync("ps", ["-o", "args=", "--ppid", String(process.pid)], { encoding: "utf8" }).stdout;
    expect(children.split("\n").filter((line) => line.includes("aws-lambda-ric"))).toEqual([]);
  }, 60_000);
});
