/**
 * `npm start`: a local end-to-end run of the BUILT functions on embedded defaults, with no AWS account.
 *
 * It starts a local Mackerel-compatible recorder (scripts/local/mackerel/) and the local stand-ins
 * (Secrets Manager holding a fake key, the SQS spool, DynamoDB with the state table, a small web site), runs
 * the metric, check and logs functions from `modules/mackerel-serverless/dist/*.zip` in Lambda-like processes,
 * and drives them as AWS would:
 *
 * 1. the example state machine (examples/step-functions/state-machines/jobs-lambda-invoke.asl.json), job A
 *    failing and job B succeeding, its report Tasks bound to the metric function;
 * 2. two HTTP checks (one healthy page, one answering 503), as their EventBridge rules invoke the check function;
 * 3. a burst of log events, as a CloudWatch Logs subscription filter delivers them to the logs function;
 * 4. the per-minute tick of the check function: it flushes the per-minute counts, closes the alert of a rule
 *    that went quiet, and posts the heartbeat;
 *
 * then prints what Mackerel received. `runDemo()` does the work and returns what was received (the tests use it);
 * `main()` is the command line: exit 0 on success, 1 with the reason otherwise.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, join, relative } from "node:path";
import { LocalAwsJsonServer, secretsManagerHandlers } from "./local/aws-json-server";
import { type LocalDynamo, startDynalite } from "./local/dynalite";
import { DIST_DIR, LocalLambda } from "./local/lambda-runner";
import { encodeSubscriptionEvent, generatePayload } from "./local/log-events";
import {
  LocalMackerelServer,
  type LocalHost,
  type OpenAlert,
  type RecordedCheckReport,
  type RecordedHostMetric,
  type RecordedServiceMetric,
} from "./local/mackerel";
import { LocalSqs } from "./local/sqs-stub";
import {
  isMetricTask,
  loadDefinition,
  ROOT,
  runDefinition,
  statesOf,
  templatePlaceholders,
  validateDefinition,
} from "./local/step-functions";
import { type DemoStream, firstLine, formatValue, isoSeconds, Progress, renderTable } from "./lib/demo-output";

// ---------------------------------------------------------------------------------------------------
// Embedded defaults
// ---------------------------------------------------------------------------------------------------

/** The demo's fake Mackerel API key: only the local recorder accepts it, and it is never printed. */
export const DEMO_API_KEY = "demo-local-only-key-7f3a91c2e4b6d805";
export const DEMO_ACCOUNT = "123456789012";
export const DEMO_REGION = "us-east-1";
/** The module's default name prefix: functions, host name and custom identifier follow from it. */
export const DEMO_PREFIX = "mackerel-serverless";
export const DEMO_SERVICE = "my-service";
export const DEMO_SECRET_ARN = `arn:aws:secretsmanager:${DEMO_REGION}:${DEMO_ACCOUNT}:secret:mackerel-api-key-Demo01`;
/** What the module derives by default: mackerel-serverless/<region>/<account>/<name>. */
export const DEMO_CUSTOM_IDENTIFIER = `mackerel-serverless/${DEMO_REGION}/${DEMO_ACCOUNT}/${DEMO_PREFIX}`;
export const DEMO_STATE_TABLE = `${DEMO_PREFIX}-state`;
export const DEMO_SPOOL_QUEUE = `${DEMO_PREFIX}-spool.fifo`;
export const DEMO_STATE_MACHINE = join(
  ROOT,
  "examples",
  "step-functions",
  "state-machines",
  "jobs-lambda-invoke.asl.json",
);
export const DEMO_METRIC_FUNCTION = {
  arn: `arn:aws:lambda:${DEMO_REGION}:${DEMO_ACCOUNT}:function:${DEMO_PREFIX}-metric`,
  name: `${DEMO_PREFIX}-metric`,
};
/** The application log group whose subscription filter feeds the logs function. */
export const DEMO_LOG_GROUP = "/aws/lambda/orders";
/** The module's own log groups (the logs function's loop guard). */
export const DEMO_OWN_LOG_GROUPS = ["metric", "logs", "check", "sender"].map(
  (fn) => `/aws/lambda/${DEMO_PREFIX}-${fn}`,
);

/** `log_rules` as a Terraform user writes them (the module passes them as JSON). */
export const DEMO_LOG_RULES = [
  { name: "errors", include: ["\\bERROR\\b"], exclude: ["healthcheck"] },
  // Quiet for a minute is enough here, so the demo's tick can show an alert closing.
  { name: "timeouts", include: ["Task timed out"], recover_after_minutes: 1 },
  { name: "access_denied", include: ["AccessDenied", "not authorized"], status: "WARNING", max_samples: 2 },
];

/** The log burst: a deterministic payload (seeded), 600 events over three whole minutes. */
export const DEMO_LOG_BURST = { events: 600, errorRate: 0.05, seed: 7, stepMs: 300, minutes: 3 };
/**
 * The burst's first minute, counted back from the current minute. Its last minute is then the last minute
 * the tick considers closed (a minute is flushed two minutes after it ends), so one tick posts all of it.
 */
export const DEMO_LOG_BURST_MINUTES_AGO = 5;

/** The HTTP checks, as their EventBridge rules carry them (`http_checks` items), for a site at `baseUrl`. */
export function demoHttpChecks(baseUrl: string): { check: Record<string, unknown> }[] {
  return [
    { check: { kind: "http", name: "site-health", url: `${baseUrl}/health`, body_contains: '"status":"ok"' } },
    { check: { kind: "http", name: "site-checkout", url: `${baseUrl}/checkout`, timeout_seconds: 5 } },
  ];
}

const FUNCTIONS = ["metric", "check", "logs"] as const;
type FunctionName = (typeof FUNCTIONS)[number];
const STEPS = 6;

// ---------------------------------------------------------------------------------------------------
// Results and errors
// ---------------------------------------------------------------------------------------------------

/** What the local Mackerel received, and what the demo sent. */
export interface DemoResult {
  serviceMetrics: RecordedServiceMetric[];
  hostMetrics: RecordedHostMetric[];
  /** Accepted check reports in arrival order. */
  checkReports: RecordedCheckReport[];
  openAlerts: OpenAlert[];
  hosts: LocalHost[];
  /** The decoded subscription payload given to the logs function. */
  logPayload: { logGroup: string; logEvents: { id: string; timestamp: number; message: string }[] };
  /** Base URL of the local web site the HTTP checks requested. */
  siteUrl: string;
  /** Messages left in the spool (0 when Mackerel took everything). */
  spooled: number;
  /** Wall time of the whole run. */
  seconds: number;
}

/** A step of the demo failed; `hint` says what to do about it. */
export class DemoError extends Error {
  override readonly name = "DemoError";
  /** The last errors and warnings the functions logged. */
  logs?: string[];
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface DemoOptions {
  /** Where the header, progress and tables go (default process.stdout). */
  out?: DemoStream;
  /** Progress in place (default: whether `out` is a TTY). */
  tty?: boolean;
  /** Folder of the built zips (default modules/mackerel-serverless/dist). */
  distDir?: string;
  /** Gives up after this long (default 50 s). */
  timeoutMs?: number;
  /** Stops the demo (and everything it started) when aborted, e.g. on Ctrl-C. */
  signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------------

/** Runs the demo, prints what Mackerel received, and returns it. Throws {@link DemoError} on a failure. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const out = options.out ?? process.stdout;
  const distDir = options.distDir ?? DIST_DIR;
  const timeoutMs = options.timeoutMs ?? 50_000;
  checkZips(distDir, out);
  out.write(header());

  const progress = new Progress(out, STEPS, options.tty ?? out.isTTY === true);
  const world = new World(distDir);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DemoError(`gave up after ${timeoutMs / 1000} s`, "a function or a local stand-in stopped answering"),
        ),
      timeoutMs,
    );
    onAbort = () => reject(new DemoError("interrupted"));
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
  const running = run(world, progress);
  // After a timeout or an interrupt, the abandoned run fails too (its functions are stopped): not an error.
  running.catch(() => undefined);
  try {
    const result = await Promise.race([running, stopped]);
    progress.clear();
    out.write(report(result));
    return result;
  } catch (error) {
    progress.clear();
    throw withContext(error, progress.current, world);
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
    await world.stop();
  }
}

async function run(world: World, progress: Progress): Promise<DemoResult> {
  progress.start("starting the local Mackerel, the AWS stand-ins and the functions");
  await world.start((what) => progress.update(what));
  progress.done(`Mackerel at ${world.mackerel.url}, functions ${FUNCTIONS.join(", ")} ready`);

  progress.start(`running the example state machine ${basename(DEMO_STATE_MACHINE)}`);
  const execution = await runStateMachine(world, (what) => progress.update(what));
  progress.done(execution);

  progress.start("running the HTTP checks");
  const checks: string[] = [];
  for (const input of demoHttpChecks(world.siteUrl)) {
    progress.update(String(input.check.name));
    const result = (await world.invoke("check", input)) as { check: string; status: string };
    checks.push(`${result.check} ${result.status}`);
  }
  progress.done(checks.join(", "));

  progress.start(`sending a burst of ${DEMO_LOG_BURST.events} log events to the logs function`);
  await waitForRoomInMinute((what) => progress.update(what));
  const payload = burstPayload(Date.now());
  const logs = (await world.invoke("logs", encodeSubscriptionEvent(payload))) as {
    outcome: string;
    matched?: Record<string, number>;
    reports?: { posted: number };
  };
  if (logs.outcome !== "processed") {
    throw new DemoError(`the logs function did not process the burst: ${JSON.stringify(logs)}`);
  }
  const matched = Object.entries(logs.matched ?? {}).map(([rule, n]) => `${rule} ${n}`);
  progress.done(`matched ${matched.join(", ") || "nothing"}; ${logs.reports?.posted ?? 0} check reports`);

  progress.start("running the per-minute tick of the check function");
  const tick = (await world.invoke("check", { tick: {} })) as {
    outcome: string;
    points?: Record<string, number>;
    recovered?: string[];
    heartbeat?: boolean;
  };
  if (tick.outcome !== "ticked" || tick.heartbeat !== true) {
    throw new DemoError(`the tick did not complete: ${JSON.stringify(tick)}`);
  }
  const points = Object.values(tick.points ?? {}).reduce((a, b) => a + b, 0);
  progress.done(`${points} per-minute counts, recovered ${tick.recovered?.join(", ") || "nothing"}, heartbeat posted`);

  progress.start("collecting what Mackerel received");
  await world.mackerel.whenIdle();
  const spooled = world.sqs.depth(DEMO_SPOOL_QUEUE);
  if (spooled > 0) {
    throw new DemoError(
      `${spooled} write(s) went to the spool instead of Mackerel`,
      "the local Mackerel refused or failed a write; see the function logs above",
    );
  }
  const result: DemoResult = {
    serviceMetrics: world.mackerel.serviceMetrics(),
    hostMetrics: world.mackerel.hostMetrics(),
    checkReports: world.mackerel.checkReports(),
    openAlerts: world.mackerel.openAlerts(),
    hosts: world.mackerel.hosts(),
    logPayload: payload as DemoResult["logPayload"],
    siteUrl: world.siteUrl,
    spooled,
    seconds: progress.elapsedSeconds(),
  };
  progress.done("done");
  return result;
}

/** The burst's payload for a run at `nowMs`: {@link DEMO_LOG_BURST} starting {@link DEMO_LOG_BURST_MINUTES_AGO} minutes back. */
export function burstPayload(nowMs: number): ReturnType<typeof generatePayload> {
  return generatePayload({
    events: DEMO_LOG_BURST.events,
    errorRate: DEMO_LOG_BURST.errorRate,
    seed: DEMO_LOG_BURST.seed,
    stepMs: DEMO_LOG_BURST.stepMs,
    startMs: (Math.floor(nowMs / 60_000) - DEMO_LOG_BURST_MINUTES_AGO) * 60_000,
    logGroup: DEMO_LOG_GROUP,
  });
}

/**
 * The tick flushes the minutes closed at ITS time: when the minute turned between the burst and the tick, it
 * would also post one more (zero) minute. The burst and the tick take a second or two, so when fewer than
 * {@link MINUTE_MARGIN_MS} are left in this minute, wait for the next one.
 */
const MINUTE_MARGIN_MS = 6_000;
async function waitForRoomInMinute(update: (what: string) => void): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left >= MINUTE_MARGIN_MS) return;
  update(`waiting ${Math.ceil(left / 1000)} s for the next minute, so that one tick flushes the whole burst`);
  await new Promise((resolve) => setTimeout(resolve, left + 200).unref());
}

async function runStateMachine(world: World, update: (what: string) => void): Promise<string> {
  const vars: Record<string, string> = {};
  for (const name of templatePlaceholders(readFileSync(DEMO_STATE_MACHINE, "utf8"))) {
    if (name === "metric_function_arn") vars[name] = DEMO_METRIC_FUNCTION.arn;
    else if (name === "metric_function_name") vars[name] = DEMO_METRIC_FUNCTION.name;
    else if (name === "service_name") vars[name] = DEMO_SERVICE;
    else if (name.endsWith("_function_arn")) {
      vars[name] = `arn:aws:lambda:${DEMO_REGION}:${DEMO_ACCOUNT}:function:${name.slice(0, -"_function_arn".length)}`;
    } else if (name.endsWith("_function_name")) vars[name] = name.slice(0, -"_function_name".length);
    else throw new DemoError(`${relative(ROOT, DEMO_STATE_MACHINE)}: no demo value for the placeholder \${${name}}`);
  }
  const definition = loadDefinition(DEMO_STATE_MACHINE, vars);
  const validation = validateDefinition(definition);
  if (!validation.isValid) {
    throw new DemoError(`${relative(ROOT, DEMO_STATE_MACHINE)} is not valid ASL: ${validation.errors.join("; ")}`);
  }
  // The jobs: job A fails (its Catch path reports CRITICAL), every other job succeeds.
  class JobFailedError extends Error {
    override readonly name = "JobFailedError";
  }
  const tasks: Record<string, () => unknown> = {};
  for (const { name, state } of statesOf(definition)) {
    if (state.Type !== "Task" || isMetricTask(state, DEMO_METRIC_FUNCTION)) continue;
    tasks[name] = () => {
      update(name);
      if (name === "Job A") throw new JobFailedError("job A could not reach its database");
      return { done: true };
    };
  }
  // Through the world, so that an interrupted run stops invoking.
  const metric = { invokeOrThrow: (event: unknown) => world.lambda("metric").invokeOrThrow(event) };
  const result = await runDefinition(definition, {}, { metric, metricFunction: DEMO_METRIC_FUNCTION, tasks });
  const failedCalls = result.metricInvocations.filter((i) => !i.outcome.ok);
  if (result.execution.status !== "SUCCEEDED") {
    throw new DemoError(`the state machine failed: ${result.execution.error}: ${result.execution.cause}`);
  }
  if (failedCalls.length > 0 || result.metricInvocations.length === 0) {
    const errors = failedCalls.map((i) => (i.outcome.ok ? "" : `${i.state}: ${i.outcome.errorType}`));
    throw new DemoError(`the metric function failed: ${errors.join("; ") || "it was never invoked"}`);
  }
  return `SUCCEEDED, ${result.metricInvocations.length} metric function invocations`;
}

// ---------------------------------------------------------------------------------------------------
// The local world
// ---------------------------------------------------------------------------------------------------

class World {
  mackerel!: LocalMackerelServer;
  sqs!: LocalSqs;
  private aws?: LocalAwsJsonServer;
  private dynamo?: LocalDynamo;
  private site?: Server;
  siteUrl = "";
  private readonly lambdas = new Map<FunctionName, LocalLambda>();
  private starting: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly distDir: string) {}

  start(update: (what: string) => void): Promise<void> {
    this.starting = this.startAll(update);
    return this.starting;
  }

  private async startAll(update: (what: string) => void): Promise<void> {
    update("Mackerel recorder, Secrets Manager, SQS, DynamoDB (dynalite), web site");
    [this.mackerel, this.aws, this.sqs, this.dynamo, this.site] = await Promise.all([
      LocalMackerelServer.start({ apiKeys: [DEMO_API_KEY], services: [DEMO_SERVICE] }),
      // Stored as the JSON form the README documents.
      LocalAwsJsonServer.start(
        secretsManagerHandlers(new Map([[DEMO_SECRET_ARN, JSON.stringify({ MACKEREL_API_KEY: DEMO_API_KEY })]])),
      ),
      LocalSqs.start(),
      startDynalite(),
      startSite(),
    ]);
    this.siteUrl = `http://127.0.0.1:${(this.site.address() as AddressInfo).port}`;
    this.sqs.createQueue(DEMO_SPOOL_QUEUE, { visibilityTimeoutSeconds: 360 });
    await this.dynamo.createStateTable(DEMO_STATE_TABLE);

    const common = {
      MACKEREL_API_KEY_SECRET_ARN: DEMO_SECRET_ARN,
      MACKEREL_API_BASE_URL: this.mackerel.url,
      MACKEREL_SERVICE_NAME: DEMO_SERVICE,
      MACKEREL_HOST_NAME: DEMO_PREFIX,
      MACKEREL_HOST_CUSTOM_IDENTIFIER: DEMO_CUSTOM_IDENTIFIER,
      SPOOL_QUEUE_URL: this.sqs.queueUrl(DEMO_SPOOL_QUEUE),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.aws.url,
      AWS_ENDPOINT_URL_SQS: this.sqs.url,
    };
    const logMonitoring = {
      STATE_TABLE_NAME: DEMO_STATE_TABLE,
      AWS_ENDPOINT_URL_DYNAMODB: this.dynamo.url,
      MACKEREL_LOG_RULES: JSON.stringify(DEMO_LOG_RULES),
      MACKEREL_SERVERLESS_OWN_LOG_GROUPS: JSON.stringify(DEMO_OWN_LOG_GROUPS),
    };
    const env: Record<FunctionName, Record<string, string>> = {
      metric: common,
      check: { ...common, ...logMonitoring },
      logs: { ...common, ...logMonitoring },
    };
    update(`functions ${FUNCTIONS.join(", ")} from ${relative(ROOT, this.distDir)}`);
    await Promise.all(
      FUNCTIONS.map(async (name) => {
        const lambda = await LocalLambda.start(name, {
          zipPath: join(this.distDir, `${name}.zip`),
          env: env[name],
          timeoutMs: 30_000,
        });
        this.lambdas.set(name, lambda);
      }),
    );
  }

  /** A running function; throws once the world is stopping (an interrupted run must not invoke anything). */
  lambda(name: FunctionName): LocalLambda {
    const lambda = this.closed ? undefined : this.lambdas.get(name);
    if (!lambda) throw new DemoError(`the ${name} function is not running`);
    return lambda;
  }

  /** Invokes a function; a function error becomes a DemoError naming the function. */
  async invoke(name: FunctionName, event: unknown): Promise<unknown> {
    const outcome = await this.lambda(name).invoke(event);
    if (!outcome.ok) {
      throw new DemoError(`the ${name} function failed: ${outcome.errorType}: ${outcome.errorMessage}`);
    }
    return outcome.result;
  }

  /** The last error and warning records each function logged, without the key (for error messages). */
  errorLogs(): string[] {
    const lines: string[] = [];
    for (const [name, lambda] of this.lambdas) {
      const problems = lambda.logs.filter((line) => /"level":"(ERROR|WARN)"|Error/.test(line)).slice(-3);
      for (const line of problems) lines.push(`  ${name}: ${scrub(line).slice(0, 300)}`);
    }
    return lines;
  }

  /** Stops everything started, after a start still in progress (so that nothing is left running). */
  async stop(): Promise<void> {
    this.closed = true;
    await this.starting?.catch(() => undefined);
    const site = this.site;
    await Promise.allSettled([
      ...[...this.lambdas.values()].map((lambda) => lambda.stop()),
      this.mackerel?.close(),
      this.aws?.close(),
      this.sqs?.close(),
      this.dynamo?.close(),
      site &&
        new Promise<void>((resolve) => {
          site.closeAllConnections();
          site.close(() => resolve());
        }),
    ]);
    this.lambdas.clear();
  }
}

/** The web site the HTTP checks request: a healthy page and one under maintenance. */
async function startSite(): Promise<Server> {
  const site = createServer((req, res) => {
    if (req.url === "/health") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"status":"ok","version":"1.4.2"}');
    } else {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("checkout is under maintenance, contact ops@example.com");
    }
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  return site;
}

// ---------------------------------------------------------------------------------------------------
// Checks and messages
// ---------------------------------------------------------------------------------------------------

/** The zips must exist (the README's set-up builds them); a note when the sources are newer. */
function checkZips(distDir: string, out: DemoStream): void {
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

function header(): string {
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

function scrub(text: string): string {
  return text.replaceAll(DEMO_API_KEY, "[key]");
}

function withContext(error: unknown, step: string, world: World): DemoError {
  const base =
    error instanceof DemoError
      ? error
      : new DemoError(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  const logs = world.errorLogs();
  const context = new DemoError(`${step}: ${scrub(base.message)}`, base.hint);
  if (logs.length > 0) context.logs = logs;
  return context;
}

// ---------------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------------

/** The command line: runs the demo; 0 on success, 1 with the reason on stderr. */
export async function main(options: DemoOptions & { err?: DemoStream } = {}): Promise<number> {
  const err = options.err ?? process.stderr;
  try {
    await runDemo(options);
    return 0;
  } catch (error) {
    const failure = error instanceof DemoError ? error : new DemoError(String(error));
    const lines = [`demo failed: ${scrub(failure.message)}`];
    if (failure.logs?.length) lines.push("last errors the functions logged:", ...failure.logs);
    if (failure.hint) lines.push(`hint: ${failure.hint}`);
    err.write(`\n${lines.join("\n")}\n`);
    return 1;
  }
}

if (require.main === module) {
  // Ctrl-C or a TERM: stop the function processes and the servers before exiting.
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  process.once("SIGTERM", () => controller.abort());
  void main({ signal: controller.signal }).then((code) => {
    process.exitCode = controller.signal.aborted ? 130 : code;
  });
}
