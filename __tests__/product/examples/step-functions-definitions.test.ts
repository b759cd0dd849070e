/**
 * examples/step-functions: every state machine definition in examples/ is valid ASL, and the two
 * example state machines report as the README says.
 */
import { readFileSync } from "node:fs";
import { retryProblems } from "../../../modules/construct/step-functions";
import {
  isMetricTask,
  LAMBDA_INVOKE,
  loadDefinition,
  metricTaskStates,
  renderTemplate,
  statesOf,
  templatePlaceholders,
  validateDefinition,
} from "../../../scripts/local/step-functions";
import { JOBS, JOBS_LAMBDA_INVOKE, METRIC, templateCases, VARS, varsFor } from "./step-functions-support";

describe.each(templateCases)("%s", (_name, path) => {
  const text = readFileSync(path, "utf8");

  test("every placeholder is a template variable with a value", () => {
    const vars = varsFor(path);
    expect(templatePlaceholders(text).filter((name) => !(name in vars))).toEqual([]);
  });

  test("is valid ASL (asl-validator) once rendered", () => {
    const definition = loadDefinition(path, varsFor(path));
    const { isValid, errors } = validateDefinition(definition);
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  test("every metric Task retries Lambda's transient errors and MackerelUnavailableError, never refusals", () => {
    const definition = loadDefinition(path, varsFor(path));
    const metricStates = statesOf(definition).filter(({ state }) => isMetricTask(state, METRIC));
    for (const { name, state } of metricStates) {
      // Checked against the one list (RETRYABLE_ERRORS), as every Retry block of the project.
      expect([name, retryProblems(state.Retry)]).toEqual([name, []]);
    }
  });
});

describe("the two example state machines", () => {
  test("(a) the well-known pattern: Catch → Pass 1 / success → Pass 0 → the same metric Task", () => {
    const definition = loadDefinition(JOBS, VARS);
    const states = Object.fromEntries(statesOf(definition).map(({ name, state }) => [name, state]));
    expect(states["Run jobs"]!.Type).toBe("Parallel");
    expect((states["Run jobs"]!.Branches as unknown[]).length).toBe(2);
    for (const job of ["A", "B"]) {
      const slug = `job_${job.toLowerCase()}`;
      expect(states[`Job ${job}`]).toMatchObject({
        Type: "Task",
        Resource: VARS[`job_${job.toLowerCase()}_function_arn` as keyof typeof VARS],
        Catch: [{ ErrorEquals: ["States.ALL"], Next: `Job ${job} failed` }],
        Next: `Job ${job} succeeded`,
      });
      for (const [outcome, value] of [
        ["failed", 1],
        ["succeeded", 0],
      ] as const) {
        expect(states[`Job ${job} ${outcome}`]).toEqual({
          Type: "Pass",
          Result: { "service-name": "orders", "metric-name": `jobs.failed.${slug}`, "metric-value": value },
          ResultPath: "$",
          Next: `Post job ${job} metric`,
        });
      }
      expect(states[`Post job ${job} metric`]).toMatchObject({ Type: "Task", Resource: METRIC.arn, End: true });
    }
    expect(metricTaskStates(definition, METRIC)).toEqual(["Post job A metric", "Post job B metric"]);
  });

  test("(b) lambda:invoke with FunctionName = the function name, canonical payload, ResultSelector", () => {
    const definition = loadDefinition(JOBS_LAMBDA_INVOKE, VARS);
    const states = Object.fromEntries(statesOf(definition).map(({ name, state }) => [name, state]));
    for (const job of ["A", "B"]) {
      const report = states[`Report job ${job}`]!;
      expect(report).toMatchObject({
        Type: "Task",
        Resource: LAMBDA_INVOKE,
        Parameters: {
          FunctionName: METRIC.name,
          Payload: {
            service: "orders",
            metrics: [{ name: `jobs.failed.job_${job.toLowerCase()}`, "value.$": "$.failed" }],
            checks: [{ name: `job-${job.toLowerCase()}`, "status.$": "$.status", "message.$": "$.message" }],
          },
        },
        ResultSelector: { "Payload.$": "$.Payload" },
      });
    }
  });

  test("renderTemplate escapes values into JSON strings and refuses unknown variables", () => {
    expect(renderTemplate('{"a": "${x}", "b": "$${kept}"}', { x: 'say "hi"' })).toBe(
      '{"a": "say \\"hi\\"", "b": "${kept}"}',
    );
    expect(() => renderTemplate('"${missing}"', {})).toThrow('template variable "missing" is not given');
    expect(() => renderTemplate('"${upper(x)}"', { x: "a" })).toThrow("unsupported template expression");
  });
});
