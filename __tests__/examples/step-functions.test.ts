/**
 * examples/step-functions: the Terraform root project plans offline, and every state machine definition
 * in examples/ is valid ASL and runs end to end — metric Task states bound to the BUILT metric function,
 * posting to the local Mackerel server.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { StateMachineDefinition } from "aws-local-stepfunctions";
import { retryProblems } from "../../modules/construct/step-functions";
import { TerraformWorkspace } from "../../scripts/lib/terraform";
import { LocalAwsJsonServer, secretsManagerHandlers } from "../../scripts/local/aws-json-server";
import { LocalLambda } from "../../scripts/local/lambda-runner";
import { LocalMackerelServer } from "../../scripts/local/mackerel";
import {
  findDefinitionTemplates,
  isMetricTask,
  LAMBDA_INVOKE,
  loadDefinition,
  metricTaskStates,
  renderTemplate,
  ROOT,
  runDefinition,
  startValidationServerProcess,
  statesOf,
  templatePlaceholders,
  validateDefinition,
  type ValidationServerProcess,
} from "../../scripts/local/step-functions";
import { describeWithTerraform, expectCleanInit } from "../support/terraform";
import { expectRootProject } from "../support/examples";

const EXAMPLE = join(ROOT, "examples", "step-functions");
const JOBS = join(EXAMPLE, "state-machines", "jobs.asl.json");
const JOBS_LAMBDA_INVOKE = join(EXAMPLE, "state-machines", "jobs-lambda-invoke.asl.json");

const METRIC = {
  arn: "arn:aws:lambda:us-east-1:123456789012:function:mackerel-sfn-example-metric",
  name: "mackerel-sfn-example-metric",
};
const VARS = {
  metric_function_arn: METRIC.arn,
  metric_function_name: METRIC.name,
  service_name: "orders",
  job_a_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:job-a",
  job_b_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:job-b",
};
/**
 * Values for a template's placeholders: the example's, plus fakes for other examples' `*_function_arn`
 * and `*_function_name` (their Task states are bound to local handlers by state name anyway).
 */
function varsFor(path: string): Record<string, string> {
  const vars: Record<string, string> = { ...VARS };
  for (const name of templatePlaceholders(readFileSync(path, "utf8"))) {
    if (name in vars) continue;
    const base = name.replace(/_function_(arn|name)$/, "").replace(/_/g, "-");
    if (name.endsWith("_function_arn")) vars[name] = `arn:aws:lambda:us-east-1:123456789012:function:${base}`;
    else if (name.endsWith("_function_name")) vars[name] = base;
  }
  return vars;
}

const TF_VARS = {
  service_name: VARS.service_name,
  job_a_function_arn: VARS.job_a_function_arn,
  job_b_function_arn: VARS.job_b_function_arn,
};

const TEMPLATES = findDefinitionTemplates();
const templateCases = TEMPLATES.map((path) => [relative(ROOT, path), path] as const);

class JobFailedError extends Error {
  override readonly name = "JobFailedError";
}
const fails = () => {
  throw new JobFailedError("the job broke");
};
const succeeds = () => ({ done: true });

test("the example's templates are found by the examples/**/*.asl.json glob", () => {
  expect(TEMPLATES).toEqual(expect.arrayContaining([JOBS, JOBS_LAMBDA_INVOKE]));
});

describe("the example project's files", () => {
  const read = (file: string) => readFileSync(join(EXAMPLE, file), "utf8");

  test("is a Terraform root project with the usual files and a README", () => {
    expectRootProject(EXAMPLE);
  });

  test("pins hashicorp/aws >= 5.80, < 7.0 and configures the provider's region from a variable", () => {
    expect(read("versions.tf").replace(/\s+/g, " ")).toContain(
      'aws = { source = "hashicorp/aws" version = ">= 5.80, < 7.0" }',
    );
    expect(read("main.tf")).toMatch(/provider "aws" \{\s*region = var\.region\s*\}/);
    expect(read("variables.tf")).toContain('variable "region"');
  });

  test("reads no account data from AWS and keeps the key out of Terraform", () => {
    const all = ["main.tf", "variables.tf", "outputs.tf", "versions.tf"].map(read).join("\n");
    expect(all).not.toContain("aws_caller_identity");
    expect(all).toContain('resource "aws_secretsmanager_secret" "mackerel_api_key"');
    expect(all).not.toContain("aws_secretsmanager_secret_version");
    expect(all).toContain('source = "../../modules/mackerel-serverless"');
    expect(all).toContain("policy = module.mackerel.invoke_metric_policy_json");
    expect(all).toContain('templatefile("${path.module}/state-machines/jobs.asl.json"');
    expect(all).toContain('templatefile("${path.module}/state-machines/jobs-lambda-invoke.asl.json"');
  });

  test("the README says how to set the secret's value out of band", () => {
    expect(read("README.md")).toContain("aws secretsmanager put-secret-value");
  });
});

describeWithTerraform("terraform: examples/step-functions", () => {
  let workspace: TerraformWorkspace;
  let sfn: ValidationServerProcess;

  beforeAll(async () => {
    workspace = TerraformWorkspace.create(EXAMPLE);
    // The AWS provider validates every state machine definition it already knows at plan time
    // (ValidateStateMachineDefinition); offline, that call goes to asl-validator behind a local endpoint.
    sfn = await startValidationServerProcess(join(workspace.dir, "..", "validated.jsonl"));
    workspace.useEndpoints({ sfn: sfn.url });
    expectCleanInit(workspace);
  });
  afterAll(async () => {
    await sfn?.stop();
    workspace?.remove();
  });

  test("validates", () => {
    const result = workspace.validate();
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("The configuration is valid");
  });

  test("plans: the secret, the module, the role with the module's invoke policy, two state machines", () => {
    const { result, plan } = workspace.planJson(TF_VARS);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const changes = plan!.resource_changes as { address: string; change: { after: Record<string, unknown> } }[];
    const addresses = changes.map((c) => c.address);
    expect(addresses).toEqual(
      expect.arrayContaining([
        "aws_secretsmanager_secret.mackerel_api_key",
        "module.mackerel.aws_lambda_function.metric",
        "aws_iam_role.state_machine",
        "aws_iam_role_policy.invoke_metric",
        "aws_iam_role_policy.invoke_jobs",
        "aws_sfn_state_machine.jobs",
        "aws_sfn_state_machine.jobs_lambda_invoke",
      ]),
    );
    const role = changes.find((c) => c.address === "aws_iam_role.state_machine")!.change.after;
    expect(JSON.parse(role.assume_role_policy as string).Statement[0].Principal).toEqual({
      Service: "states.amazonaws.com",
    });
    const jobsPolicy = changes.find((c) => c.address === "aws_iam_role_policy.invoke_jobs")!.change.after;
    expect(JSON.parse(jobsPolicy.policy as string).Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["lambda:InvokeFunction"],
        Resource: [VARS.job_a_function_arn, VARS.job_b_function_arn],
      },
    ]);
  });

  test("Terraform's templatefile() renders the lambda:invoke definition exactly as the local renderer does", () => {
    // Its variables are all known at plan time (the function name is), so the provider sent it for validation.
    const expected = loadDefinition(JOBS_LAMBDA_INVOKE, {
      ...VARS,
      metric_function_name: "mackerel-sfn-example-metric",
    });
    expect(sfn.validated()).toContainEqual(expected);
  });

  test("a bad job ARN fails at plan, naming the variable", () => {
    const result = workspace.plan({ ...TF_VARS, job_a_function_arn: "not-an-arn" });
    expect(result.status).not.toBe(0);
    expect(result.stderr.replace(/\s+/g, " ")).toContain("job_a_function_arn: must be a Lambda function ARN");
  });
});

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

describe("executed end to end: built metric function → local Mackerel server", () => {
  const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-sfn-AbCdEf";
  const KEY = "sfn-example-key-0123456789";
  const HOST_ID = "HSFNEXAMPLE";
  let mackerel: LocalMackerelServer;
  let aws: LocalAwsJsonServer;
  let metric: LocalLambda;

  beforeAll(async () => {
    mackerel = await LocalMackerelServer.start({
      apiKeys: [KEY],
      services: ["orders"],
      // Kept across reset(): the function resolves it once per container.
      hosts: [{ id: HOST_ID, name: "sfn-example", customIdentifier: "sfn-example" }],
    });
    aws = await LocalAwsJsonServer.start(secretsManagerHandlers(new Map([[SECRET_ARN, KEY]])));
    metric = await LocalLambda.start("metric", {
      env: {
        MACKEREL_API_KEY_SECRET_ARN: SECRET_ARN,
        MACKEREL_API_BASE_URL: mackerel.url,
        MACKEREL_SERVICE_NAME: "orders",
        MACKEREL_HOST_NAME: "sfn-example",
        MACKEREL_HOST_CUSTOM_IDENTIFIER: "sfn-example",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      },
    });
  });
  afterAll(async () => {
    for (const line of metric?.logs ?? []) expect(line).not.toContain(KEY);
    await metric?.stop();
    await mackerel?.close();
    await aws?.close();
  });
  beforeEach(() => mackerel.reset());

  const run = (path: string, jobs: { a: () => unknown; b: () => unknown }, vars: Partial<typeof VARS> = {}) =>
    runDefinition(
      loadDefinition(path, { ...VARS, ...vars }) as StateMachineDefinition,
      {},
      {
        metric,
        metricFunction: METRIC,
        tasks: { "Job A": jobs.a, "Job B": jobs.b },
      },
    );

  const metricValues = () => Object.fromEntries(mackerel.serviceMetrics("orders").map((m) => [m.name, m.value]));

  test.each(templateCases)("%s runs with every job succeeding: each metric Task posts", async (_name, path) => {
    const definition = loadDefinition(path, varsFor(path));
    const jobs = Object.fromEntries(
      statesOf(definition)
        .filter(({ state }) => state.Type === "Task" && !isMetricTask(state, METRIC))
        .map(({ name }) => [name, succeeds]),
    );
    const result = await runDefinition(definition, {}, { metric, metricFunction: METRIC, tasks: jobs });
    expect(result.execution.status).toBe("SUCCEEDED");
    expect(result.metricInvocations.map((i) => i.state).sort()).toEqual(metricTaskStates(definition, METRIC).sort());
    expect(result.metricInvocations.every((i) => i.outcome.ok)).toBe(true);
    if (result.metricInvocations.length > 0) expect(mackerel.requests.some((r) => r.status === 200)).toBe(true);
  });

  test("(a) job A fails, job B succeeds → jobs.failed.job_a = 1, jobs.failed.job_b = 0, execution succeeds", async () => {
    const before = Math.floor(Date.now() / 1000);
    const result = await run(JOBS, { a: fails, b: succeeds });
    expect(result.execution).toEqual({
      status: "SUCCEEDED",
      output: [
        { posted: { serviceMetrics: 1, hostMetrics: 0, checkReports: 0 }, spooled: false },
        { posted: { serviceMetrics: 1, hostMetrics: 0, checkReports: 0 }, spooled: false },
      ],
    });
    expect(mackerel.serviceMetrics()).toEqual([
      { service: "orders", name: "jobs.failed.job_a", value: 1, time: expect.any(Number) },
      { service: "orders", name: "jobs.failed.job_b", value: 0, time: expect.any(Number) },
    ]);
    for (const point of mackerel.serviceMetrics()) {
      expect(Number.isInteger(point.time)).toBe(true);
      expect(point.time).toBeGreaterThanOrEqual(before);
    }
    // The metric function got exactly the Pass states' Result (ResultPath "$" replaced the Catch output).
    expect(result.metricInvocations.map((i) => i.event)).toEqual(
      expect.arrayContaining([
        { "service-name": "orders", "metric-name": "jobs.failed.job_a", "metric-value": 1 },
        { "service-name": "orders", "metric-name": "jobs.failed.job_b", "metric-value": 0 },
      ]),
    );
    expect(result.events.some((e) => e.type === "StateCaught")).toBe(true);
    expect(mackerel.checkReports()).toEqual([]);
  });

  test("(a) both jobs fail: the Catch paths post 1 twice and the execution still succeeds", async () => {
    const result = await run(JOBS, { a: fails, b: fails });
    expect(result.execution.status).toBe("SUCCEEDED");
    expect(metricValues()).toEqual({ "jobs.failed.job_a": 1, "jobs.failed.job_b": 1 });
  });

  test("(a) both jobs succeed → 0 and 0", async () => {
    const result = await run(JOBS, { a: succeeds, b: succeeds });
    expect(result.execution.status).toBe("SUCCEEDED");
    expect(metricValues()).toEqual({ "jobs.failed.job_a": 0, "jobs.failed.job_b": 0 });
  });

  test("(b) lambda:invoke: metrics and a check report per job", async () => {
    const result = await run(JOBS_LAMBDA_INVOKE, { a: fails, b: succeeds });
    expect(result.execution).toEqual({
      status: "SUCCEEDED",
      output: [
        { Payload: { posted: { serviceMetrics: 1, hostMetrics: 0, checkReports: 1 }, spooled: false } },
        { Payload: { posted: { serviceMetrics: 1, hostMetrics: 0, checkReports: 1 }, spooled: false } },
      ],
    });
    expect(metricValues()).toEqual({ "jobs.failed.job_a": 1, "jobs.failed.job_b": 0 });
    const reports = mackerel
      .checkReports()
      .map(({ hostId, name, status, message }) => ({ hostId, name, status, message }))
      .sort((x, y) => x.name.localeCompare(y.name));
    expect(reports).toEqual([
      { hostId: HOST_ID, name: "job-a", status: "CRITICAL", message: "job A failed: JobFailedError" },
      { hostId: HOST_ID, name: "job-b", status: "OK", message: "job B succeeded" },
    ]);
    expect(mackerel.openAlerts()).toEqual([expect.objectContaining({ checkName: "job-a", status: "CRITICAL" })]);
  });

  test("(b) Mackerel refuses for good (MackerelRejectedError): not retried, caught, the business workflow goes on", async () => {
    mackerel.injectFaults({
      mode: "status",
      status: 400,
      message: "metric refused by policy",
      pathPrefix: "/api/v0/services/orders/tsdb",
      count: 2,
    });
    const result = await run(JOBS_LAMBDA_INVOKE, { a: fails, b: succeeds });
    if (result.execution.status !== "SUCCEEDED") throw new Error(`execution ${JSON.stringify(result.execution)}`);
    const outputs = result.execution.output as { mackerelError?: { Error: string; Cause: string } }[];
    expect(outputs.map((o) => o.mackerelError?.Error)).toEqual(["MackerelRejectedError", "MackerelRejectedError"]);
    expect(outputs[0]!.mackerelError!.Cause).toContain("metric refused by policy");
    // One invocation per job: a refusal is never retried.
    expect(result.metricInvocations).toHaveLength(2);
    expect(mackerel.requests.filter((r) => r.path === "/api/v0/services/orders/tsdb")).toHaveLength(2);
  });

  test("MackerelUnavailableError is retried by the state machine until Mackerel is back", async () => {
    // Mackerel is down until the first invocation has given up (after its own in-call retries).
    mackerel.setOutage(true);
    const recovering = {
      invokeOrThrow: async (event: unknown) => {
        try {
          return await metric.invokeOrThrow(event);
        } catch (error) {
          mackerel.setOutage(false);
          throw error;
        }
      },
    };
    const result = await runDefinition(
      loadDefinition(JOBS, VARS),
      {},
      {
        metric: recovering,
        metricFunction: METRIC,
        tasks: { "Job A": fails, "Job B": succeeds },
      },
    );
    expect(result.execution.status).toBe("SUCCEEDED");
    const outcomes = result.metricInvocations.map((i) => (i.outcome.ok ? "ok" : i.outcome.errorType));
    const unavailable = outcomes.filter((o) => o === "MackerelUnavailableError").length;
    expect(unavailable).toBeGreaterThanOrEqual(1);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(2);
    expect(outcomes).toHaveLength(2 + unavailable);
    const retried = result.events.filter((e) => e.type === "StateRetried");
    expect(retried).toHaveLength(unavailable);
    expect(mackerel.requests.some((r) => r.fault === "outage")).toBe(true);
    expect(metricValues()).toEqual({ "jobs.failed.job_a": 1, "jobs.failed.job_b": 0 });
  });

  test.each([
    ["(a)", JOBS, "FAILED"],
    ["(b)", JOBS_LAMBDA_INVOKE, "SUCCEEDED"],
  ])(
    "%s MackerelRejectedError (unknown service) is not retried; without a Catch it fails the execution, with (b)'s it goes on",
    async (_variant, path, status) => {
      const result = await run(path, { a: fails, b: succeeds }, { service_name: "no-such-service" });
      expect(result.execution).toMatchObject(
        status === "FAILED" ? { status, error: "MackerelRejectedError" } : { status },
      );
      expect(result.metricInvocations.length).toBeLessThanOrEqual(2);
      expect(
        result.metricInvocations.every((i) => !i.outcome.ok && i.outcome.errorType === "MackerelRejectedError"),
      ).toBe(true);
      expect(result.events.filter((e) => e.type === "StateRetried")).toEqual([]);
      expect(mackerel.serviceMetrics()).toEqual([]);
    },
  );
});
