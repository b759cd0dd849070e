/**
 * The synthesized module under real terraform, offline: it validates, plans under for_each, and
 * refuses bad inputs at plan time with messages that name the variable.
 */
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { describeWithTerraform, expectCleanInit } from "../../support/terraform";

const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-api-key-AbCdEf";

describeWithTerraform("terraform: the module", () => {
  let forEach: TerraformWorkspace;

  beforeAll(() => {
    forEach = TerraformWorkspace.rootModule(`
module "mackerel" {
  source   = "../../modules/mackerel-serverless"
  for_each = toset(["blue", "green"])

  name               = "ms-\${each.key}"
  api_key_secret_arn = "${SECRET}"
  service_name       = "my-service"
}
output "metric_arns" { value = { for k, m in module.mackerel : k => m.metric_function_arn } }
output "host_ids" { value = { for k, m in module.mackerel : k => m.host_custom_identifier } }
`);
    expectCleanInit(forEach);
  });
  afterAll(() => forEach.remove());

  test("validates", () => {
    const result = forEach.validate();
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("The configuration is valid");
  });

  test("plans under for_each, one set of resources per key", () => {
    const { result, plan } = forEach.planJson();
    expect(result.stderr).toBe("");
    const changes = (
      plan!.resource_changes as { address: string; change: { after: Record<string, unknown> } }[]
    ).filter((c) => c.address.includes("aws_lambda_function.metric"));
    expect(changes.map((c) => c.address).sort()).toEqual([
      'module.mackerel["blue"].aws_lambda_function.metric',
      'module.mackerel["green"].aws_lambda_function.metric',
    ]);
    const blue = changes.find((c) => c.address.includes("blue"))!.change.after;
    expect(blue.function_name).toBe("ms-blue-metric");
    expect(blue.runtime).toBe("nodejs22.x");
    expect(blue.architectures).toEqual(["arm64"]);
    // The environment holds the spool's URL, known only after apply; the host identifier derived from
    // the secret ARN is known at plan time, through the module's output.
    const outputs = (plan!.planned_values as { outputs: Record<string, { value?: unknown }> }).outputs;
    expect(outputs.host_ids!.value).toEqual({
      blue: "mackerel-serverless/us-east-1/123456789012/ms-blue",
      green: "mackerel-serverless/us-east-1/123456789012/ms-green",
    });
  });

  test.each([
    ["service_name", `service_name = "-bad"`, "service_name: must be 2-63 characters"],
    [
      "api_key_secret_arn",
      `api_key_secret_arn = "not-an-arn"`,
      "api_key_secret_arn: must be a Secrets Manager secret ARN",
    ],
    ["lambda_runtime", `lambda_runtime = "nodejs20.x"`, "lambda_runtime: must be nodejs22.x"],
    ["lambda_architecture", `lambda_architecture = "sparc"`, "lambda_architecture: must be arm64 or x86_64"],
    ["mackerel_api_base_url", `mackerel_api_base_url = "ftp://x"`, "mackerel_api_base_url: must be an http(s) URL"],
    ["name", `name = "has spaces"`, "name: must be 1-40 characters"],
  ])("a bad %s fails at plan, naming the variable", (_variable, assignment, message) => {
    const defaults: Record<string, string> = {
      api_key_secret_arn: `api_key_secret_arn = "${SECRET}"`,
      service_name: `service_name = "my-service"`,
    };
    const key = assignment.split(" ")[0]!;
    const lines = { ...defaults, [key]: assignment };
    const workspace = TerraformWorkspace.rootModule(`
module "mackerel" {
  source = "../../modules/mackerel-serverless"
  ${Object.values(lines).join("\n  ")}
}
`);
    try {
      expect(workspace.init().status).toBe(0);
      const result = workspace.plan();
      expect(result.status).not.toBe(0);
      expect(result.stderr.replace(/\s+/g, " ")).toContain(message);
    } finally {
      workspace.remove();
    }
  });
});
