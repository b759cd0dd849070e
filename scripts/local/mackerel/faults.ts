/**
 * Deterministic fault injection: which request fails, how, and for how many requests. The server
 * consults it before it looks at a request (a faulted request is not authenticated or validated).
 */
import { mulberry32 } from "../../testing/index.js";
import { show } from "./rules.js";

/** Which requests a fault plan applies to. */
export interface FaultMatch {
  /** Only requests whose raw path starts with this (e.g. `/api/v0/tsdb`). */
  pathPrefix?: string;
  /** Only requests with this method (e.g. `POST`). */
  method?: string;
  /**
   * How many matching requests the plan applies to: default 1, except `errorRate` (unlimited). Use
   * `Infinity` for "until `LocalMackerelServer.clearFaults`".
   */
  count?: number;
}

/**
 * A deterministic fault. Plans are consulted in the order they were injected; the first one that matches
 * a request and has count left decides it. A faulted request never changes the recorded state, except
 * `acceptThenReset` and `delay` without `thenStatus`, which model a server that did the work.
 */
export type FaultPlan =
  /** Answer `status` (4xx/5xx) without processing, with an optional Retry-After header. */
  | (FaultMatch & { mode: "status"; status: number; retryAfter?: number | string; message?: string })
  /**
   * Each matching request fails with probability `rate`, with a status drawn from `statuses`; a seeded
   * mulberry32 PRNG makes the sequence repeatable.
   */
  | (FaultMatch & { mode: "errorRate"; rate: number; seed: number; statuses: number[]; retryAfter?: number | string })
  /**
   * Wait `ms` before answering (to exceed client timeouts). Then the request is processed normally (the
   * work is done even when the client has gone), or, with `thenStatus`, answered with that status
   * unprocessed.
   */
  | (FaultMatch & { mode: "delay"; ms: number; thenStatus?: number })
  /** Destroy the connection without a response and without processing (connection reset). */
  | (FaultMatch & { mode: "reset" })
  /** Process the request (state recorded), then destroy the connection unanswered: a lost response. */
  | (FaultMatch & { mode: "acceptThenReset" });

/** What a fault makes of one request. */
export type FaultDecision =
  | { kind: "none" }
  | { kind: "status"; status: number; message: string; headers: Record<string, string>; fault: "status" | "errorRate" }
  | { kind: "delay"; ms: number; thenStatus?: number }
  | { kind: "reset" }
  | { kind: "acceptThenReset" };

interface ActiveFault {
  plan: FaultPlan;
  remaining: number;
  random?: () => number;
}

/** The `Retry-After` header for a value, or none. */
export function retryAfterHeader(value: number | string | undefined): Record<string, string> {
  return value === undefined ? {} : { "Retry-After": String(value) };
}

function statusMessage(status: number): string {
  if (status === 429) return "Too Many Requests";
  if (status === 503) return "Service Unavailable";
  if (status >= 500) return "Internal Server Error";
  return "Bad Request";
}

/** The injected fault plans, consulted in order. */
export class FaultInjector {
  private faults: ActiveFault[] = [];

  /** Adds plans after those already injected; an invalid plan throws a TypeError naming the rule. */
  inject(plan: FaultPlan | FaultPlan[]): void {
    for (const p of Array.isArray(plan) ? plan : [plan]) {
      validateFaultPlan(p);
      const remaining = p.count ?? (p.mode === "errorRate" ? Number.POSITIVE_INFINITY : 1);
      this.faults.push({ plan: p, remaining, random: p.mode === "errorRate" ? mulberry32(p.seed) : undefined });
    }
  }

  /** Removes every plan. */
  clear(): void {
    this.faults = [];
  }

  /** Plans with count left, in the order they are consulted. */
  pending(): { plan: FaultPlan; remaining: number }[] {
    return this.faults.filter((f) => f.remaining > 0).map((f) => ({ plan: f.plan, remaining: f.remaining }));
  }

  /** Decides one request (and uses up one count of the plan that matched). */
  decide(method: string, path: string): FaultDecision {
    for (const fault of this.faults) {
      if (fault.remaining <= 0) continue;
      const { plan } = fault;
      if (plan.pathPrefix !== undefined && !path.startsWith(plan.pathPrefix)) continue;
      if (plan.method !== undefined && plan.method.toUpperCase() !== method) continue;
      fault.remaining--;
      switch (plan.mode) {
        case "status":
          return {
            kind: "status",
            status: plan.status,
            message: plan.message ?? `injected fault: ${statusMessage(plan.status)}`,
            headers: retryAfterHeader(plan.retryAfter),
            fault: "status",
          };
        case "errorRate": {
          const random = fault.random!;
          const draw = random();
          const pick = random();
          if (draw >= plan.rate) return { kind: "none" };
          const status = plan.statuses[Math.floor(pick * plan.statuses.length)]!;
          return {
            kind: "status",
            status,
            message: `injected fault: ${statusMessage(status)}`,
            headers: retryAfterHeader(plan.retryAfter),
            fault: "errorRate",
          };
        }
        case "delay":
          return { kind: "delay", ms: plan.ms, thenStatus: plan.thenStatus };
        case "reset":
          return { kind: "reset" };
        case "acceptThenReset":
          return { kind: "acceptThenReset" };
      }
    }
    return { kind: "none" };
  }
}

function validateFaultPlan(plan: FaultPlan): void {
  const fail = (message: string): never => {
    throw new TypeError(`invalid fault plan ${show(plan)}: ${message}`);
  };
  if (plan.count !== undefined && !(plan.count >= 0)) fail("count must be >= 0");
  const isErrorStatus = (s: number) => Number.isInteger(s) && s >= 400 && s <= 599;
  switch (plan.mode) {
    case "status":
      if (!isErrorStatus(plan.status)) fail("status must be a 4xx or 5xx code");
      break;
    case "errorRate":
      if (!(plan.rate >= 0 && plan.rate <= 1)) fail("rate must be within [0, 1]");
      if (plan.statuses.length === 0 || !plan.statuses.every(isErrorStatus)) fail("statuses must be 4xx/5xx codes");
      break;
    case "delay":
      if (!(plan.ms >= 0)) fail("ms must be >= 0");
      if (plan.thenStatus !== undefined && !isErrorStatus(plan.thenStatus)) fail("thenStatus must be 4xx/5xx");
      break;
    case "reset":
    case "acceptThenReset":
      break;
    default:
      fail("unknown mode");
  }
}
