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
import {
  DEMO_ACCOUNT,
  DEMO_LOG_BURST,
  DEMO_LOG_BURST_MINUTES_AGO,
  DEMO_LOG_GROUP,
  DEMO_METRIC_FUNCTION,
  DEMO_REGION,
  DEMO_SERVICE,
  DEMO_SPOOL_QUEUE,
  DEMO_STATE_MACHINE,
  DemoError,
  type DemoOptions,
  type DemoResult,
  demoHttpChecks,
  FUNCTIONS,
  scrub,
  STEPS,
} from "./demo/defaults";
import { checkZips, header, report } from "./demo/report";
import { World } from "./demo/world";
import { type DemoStream, Progress } from "./lib/demo-output";
import { readFileSync } from "node:fs";
import { basename, relative } from "node:path";
import { DIST_DIR } from "./local/lambda-runner";
import { encodeSubscriptionEvent, generatePayload } from "./local/log-events";
import {
  isMetricTask,
  loadDefinition,
  runDefinition,
  statesOf,
  ROOT,
  templatePlaceholders,
  validateDefinition,
} from "./local/step-functions";

export {
  DEMO_ACCOUNT,
  DEMO_API_KEY,
  DEMO_CUSTOM_IDENTIFIER,
  DEMO_LOG_BURST,
  DEMO_LOG_BURST_MINUTES_AGO,
  DEMO_LOG_GROUP,
  DEMO_LOG_RULES,
  DEMO_METRIC_FUNCTION,
  DEMO_OWN_LOG_GROUPS,
  DEMO_PREFIX,
  DEMO_REGION,
  DEMO_SECRET_ARN,
  DEMO_SERVICE,
  DEMO_SPOOL_QUEUE,
  DEMO_STATE_MACHINE,
  DEMO_STATE_TABLE,
  DemoError,
  type DemoOptions,
  type DemoResult,
  demoHttpChecks,
} from "./demo/defaults";
export { report } from "./demo/report";

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
