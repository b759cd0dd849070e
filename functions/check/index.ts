/**
 * The check function: each EventBridge rule of a configured check invokes it with
 * `{"check": {"kind", ...spec}}`; it runs the check and posts one check report named after the check
 * (to the module's host) and service metrics `checks.<name>.*` (in the module's service). Thin: parse,
 * run, post. The one-minute rule's `{"tick": {}}` belongs to the log pipeline and is dispatched to it
 * (functions/logs/tick.ts): it runs in this function's zip.
 */
import { Delivery } from "../shared/delivery/service.js";
import type { DeliveryCounts } from "../shared/delivery/writes.js";
import type { LambdaContext } from "../shared/lambda.js";
import { logger } from "../shared/logger.js";
import type { CheckStatus } from "../shared/names.js";
import { sleep } from "../shared/retry.js";
import { checkEnvironment, parseEnvironment } from "../shared/config.js";
import { createRuntime, type Runtime } from "../shared/runtime.js";
import { sharedStateStore } from "../shared/state/index.js";
import { runTick, type TickResult } from "../logs/tick.js";
import { loadLogsApi, loadSfnApi } from "./aws.js";
import { loadS3Api } from "./aws-s3.js";
import { SecretHeaders } from "./http-auth.js";
import { loadSearchApi } from "./opensearch-client.js";
import { buildWrites, type CheckOutcome, unknown } from "./outcome.js";
import { runCheck } from "./run.js";
import type { RunContext } from "./run-context.js";
import { CheckInputError } from "../shared/errors.js";
import { type CheckKind, type CommonSpec, parseCheckEvent } from "./spec.js";

export interface CheckResult {
  check: string;
  kind?: CheckKind;
  status: CheckStatus;
  posted: DeliveryCounts;
  spooled: boolean;
}

/** Time kept after the check for posting (and spooling): at most this, at most a quarter of the invocation. */
const POST_RESERVE_MS = 8000;

const log = logger.child({ function: "check" });
/** HTTP checks' headers secrets, cached per container (functions/check/http-auth.ts). */
const secretHeaders = new SecretHeaders();
let runtime: Runtime | undefined;

/** Lambda entry point. */
export async function handler(event: unknown, context: LambdaContext): Promise<CheckResult | TickResult> {
  runtime ??= createRuntime(parseEnvironment(checkEnvironment));
  const startedMs = Date.now();
  // Every invocation bounds the state table's calls (the tick's, and the host id's of a check), as one that
  // did not would inherit the bound of the tick before it in this container.
  if (runtime.env.STATE_TABLE_NAME) {
    sharedStateStore(runtime.env.STATE_TABLE_NAME).beginInvocation(context.getRemainingTimeInMillis());
  }

  let parsed;
  try {
    parsed = parseCheckEvent(event);
  } catch (error) {
    if (error instanceof CheckInputError) {
      log.warn("invalid check input", { error });
      // A check whose name is readable still reports: a misconfigured check must not fall silent.
      if (error.checkName) {
        await post(
          runtime,
          context,
          { name: error.checkName },
          undefined,
          unknown(`invalid check configuration: ${error.issues.join("; ")}`),
        );
      }
    }
    throw error;
  }
  if (parsed.type === "tick") return runTick(runtime, context, log.child({ tick: true }));

  const spec = parsed.spec;
  const reserve = Math.floor(Math.min(POST_RESERVE_MS, context.getRemainingTimeInMillis() / 4));
  const runContext: RunContext = {
    nowMs: startedMs,
    remainingMs: () => context.getRemainingTimeInMillis() - reserve,
    sleep,
    clock: () => Date.now(),
  };
  const outcome = await runCheck(
    spec,
    { logs: loadLogsApi, sfn: loadSfnApi, s3: loadS3Api, search: loadSearchApi, secretHeaders },
    runContext,
  );
  log.info("check ran", {
    check: spec.name,
    kind: spec.kind,
    status: outcome.status,
    durationMs: Date.now() - startedMs,
    metrics: outcome.metrics,
  });
  return post(runtime, context, spec, spec.kind, outcome);
}

/** Posts the outcome: metrics and exactly one check report. */
async function post(
  rt: Runtime,
  context: LambdaContext,
  spec: Pick<CommonSpec, "name" | "notificationInterval" | "maxCheckAttempts">,
  kind: CheckKind | undefined,
  outcome: CheckOutcome,
): Promise<CheckResult> {
  const delivery = new Delivery(rt, context, log);
  const hostId = await delivery.hostId();
  const writes = buildWrites(spec, outcome, {
    hostId,
    service: rt.env.MACKEREL_SERVICE_NAME,
    now: Math.floor(Date.now() / 1000),
  });
  const result = await delivery.post(writes, { ChecksRun: 1, ChecksNotOk: outcome.status === "OK" ? 0 : 1 }, [
    "serviceMetrics",
    "checkReports",
  ]);
  return {
    check: spec.name,
    ...(kind ? { kind } : {}),
    status: outcome.status,
    posted: result.posted,
    spooled: result.spooled,
  };
}
