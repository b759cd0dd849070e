/**
 * The metric function: Step Functions Pass/Task states (or any caller) → Mackerel service metrics,
 * host metrics and check reports. Thin: parse, decide, act.
 */
import { ALL_KINDS, Delivery } from "../shared/delivery/service.js";
import { checkReportsWrite, type DeliveryCounts } from "../shared/delivery/writes.js";
import { MackerelValidationError } from "../shared/errors.js";
import type { LambdaContext } from "../shared/lambda.js";
import { logger } from "../shared/logger.js";
import type { MackerelWrite } from "../shared/mackerel-client.js";
import { createRuntime, type Runtime } from "../shared/runtime.js";
import { sharedStateStore } from "../shared/state-store.js";
import { CheckSeconds } from "./occurred-at.js";
import { parseMetricPayload } from "./payload.js";

export interface MetricResult {
  posted: DeliveryCounts;
  spooled: boolean;
}

const log = logger.child({ function: "metric" });
let runtime: Runtime | undefined;
let checkSeconds: CheckSeconds | undefined;

/** Lambda entry point. */
export async function handler(event: unknown, context: LambdaContext): Promise<MetricResult> {
  runtime ??= createRuntime();
  checkSeconds ??= new CheckSeconds(
    runtime.env.STATE_TABLE_NAME ? sharedStateStore(runtime.env.STATE_TABLE_NAME) : undefined,
    log,
  );
  const nowSeconds = Math.floor(Date.now() / 1000);

  let payload;
  try {
    payload = parseMetricPayload(event, runtime.env.MACKEREL_SERVICE_NAME, nowSeconds);
  } catch (error) {
    if (error instanceof MackerelValidationError) log.warn("invalid payload", { error });
    throw error;
  }
  if (payload.truncatedMessages.length > 0) {
    log.warn("check messages cut to 1024 code points", { checks: payload.truncatedMessages });
  }

  const delivery = new Delivery(runtime, context, log);
  const writes: MackerelWrite[] = [];
  if (payload.serviceMetrics.length > 0) {
    writes.push({ kind: "serviceMetrics", service: payload.service, points: payload.serviceMetrics });
  }
  if (payload.hostMetrics.length > 0 || payload.checks.length > 0) {
    const hostId = await delivery.hostId();
    if (payload.hostMetrics.length > 0) {
      writes.push({ kind: "hostMetrics", points: payload.hostMetrics.map((m) => ({ hostId, ...m })) });
    }
    if (payload.checks.length > 0) {
      // Each report its own second per (host, check): a CRITICAL then an OK within one second both count.
      const seconds = checkSeconds;
      const budgetMs = Math.min(2000, Math.floor(context.getRemainingTimeInMillis() / 6));
      const occurredAt = await Promise.all(
        payload.checks.map((c) => seconds.claim(hostId, c.name, c.occurredAt, budgetMs)),
      );
      writes.push(
        checkReportsWrite(
          payload.checks.map((c, i) => ({ ...c, occurredAt: occurredAt[i]! })),
          hostId,
        ),
      );
    }
  }

  const result = await delivery.post(writes, {}, ALL_KINDS);
  log.info("posted", { ...result.posted, spooled: result.spooled });
  return { posted: result.posted, spooled: result.spooled };
}
