/**
 * The README's Terraform path as a new user copies it: step 1's secret is what the module and step 2's
 * CLI command name, and the step-1 and `sfn-job-states` snippets (sources pointed at this checkout, the
 * user's own resources they mention stubbed) plan together offline.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../../scripts/lib/bundle";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { describeWithTerraform, expectCleanInit } from "../../support/terraform";

const README = readFileSync(join(ROOT, "README.md"), "utf8");
const section = README.slice(README.indexOf("## Using the module from Terraform"), README.indexOf("## Log monitoring"));
/** The fenced blocks of one language in the section, in order (indentation of list items removed). */
const blocks = (lang: string) =>
  [...section.matchAll(new RegExp("^( *)```" + lang + "\\n([\\s\\S]*?)^\\1```", "gm"))].map((m) =>
    m[2]!.replace(new RegExp(`^${m[1]}`, "gm"), ""),
  );

test("one secret path: step 1 creates the secret that the module and step 2's command name", () => {
  const [setup] = blocks("hcl");
  const [resource, name] = /resource "aws_secretsmanager_secret" "([a-z_]+)" \{\s+name\s+= "([^"]+)"/
    .exec(setup!)!
    .slice(1);
  expect(setup).toContain(`api_key_secret_arn  = aws_secretsmanager_secret.${resource}.arn`);
  expect(blocks("sh")[0]).toContain(`put-secret-value --secret-id ${name} `);
});

describeWithTerraform("terraform: the README's snippets", () => {
  test("step 1 and the sfn-job-states snippet plan together", () => {
    const hcl = blocks("hcl")
      .join("\n")
      .replace(
        /git::https:\/\/github\.com\/<owner>\/mackerel-serverless\.git\/\/(modules\/[a-z-]+)\?ref=v[0-9.]+/g,
        "../../$1",
      );
    // What the snippets reference from the user's own configuration.
    const stubs = `
resource "aws_sns_topic" "ops" { name = "ops" }
resource "aws_iam_role" "jobs" {
  name               = "jobs"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }] })
}
resource "aws_lambda_function" "extract" {
  function_name = "extract"
  role          = aws_iam_role.jobs.arn
  handler       = "index.handler"
  runtime       = "nodejs22.x"
  filename      = "../../modules/mackerel-serverless/dist/metric.zip"
}
resource "aws_lambda_function" "load" {
  function_name = "load"
  role          = aws_iam_role.jobs.arn
  handler       = "index.handler"
  runtime       = "nodejs22.x"
  filename      = "../../modules/mackerel-serverless/dist/metric.zip"
}
`;
    const workspace = TerraformWorkspace.rootModule(hcl.replace(/^# \.\.\..*$/m, "") + stubs, "examples/readme");
    try {
      expectCleanInit(workspace);
      const { result, plan } = workspace.planJson();
      expect(result.stderr).toBe("");
      const addresses = (plan!.resource_changes as { address: string }[]).map((c) => c.address);
      expect(addresses).toEqual(
        expect.arrayContaining([
          "aws_secretsmanager_secret.mackerel_api_key",
          "aws_sfn_state_machine.nightly",
          "module.mackerel.aws_lambda_function.metric",
        ]),
      );
    } finally {
      workspace.remove();
    }
  });
});
