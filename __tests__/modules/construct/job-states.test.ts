/**
 * The Step Functions helpers: `jobStates()` (CDKTF) and the `modules/sfn-job-states` Terraform module
 * produce the same states; the definitions built from them are valid ASL and, executed with the metric
 * Task bound to the BUILT metric function, post 1 for a failed job and 0 for a succeeded one.
 */
import type { StateMachineDefinition } from "aws-local-stepfunctions";
import { jobStates, METRIC_TASK_RETRY } from "../../../modules/construct/step-functions";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { LocalAwsJsonServer, secretsManagerHandlers } from "../../../scripts/local/aws-json-server";
import { LocalLambda } from "../../../scripts/local/lambda-runner";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";
import { runDefinition, validateDefinition } from "../../../scripts/local/step-functions";
import { describeWithTerraform } from "../../support/terraform";

const METRIC = { arn: "arn:aws:lambda:us-east-1:123456789012:function:jobs-metric", name: "jobs-metric" };
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:jobs-AbCdEf";
const KEY = "job-states-test-key";

/** Extract then Load, chained with `next`; both are Tasks the tests bind to local handlers. */
function sequentialDefinition(): StateMachineDefinition {
  return {
    StartAt: "Extract",
    States: {
      ...jobStates({
        name: "Extract",
        state: { Type: "Task", Resource: "arn:aws:lambda:us-east-1:123456789012:function:extract" },
        metricFunctionArn: METRIC.arn,
        metricName: "jobs.extract.failed",
        next: "Load",
      }),
      ...jobStates({
        name: "Load",
        state: { Type: "Task", Resource: "arn:aws:lambda:us-east-1:123456789012:function:load" },
        metricFunctionArn: METRIC.arn,
        metricName: "jobs.load.failed",
        serviceName: "warehouse",
      }),
    },
  } as unknown as StateMachineDefinition;
}

describe("jobStates()", () => {
  test("wires the job's Catch and Next, the two Pass states and the metric Task with the recommended Retry", () => {
    const states = jobStates({
      name: "Extract",
      state: { Type: "Task", Resource: "arn:aws:lambda:us-east-1:123456789012:function:extract" },
      metricFunctionArn: METRIC.arn,
      metricName: "jobs.extract.failed",
    });
    expect(states).toEqual({
      Extract: {
        Type: "Task",
        Resource: "arn:aws:lambda:us-east-1:123456789012:function:extract",
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "ExtractFailed" }],
        Next: "ExtractSucceeded",
      },
      ExtractFailed: {
        Type: "Pass",
        Result: { "metric-name": "jobs.extract.failed", "metric-value": 1 },
        ResultPath: "$",
        Next: "ExtractPostMetric",
      },
      ExtractSucceeded: {
        Type: "Pass",
        Result: { "metric-name": "jobs.extract.failed", "metric-value": 0 },
        ResultPath: "$",
        Next: "ExtractPostMetric",
      },
      ExtractPostMetric: { Type: "Task", Resource: METRIC.arn, Retry: METRIC_TASK_RETRY, End: true },
    });
    // Refusals must not be retried: they cannot succeed.
    const retried = METRIC_TASK_RETRY.flatMap((r) => r.ErrorEquals);
    expect(retried).not.toContain("MackerelValidationError");
    expect(retried).not.toContain("MackerelRejectedError");
    expect(retried).not.toContain("States.ALL");
  });

  test("refuses a job state that cannot Catch", () => {
    expect(() =>
      jobStates({ name: "Wait", state: { Type: "Wait", Seconds: 1 }, metricFunctionArn: METRIC.arn, metricName: "x" }),
    ).toThrow("jobStates(Wait): state.Type must be Task, Parallel, Map (states that can Catch), got Wait");
  });

  test("the definition it builds is valid ASL", () => {
    expect(validateDefinition(sequentialDefinition())).toEqual({ isValid: true, errors: [] });
  });
});

describe("jobStates() executed against the built metric function", () => {
  let mackerel: LocalMackerelServer;
  let secrets: LocalAwsJsonServer;
  let metric: LocalLambda;

  beforeAll(async () => {
    mackerel = await LocalMackerelServer.start({ apiKeys: [KEY], services: ["orders", "warehouse"] });
    secrets = await LocalAwsJsonServer.start(secretsManagerHandlers(new Map([[SECRET_ARN, KEY]])));
    metric = await LocalLambda.start("metric", {
      env: {
        MACKEREL_API_KEY_SECRET_ARN: SECRET_ARN,
        MACKEREL_API_BASE_URL: mackerel.url,
        MACKEREL_SERVICE_NAME: "orders",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      },
    });
  });
  afterAll(async () => {
    await metric?.stop();
    await secrets?.close();
    await mackerel?.close();
  });
  beforeEach(() => mackerel.reset());

  const failing = () => {
    const error = new Error("extract failed");
    error.name = "ExtractError";
    throw error;
  };

  test.each([
    ["fails", 1, failing],
    ["succeeds", 0, () => ({ rows: 3 })],
  ])(
    "when the first job %s, its metric is %d, the next job still runs and posts 0",
    async (_label, expected, extract) => {
      const result = await runDefinition(
        sequentialDefinition(),
        {},
        {
          metric,
          metricFunction: METRIC,
          tasks: { Extract: extract, Load: () => ({ loaded: true }) },
        },
      );
      expect(result.execution.status).toBe("SUCCEEDED");
      expect(mackerel.serviceMetrics().map(({ service, name, value }) => ({ service, name, value }))).toEqual([
        { service: "orders", name: "jobs.extract.failed", value: expected },
        { service: "warehouse", name: "jobs.load.failed", value: 0 },
      ]);
    },
  );
});

describeWithTerraform("terraform: modules/sfn-job-states", () => {
  test("gives the same states as jobStates() for the same inputs", () => {
    const workspace = TerraformWorkspace.create({
      at: "examples/scratch",
      files: {
        "main.tf": `
module "extract" {
  source              = "../../modules/sfn-job-states"
  name                = "Extract"
  state               = { Type = "Task", Resource = "arn:aws:lambda:us-east-1:123456789012:function:extract" }
  metric_function_arn = "${METRIC.arn}"
  metric_name         = "jobs.extract.failed"
  next                = "Load"
}
module "load" {
  source              = "../../modules/sfn-job-states"
  name                = "Load"
  state               = { Type = "Task", Resource = "arn:aws:lambda:us-east-1:123456789012:function:load" }
  metric_function_arn = "${METRIC.arn}"
  metric_name         = "jobs.load.failed"
  service_name        = "warehouse"
}
output "definition" {
  value = jsonencode({ StartAt = "Extract", States = merge(module.extract.states, module.load.states) })
}
`,
      },
    });
    try {
      expect(workspace.init().status).toBe(0);
      // No resources: apply only evaluates the outputs, offline.
      const apply = workspace.run(["apply", "-auto-approve", "-input=false", "-no-color"]);
      expect(apply.stderr).toBe("");
      const output = workspace.run(["output", "-raw", "definition"]);
      expect(JSON.parse(output.stdout)).toEqual(sequentialDefinition());
    } finally {
      workspace.remove();
    }
  });

  test.each([
    [
      "metric_name",
      '{ Type = "Task", Resource = "arn:aws:lambda:us-east-1:123456789012:function:x" }',
      "jobs failed!",
      "metric_name: must match [a-zA-Z0-9._-]+",
    ],
    [
      "state",
      '{ Type = "Pass" }',
      "jobs.x.failed",
      "state: must be an Amazon States Language Task, Parallel or Map state",
    ],
  ])("refuses a bad %s at plan, naming the variable", (_variable, state, metricName, message) => {
    const workspace = TerraformWorkspace.create({
      at: "examples/scratch",
      files: {
        "main.tf": `
module "bad" {
  source              = "../../modules/sfn-job-states"
  name                = "Bad"
  state               = ${state}
  metric_function_arn = "${METRIC.arn}"
  metric_name         = "${metricName}"
}
`,
      },
    });
    try {
      expect(workspace.init().status).toBe(0);
      const plan = workspace.plan();
      expect(plan.status).not.toBe(0);
      expect(plan.stderr.replace(/\s+/g, " ")).toContain(message);
    } finally {
      workspace.remove();
    }
  });
});
