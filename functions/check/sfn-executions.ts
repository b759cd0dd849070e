/**
 * Step Functions execution checks: executions with the given statuses that started within the window
 * (ListExecutions per status, newest first, paging stopped at the window's edge), compared with
 * thresholds; optionally, executions RUNNING for longer than a limit.
 */
import { ListingIncomplete } from "../shared/errors.js";
import { sanitizeMetricSegment } from "../shared/names.js";
import { awsErrorName, describeAwsError, type ExecutionItem, type SfnApi } from "./aws.js";
import {
  type CheckOutcome,
  describeThresholds,
  evaluateThreshold,
  formatDuration,
  unknown,
  worstStatus,
} from "./outcome.js";
import { excerpt } from "./redact.js";
import { callTimeout, type RunContext } from "./run-context.js";
import type { SfnExecutionSpec, SfnStatus } from "./spec.js";

/** ListExecutions' largest page. */
const PAGE_SIZE = 1000;
/** Pages read per listing before giving up (10,000 executions per status). */
export const MAX_PAGES = 10;
/** Execution names shown in the message. */
const NAMES_IN_MESSAGE = 10;
const CALL_TIMEOUT_MS = 10_000;
/** Time kept after listing. */
const RESERVE_MS = 500;

export interface Listing {
  executions: ExecutionItem[];
  pages: number;
}

/**
 * Lists executions with `status`, newest first, keeping those that started at or after `sinceMs`
 * (all of them when undefined); stops paging at the first older execution.
 */
export async function listExecutions(
  sfn: SfnApi,
  stateMachineArn: string,
  status: SfnStatus,
  sinceMs: number | undefined,
  context: RunContext,
): Promise<Listing> {
  const executions: ExecutionItem[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  for (;;) {
    if (pages >= MAX_PAGES)
      throw new ListingIncomplete(`more than ${MAX_PAGES * PAGE_SIZE} ${status} executions to list`);
    if (context.remainingMs() < RESERVE_MS) throw new ListingIncomplete(`no time left to list ${status} executions`);
    const page = await sfn.listExecutions(
      { stateMachineArn, statusFilter: status, maxResults: PAGE_SIZE, ...(nextToken ? { nextToken } : {}) },
      { timeoutMs: callTimeout(context, CALL_TIMEOUT_MS) },
    );
    pages++;
    for (const execution of page.executions ?? []) {
      const started = execution.startDate?.getTime();
      if (sinceMs !== undefined && started !== undefined && started < sinceMs) return { executions, pages };
      executions.push(execution);
    }
    nextToken = page.nextToken;
    if (!nextToken) return { executions, pages };
  }
}

export interface SfnObservation {
  windowStartMs: number;
  nowMs: number;
  /** Per configured status, the executions that started within the window. */
  byStatus: Map<SfnStatus, ExecutionItem[]>;
  /** RUNNING executions (all of them), when max_running_minutes is set. */
  running?: ExecutionItem[];
}

function names(executions: { name: string; detail?: string }[]): string {
  const shown = executions
    .slice(0, NAMES_IN_MESSAGE)
    .map((e) => `${excerpt(e.name, 80)}${e.detail ? ` ${e.detail}` : ""}`);
  const more = executions.length - shown.length;
  return `${shown.join(", ")}${more > 0 ? ` (+${more} more)` : ""}`;
}

function executionName(execution: ExecutionItem): string {
  return execution.name ?? execution.executionArn?.split(":").pop() ?? "(unnamed)";
}

/** Turns what was listed into the check's outcome. Pure. */
export function evaluateSfnExecutions(spec: SfnExecutionSpec, observation: SfnObservation): CheckOutcome {
  const metrics: Record<string, number> = {};
  const matched: { name: string; detail?: string; startedMs: number }[] = [];
  for (const status of spec.statuses) {
    const executions = observation.byStatus.get(status) ?? [];
    metrics[sanitizeMetricSegment(status.toLowerCase())] = executions.length;
    for (const e of executions)
      matched.push({ name: executionName(e), detail: status, startedMs: e.startDate?.getTime() ?? 0 });
  }
  matched.sort((a, b) => b.startedMs - a.startedMs);
  const count = matched.length;
  metrics.count = count;

  const thresholds = { warning: spec.warning, critical: spec.critical, direction: "above" as const };
  const verdict = evaluateThreshold(count, thresholds);
  const windowText = formatDuration((observation.nowMs - observation.windowStartMs) / 1000);
  const machine = spec.stateMachineArn.split(":").pop();
  const lines = [
    `${count} execution${count === 1 ? "" : "s"} ${spec.statuses.join("/")} started in the last ${windowText} on ${machine}${verdict.breached ? ` (${verdict.breached})` : ""}${count > 0 ? `: ${names(matched)}` : ""}`,
  ];
  let status = verdict.status as CheckOutcome["status"];

  if (spec.maxRunningMinutes !== undefined && observation.running) {
    const limitMs = spec.maxRunningMinutes * 60_000;
    const stuck = observation.running
      .filter((e) => e.startDate !== undefined && observation.nowMs - e.startDate.getTime() > limitMs)
      .sort((a, b) => a.startDate!.getTime() - b.startDate!.getTime());
    metrics.running_too_long = stuck.length;
    if (stuck.length > 0) {
      status = worstStatus(status, "CRITICAL");
      lines.push(
        `${stuck.length} execution${stuck.length === 1 ? "" : "s"} RUNNING longer than ${formatDuration(limitMs / 1000)}: ${names(
          stuck.map((e) => ({
            name: executionName(e),
            detail: `(started ${formatDuration((observation.nowMs - e.startDate!.getTime()) / 1000)} ago)`,
          })),
        )}`,
      );
    } else {
      lines.push(`no execution RUNNING longer than ${formatDuration(limitMs / 1000)}`);
    }
  }
  const described = describeThresholds(thresholds);
  if (described) lines.push(`thresholds: ${described}`);
  lines[0] = `${status}: ${lines[0]}`;
  return { status, message: lines.join("\n"), metrics };
}

const HINTS: Record<string, string> = {
  StateMachineDoesNotExist: " (check state_machine_arn)",
  StateMachineTypeNotSupported: " (ListExecutions supports standard workflows only, not express)",
  AccessDeniedException: " (the check function's role lacks states:ListExecutions on this state machine)",
};

/** Runs a Step Functions execution check; AWS failures become UNKNOWN. */
export async function runSfnExecutionCheck(
  spec: SfnExecutionSpec,
  sfn: SfnApi,
  context: RunContext,
): Promise<CheckOutcome> {
  const windowStartMs = context.nowMs - spec.windowMinutes * 60_000;
  const observation: SfnObservation = { windowStartMs, nowMs: context.nowMs, byStatus: new Map() };
  try {
    for (const status of spec.statuses) {
      const listing = await listExecutions(sfn, spec.stateMachineArn, status, windowStartMs, context);
      observation.byStatus.set(status, listing.executions);
    }
    if (spec.maxRunningMinutes !== undefined) {
      observation.running = (await listExecutions(sfn, spec.stateMachineArn, "RUNNING", undefined, context)).executions;
    }
  } catch (error) {
    if (error instanceof ListingIncomplete) return unknown(`could not count executions: ${error.message}`);
    return unknown(`ListExecutions failed: ${describeAwsError(error)}${HINTS[awsErrorName(error) ?? ""] ?? ""}`);
  }
  return evaluateSfnExecutions(spec, observation);
}
