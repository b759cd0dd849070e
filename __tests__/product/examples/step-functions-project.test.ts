/**
 * examples/step-functions: the Terraform root project's files, and its plan offline.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import {
  loadDefinition,
  startValidationServerProcess,
  type ValidationServerProcess,
} from "../../../scripts/local/step-functions";
import { describeWithTerraform, expectCleanInit } from "../../support/terraform";
import { expectRootProject } from "../../support/examples";
import { EXAMPLE, JOBS, JOBS_LAMBDA_INVOKE, TEMPLATES, TF_VARS, VARS } from "./step-functions-support";

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
