/** Helpers of the scheduled checks module suites: a root module around the module, planned offline. */
import type { Json } from "../../support/construct";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";

export type Change = { address: string; change: { after: Json; after_unknown?: Json } };
export type Statement = { Sid: string; Action: string[]; Resource: string | string[] };

export const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mackerel-api-key-AbCdEf";
export const SFN = "arn:aws:states:eu-west-1:123456789012:stateMachine:orders";
export const LOGS = "arn:aws:logs:eu-west-1:123456789012:log-group:";

export function root(moduleArguments: string): TerraformWorkspace {
  return TerraformWorkspace.rootModule(
    `
module "mackerel" {
  source             = "../../modules/mackerel-serverless"
  name               = "ms"
  api_key_secret_arn = "${SECRET}"
  service_name       = "shop"
${moduleArguments}
}
`,
    "examples/scratch-checks",
    { region: "eu-west-1" },
  );
}

export function plan(moduleArguments: string): Change[] {
  const workspace = root(moduleArguments);
  try {
    expect(workspace.init().status).toBe(0);
    const { result, plan } = workspace.planJson();
    expect(result.stderr).toBe("");
    return plan!.resource_changes as Change[];
  } finally {
    workspace.remove();
  }
}

export const find = (changes: Change[], address: string) =>
  changes.find((c) => c.address === `module.mackerel.${address}`)?.change;
