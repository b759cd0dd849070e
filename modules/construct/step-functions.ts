/**
 * Step Functions helpers: the states that post one job's outcome to Mackerel, so nobody hand-writes
 * the same Catch → Pass → Task per job. CDKTF users call {@link jobStates} with literal values; the
 * `modules/sfn-job-states` Terraform module is synthesized from the same function with variables —
 * one definition for both.
 */
import { Fn, type IResolvable, Token } from "cdktf";
import { chooseObject, isNullOrEmpty } from "./context";

/**
 * Lambda's own transient errors that AWS recommends retrying on every Lambda Task (the Step Functions
 * developer guide, "Handling transient Lambda service exceptions").
 */
export const LAMBDA_TRANSIENT_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.ClientExecutionTimeoutException",
  "Lambda.TooManyRequestsException",
] as const;

/**
 * The module's one "try again later" error name, whatever was unavailable (Mackerel, the spool, Secrets
 * Manager, DynamoDB): `MackerelUnavailableError` in functions/shared/errors.ts.
 */
export const RETRYABLE_FUNCTION_ERRORS = ["MackerelUnavailableError"] as const;

/** Every error name a Retry on the module's functions lists: THE list, from which every Retry block is built or checked. */
export const RETRYABLE_ERRORS: readonly string[] = [...LAMBDA_TRANSIENT_ERRORS, ...RETRYABLE_FUNCTION_ERRORS];

/**
 * Error names a Retry must never list: retrying cannot help (bad input, Mackerel's refusal, a wrong
 * secret or environment). `MackerelRejectedError` is the one a business workflow may Catch to go on.
 */
export const NEVER_RETRIED_ERRORS = ["MackerelValidationError", "MackerelRejectedError", "ConfigurationError"] as const;

/** The recommended Retry of a Task that invokes the metric function, built from {@link RETRYABLE_ERRORS}. */
export const METRIC_TASK_RETRY = [
  {
    ErrorEquals: [...RETRYABLE_ERRORS],
    IntervalSeconds: 2,
    MaxAttempts: 6,
    BackoffRate: 2,
    JitterStrategy: "FULL",
  },
];

/**
 * What is wrong with a Task's Retry blocks against {@link RETRYABLE_ERRORS}: a retryable name missing, a
 * never-retried name (or a catch-all that would retry one) listed. Empty when it is right.
 */
export function retryProblems(retry: unknown): string[] {
  if (!Array.isArray(retry)) return ["Retry: expected an array of retriers"];
  const listed = retry.flatMap((r) => ((r as { ErrorEquals?: unknown }).ErrorEquals as string[] | undefined) ?? []);
  const problems: string[] = [];
  for (const name of RETRYABLE_ERRORS) if (!listed.includes(name)) problems.push(`Retry: does not list ${name}`);
  for (const name of [...NEVER_RETRIED_ERRORS, "States.ALL", "States.TaskFailed"]) {
    if (listed.includes(name)) problems.push(`Retry: lists ${name}, which retrying cannot fix`);
  }
  return problems;
}

export interface JobStatesProps {
  /** Name of the job's state. The helper adds `<name>Failed`, `<name>Succeeded` and `<name>PostMetric`. */
  name: string;
  /** The job's own state — a Task, Parallel or Map (the types that can Catch) — without Next/End/Catch. */
  state: Record<string, unknown> | IResolvable;
  /** `module.<name>.metric_function_arn`. */
  metricFunctionArn: string;
  /** Service metric that gets 1 when the job failed and 0 when it succeeded, e.g. `jobs.failed.import`. */
  metricName: string;
  /** Mackerel service; default: the module's `service_name`. May be a token that is null. */
  serviceName?: string;
  /** State after the metric is posted; omitted (or a null token): the branch ends there. */
  next?: string;
  /** Errors that count as the job failing (default `["States.ALL"]`). */
  errorEquals?: string[] | IResolvable;
}

/** The single-metric payload of one outcome; `service-name` only when a service is given. */
function metricPayload(props: JobStatesProps, value: 0 | 1): unknown {
  const payload = { "metric-name": props.metricName, "metric-value": value };
  const service = props.serviceName;
  if (service === undefined) return payload;
  if (!Token.isUnresolved(service)) return { "service-name": service, ...payload };
  return chooseObject(isNullOrEmpty(service), payload, { "service-name": service, ...payload });
}

/** `{"Next": next}`, or `{"End": true}` when there is no next state. */
function transition(next: string | undefined): unknown {
  if (next === undefined) return { End: true };
  if (!Token.isUnresolved(next)) return { Next: next };
  return chooseObject(isNullOrEmpty(next), { End: true }, { Next: next });
}

/** State types that can Catch errors: the only ones a job can be. */
export const JOB_STATE_TYPES = ["Task", "Parallel", "Map"] as const;

/** `{...a, ...b}`, in Terraform when either side is a token. */
function mergeStates(a: unknown, b: unknown): unknown {
  if (Token.isUnresolved(a) || Token.isUnresolved(b)) return Fn.merge([a, b]);
  return { ...(a as object), ...(b as object) };
}

/**
 * The four states of one job, to merge into a state machine's `States`:
 * `<name>` (the job, failures caught) → `<name>Failed` / `<name>Succeeded` (Pass states that set the
 * metric payload to 1 or 0) → `<name>PostMetric` (Task on the metric function, recommended Retry).
 */
export function jobStates(props: JobStatesProps): Record<string, unknown> {
  if (!Token.isUnresolved(props.state)) {
    const type = (props.state as { Type?: unknown }).Type;
    if (!JOB_STATE_TYPES.includes(type as (typeof JOB_STATE_TYPES)[number])) {
      throw new Error(
        `jobStates(${props.name}): state.Type must be ${JOB_STATE_TYPES.join(", ")} (states that can Catch), got ${String(type)}`,
      );
    }
  }
  const failed = `${props.name}Failed`;
  const succeeded = `${props.name}Succeeded`;
  const post = `${props.name}PostMetric`;
  const wiring = {
    Catch: [{ ErrorEquals: props.errorEquals ?? ["States.ALL"], ResultPath: "$.error", Next: failed }],
    Next: succeeded,
  };
  return {
    [props.name]: mergeStates(props.state, wiring),
    [failed]: { Type: "Pass", Result: metricPayload(props, 1), ResultPath: "$", Next: post },
    [succeeded]: { Type: "Pass", Result: metricPayload(props, 0), ResultPath: "$", Next: post },
    [post]: mergeStates(
      { Type: "Task", Resource: props.metricFunctionArn, Retry: METRIC_TASK_RETRY },
      transition(props.next),
    ),
  };
}
