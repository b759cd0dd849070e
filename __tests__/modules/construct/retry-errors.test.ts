/**
 * One list of retryable error names (modules/construct/step-functions.ts `RETRYABLE_ERRORS`): every Retry
 * block the project shows or generates — the README snippet, every definition under examples/, `jobStates()`
 * and the generated modules/sfn-job-states — lists each of its names and none that retrying cannot fix.
 * The names are those the functions throw (functions/shared/errors.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ConfigurationError,
  MackerelRejectedError,
  MackerelUnavailableError,
  MackerelValidationError,
} from "../../../functions/shared/errors";
import {
  jobStates,
  LAMBDA_TRANSIENT_ERRORS,
  METRIC_TASK_RETRY,
  NEVER_RETRIED_ERRORS,
  RETRYABLE_ERRORS,
  RETRYABLE_FUNCTION_ERRORS,
  retryProblems,
} from "../../../modules/construct/step-functions";
import {
  findDefinitionTemplates,
  loadDefinition,
  ROOT,
  statesOf,
  templatePlaceholders,
} from "../../../scripts/local/step-functions";

const README = readFileSync(join(ROOT, "README.md"), "utf8");

test("the list names what the functions throw, and AWS's recommended Lambda errors", () => {
  expect(RETRYABLE_FUNCTION_ERRORS).toEqual([new MackerelUnavailableError("x").name]);
  expect(NEVER_RETRIED_ERRORS).toEqual([
    new MackerelValidationError("x").name,
    new MackerelRejectedError("x", 400).name,
    new ConfigurationError("x").name,
  ]);
  expect(LAMBDA_TRANSIENT_ERRORS).toEqual([
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.TooManyRequestsException",
  ]);
  expect(RETRYABLE_ERRORS).toEqual([...LAMBDA_TRANSIENT_ERRORS, "MackerelUnavailableError"]);
});

test("retryProblems catches a missing name, a never-retried name and a catch-all", () => {
  expect(retryProblems(METRIC_TASK_RETRY)).toEqual([]);
  expect(retryProblems([{ ErrorEquals: ["Lambda.ServiceException", "MackerelRejectedError", "States.ALL"] }])).toEqual([
    "Retry: does not list Lambda.AWSLambdaException",
    "Retry: does not list Lambda.SdkClientException",
    "Retry: does not list Lambda.ClientExecutionTimeoutException",
    "Retry: does not list Lambda.TooManyRequestsException",
    "Retry: does not list MackerelUnavailableError",
    "Retry: lists MackerelRejectedError, which retrying cannot fix",
    "Retry: lists States.ALL, which retrying cannot fix",
  ]);
  expect(retryProblems(undefined)).toEqual(["Retry: expected an array of retriers"]);
});

test("the README's Step Functions snippet retries exactly the list's names", () => {
  const start = README.indexOf('"JobA": {');
  const states = JSON.parse(`{${README.slice(start, README.indexOf("```", start)).trim()}}`) as Record<
    string,
    { Retry?: unknown; Resource?: string }
  >;
  const metricTasks = Object.entries(states).filter(([, s]) => s.Resource === "${metric_function_arn}");
  expect(metricTasks.map(([name]) => name)).toEqual(["PostJobA"]);
  for (const [name, state] of metricTasks) expect([name, retryProblems(state.Retry)]).toEqual([name, []]);
});

test("the README's troubleshooting and Retry text name the list's function error and no other retryable name", () => {
  expect(README).not.toContain("SpoolUnavailableError");
  expect(README).not.toContain("StateUnavailableError");
});

const METRIC_TASK = /metric_function_(arn|name)/;

test.each(findDefinitionTemplates().map((path) => [path.slice(ROOT.length + 1), path]))(
  "%s: every Task on the metric function retries the list's names, never a refusal",
  (_name, path) => {
    const text = readFileSync(path, "utf8");
    const vars = Object.fromEntries(templatePlaceholders(text).map((name) => [name, `\${${name}}`]));
    const definition = loadDefinition(path, vars);
    const tasks = statesOf(definition).filter(
      ({ state }) => state.Type === "Task" && METRIC_TASK.test(JSON.stringify(state)),
    );
    expect(tasks.length).toBeGreaterThan(0);
    for (const { name, state } of tasks) expect([name, retryProblems(state.Retry)]).toEqual([name, []]);
  },
);

test("jobStates() and the generated modules/sfn-job-states carry the list, in its order", () => {
  const states = jobStates({
    name: "Job",
    state: { Type: "Task", Resource: "arn:aws:lambda:us-east-1:123456789012:function:job" },
    metricFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:metric",
    metricName: "jobs.job.failed",
  });
  expect(retryProblems((states.JobPostMetric as { Retry: unknown }).Retry)).toEqual([]);
  const generated = readFileSync(join(ROOT, "modules", "sfn-job-states", "main.tf.json"), "utf8");
  // The module holds the states as a Terraform expression: `"Retry" = [{"ErrorEquals" = [...], ...}]`.
  const module = JSON.parse(generated) as { output: Record<string, { value: Record<string, string> }> };
  const expressions = Object.values(module.output).flatMap((o) => Object.values(o.value ?? {}));
  const post = expressions.find((e) => typeof e === "string" && e.includes('"Retry" ='));
  expect(post).toBeDefined();
  const listed = /"ErrorEquals" = \[([^\]]*)\]/
    .exec(post!)![1]!
    .split(",")
    .map((n) => JSON.parse(n.trim()) as string);
  expect(listed).toEqual([...RETRYABLE_ERRORS]);
});
