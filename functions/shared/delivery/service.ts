/**
 * The one delivery path of every function: per invocation, the module's host id (or the spool's
 * placeholder), a client bound to the invocation's remaining time, delivery with spooling, the EMF counts
 * and the refusals thrown last. Handlers build writes and call it; the sender re-sends spooled writes with
 * the same send loop (functions/sender/resend.ts).
 */
import { emitMetrics } from "../emf.js";
import type { LambdaContext } from "../lambda.js";
import type { Logger } from "../logger.js";
import type { MackerelClient, MackerelWrite } from "../mackerel-client.js";
import { type DeliveryResult, deliver, spooledTotal, throwIfRejected } from "./deliver.js";
import { hostIdOrPlaceholder, SPOOL_HOST_PLACEHOLDER } from "./host-placeholder.js";
import type { HostRefresher } from "./send.js";
import type { Spool } from "./spool.js";

/** What delivery needs of the function's runtime (`runtime.ts`). */
export interface DeliveryRuntime {
  client: MackerelClient;
  host: HostRefresher & { hostId(): Promise<string> };
  /** The spool when the function has one: retryable failures go there instead of failing the call. */
  spool?: Spool;
}

/** The EMF metric of the items of each kind posted. */
export const POSTED_METRICS: Readonly<Record<MackerelWrite["kind"], string>> = {
  serviceMetrics: "ServiceMetricsPosted",
  hostMetrics: "HostMetricsPosted",
  checkReports: "CheckReportsPosted",
};

/** Every kind of write, for functions that count all of them. */
export const ALL_KINDS: readonly MackerelWrite["kind"][] = ["serviceMetrics", "hostMetrics", "checkReports"];

/**
 * A delivery's EMF counts: items posted of the `counted` kinds (the kinds the function writes), items
 * spooled and writes refused. Zeros when nothing was delivered: alarms and graphs want explicit zeros.
 */
export function deliveryMetrics(
  result: DeliveryResult | undefined,
  counted: readonly MackerelWrite["kind"][],
): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const kind of counted) metrics[POSTED_METRICS[kind]] = result?.posted[kind] ?? 0;
  metrics.ItemsSpooled = result ? spooledTotal(result) : 0;
  metrics.WritesRejected = result?.rejected.length ?? 0;
  return metrics;
}

/** One invocation's delivery. */
export class Delivery {
  /** The runtime's client, measuring time against this invocation's deadline. */
  readonly client: MackerelClient;
  /** The module's host (resolved once per container). */
  readonly host: DeliveryRuntime["host"];

  constructor(
    private readonly rt: DeliveryRuntime,
    private readonly context: Pick<LambdaContext, "getRemainingTimeInMillis">,
    /** The function's logger. */
    readonly log: Logger,
  ) {
    this.client = rt.client.withRemainingTime(() => context.getRemainingTimeInMillis());
    this.host = rt.host;
  }

  /**
   * The module's host id. Mackerel down (or too slow) at this container's first host look-up: the
   * placeholder when the function has a spool, so that host writes are spooled (the sender resolves it)
   * instead of lost. A refusal is thrown.
   */
  async hostId(): Promise<string> {
    const hostId = await this.resolveHost(this.rt.spool !== undefined);
    if (hostId === SPOOL_HOST_PLACEHOLDER) this.log.warn("Mackerel host id not resolved: host writes go to the spool");
    return hostId;
  }

  /** Sends the writes, spooling what Mackerel cannot take now (see `deliver.ts`). */
  deliver(writes: MackerelWrite[]): Promise<DeliveryResult> {
    return deliver(writes, this.client, this.log, this.rt.spool, this.host);
  }

  /**
   * After a delivery: emits `metrics` and the delivery's counts ({@link deliveryMetrics}) as one EMF
   * document, then throws Mackerel's refusals, if any.
   */
  finish(result: DeliveryResult, metrics: Record<string, number>, counted: readonly MackerelWrite["kind"][]): void {
    emitMetrics({ ...metrics, ...deliveryMetrics(result, counted) });
    throwIfRejected(result);
  }

  /** {@link deliver} then {@link finish}. */
  async post(
    writes: MackerelWrite[],
    metrics: Record<string, number>,
    counted: readonly MackerelWrite["kind"][],
  ): Promise<DeliveryResult> {
    const result = await this.deliver(writes);
    this.finish(result, metrics, counted);
    return result;
  }

  /**
   * The host id, or the placeholder when Mackerel cannot tell it within a third of the remaining time and
   * `spool` says the caller can keep the writes (see `host-placeholder.ts`).
   */
  resolveHost(spool: boolean): Promise<string> {
    return hostIdOrPlaceholder(() => this.host.hostId(), {
      budgetMs: Math.floor(this.context.getRemainingTimeInMillis() / 3),
      spool,
    });
  }
}
