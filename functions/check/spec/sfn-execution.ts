/** The `sfn_execution` check's input: executions of a state machine by status within a window. */
import * as z from "zod/mini";
import {
  commonFields,
  commonSpec,
  type CommonSpec,
  fail,
  opt,
  parseFields,
  threshold,
  thresholdsOrdered,
  wholeNumber,
} from "./common.js";

export const SFN_STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"] as const;
export type SfnStatus = (typeof SFN_STATUSES)[number];

export interface SfnExecutionSpec extends CommonSpec {
  kind: "sfn_execution";
  stateMachineArn: string;
  windowMinutes: number;
  statuses: SfnStatus[];
  warning?: number;
  critical?: number;
  maxRunningMinutes?: number;
}

/** Documented defaults (README, variable descriptions). */
export const SFN_EXECUTION_DEFAULTS = {
  windowMinutes: 60,
  statuses: ["FAILED", "TIMED_OUT", "ABORTED"] as SfnStatus[],
  critical: 1,
} as const;

const STATE_MACHINE_ARN = /^arn:aws[a-zA-Z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:.+$/;

const schema = z.strictObject({
  kind: z.literal("sfn_execution"),
  ...commonFields,
  state_machine_arn: z
    .string({ error: "is required" })
    .check(z.regex(STATE_MACHINE_ARN, "must be a state machine ARN")),
  window_minutes: opt(wholeNumber(1, 10080, "minutes")),
  statuses: opt(
    z
      .array(z.enum(SFN_STATUSES, { error: `must be among ${SFN_STATUSES.join(", ")}` }))
      .check(z.minLength(1, "must list at least one status")),
  ),
  warning: opt(threshold),
  critical: opt(threshold),
  max_running_minutes: opt(wholeNumber(1, 525600, "minutes")),
});

/** Validates an `sfn_execution` check and applies its defaults. */
export function parseSfnExecutionSpec(raw: Record<string, unknown>, checkName: string | undefined): SfnExecutionSpec {
  const data = parseFields(schema, raw, checkName);
  // critical defaults to 1 only when unset: an explicit warning alone still gets the default critical.
  const critical = data.critical ?? SFN_EXECUTION_DEFAULTS.critical;
  if (!thresholdsOrdered(data.warning, critical, "above")) {
    fail(
      [`check.warning: must be at most critical (${critical}${data.critical === undefined ? ", the default" : ""})`],
      checkName,
    );
  }
  return {
    ...commonSpec(data),
    kind: "sfn_execution",
    stateMachineArn: data.state_machine_arn,
    windowMinutes: data.window_minutes ?? SFN_EXECUTION_DEFAULTS.windowMinutes,
    statuses: [...new Set(data.statuses ?? SFN_EXECUTION_DEFAULTS.statuses)],
    warning: data.warning,
    critical,
    maxRunningMinutes: data.max_running_minutes,
  };
}
