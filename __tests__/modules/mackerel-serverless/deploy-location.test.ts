/**
 * Where the module's resources are comes from the provider, never from the API key secret's ARN: with the
 * provider in ap-northeast-1 (account 123456789012, learnt from the local STS stand-in, as from AWS) and a
 * secret shared from us-east-1 of account 210987654321, every ARN the module composes for its own resources
 * is in ap-northeast-1 / 123456789012, and only the secret statement names the secret. Partial secret ARNs
 * are granted AWS's documented `<arn>-??????`. A log rule and a check of the same name fail the plan.
 */
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { describeWithTerraform, expectCleanInit } from "../../support/terraform";

const REGION = "ap-northeast-1";
const ACCOUNT = "123456789012";
const SECRET = "arn:aws:secretsmanager:us-east-1:210987654321:secret:shared/mackerel-api-key-Xy12Ab";
const KMS = "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab";

type Change = { address: string; type: string; change: { after: Record<string, unknown> } };

function moduleBlock(secret: string, extra = ""): string {
  return `
module "mackerel" {
  source              = "../../modules/mackerel-serverless"
  name                = "xr"
  api_key_secret_arn  = "${secret}"
  api_key_kms_key_arn = "${KMS}"
  service_name        = "shop"
  log_subscriptions   = [{ log_group_name = "/aws/lambda/orders" }]
  log_freshness_checks = [{ name = "orders-fresh", log_group_name = "/aws/lambda/orders", max_age_minutes = 30 }]
  logs_insights_checks = [{ name = "errors", log_group_names = ["/aws/lambda/orders"], query = "fields @message" }]
  ${extra}
}
output "host" { value = module.mackerel.host_custom_identifier }
`;
}

/** Every string in a value (policies decoded), with the path to it. */
function strings(value: unknown, path = ""): [string, string][] {
  if (typeof value === "string") {
    if (value.startsWith("{")) {
      try {
        return strings(JSON.parse(value), path);
      } catch {
        // not JSON: a plain string
      }
    }
    return [[path, value]];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => strings(v, `${path}.${k}`));
  return [];
}

describeWithTerraform("terraform: the module's ARNs come from the provider", () => {
  let workspace: TerraformWorkspace;
  let changes: Change[];
  let outputs: Record<string, { value?: unknown }>;

  beforeAll(() => {
    workspace = TerraformWorkspace.rootModule(moduleBlock(SECRET), "examples/scratch", {
      region: REGION,
      accountId: ACCOUNT,
    });
    expectCleanInit(workspace);
    const { result, plan } = workspace.planJson();
    expect(result.stderr).toBe("");
    changes = plan!.resource_changes as Change[];
    outputs = (plan!.planned_values as { outputs: Record<string, { value?: unknown }> }).outputs;
  });
  afterAll(() => workspace.remove());

  test("every ARN the module composes is in the provider's region and account; only the secret's own are not", () => {
    const arns = changes.flatMap((c) => strings(c.change.after, c.address).filter(([, s]) => s.startsWith("arn:")));
    // Enough ARNs to mean something: permissions, subscriptions, policies.
    expect(arns.length).toBeGreaterThan(8);
    const foreign = arns.filter(([, arn]) => {
      const [, partition, , region, account] = arn.split(":");
      return partition !== "aws" || (region !== "" && region !== REGION) || (account !== "" && account !== ACCOUNT);
    });
    // What is left is the secret and its key, in the statements that read them.
    expect([...new Set(foreign.map(([, arn]) => arn))].sort()).toEqual([KMS, SECRET]);
    for (const [path] of foreign) expect(path).toMatch(/\.policy\.Statement\[\d+\]\.Resource$/);
  });

  test("the schedules' permission, the subscriptions' permission and source account name the provider's", () => {
    const after = (address: string) => changes.find((c) => c.address === address)!.change.after;
    expect(after("module.mackerel.aws_lambda_permission.check_schedules[0]")).toMatchObject({
      source_arn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/xr-check-*`,
    });
    expect(after('module.mackerel.aws_lambda_permission.log_subscription["/aws/lambda/orders"]')).toMatchObject({
      source_arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/orders:*`,
      source_account: ACCOUNT,
    });
    const checks = JSON.parse(
      after("module.mackerel.aws_iam_role_policy.check_function_checked_resources[0]").policy as string,
    ) as { Statement: { Sid: string; Resource: unknown }[] };
    expect(checks.Statement.find((s) => s.Sid === "FilterFreshnessLogGroups")!.Resource).toEqual([
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/orders`,
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/orders:*`,
    ]);
  });

  test("the host's default custom identifier names the provider's region and account", () => {
    expect(outputs.host!.value).toBe(`mackerel-serverless/${REGION}/${ACCOUNT}/xr`);
  });

  test("KMS may decrypt only through Secrets Manager in the secret's region", () => {
    const policy = JSON.parse(
      changes.find((c) => c.address === "module.mackerel.aws_iam_role_policy.metric_function")!.change.after
        .policy as string,
    ) as { Statement: { Sid: string; Condition?: unknown }[] };
    expect(policy.Statement.find((s) => s.Sid === "DecryptMackerelApiKey")!.Condition).toEqual({
      StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" },
    });
  });
});

describeWithTerraform("terraform: complete and partial secret ARNs", () => {
  /** The Resource of the statement that reads the key, in every function's policy. */
  function secretResources(secret: string): unknown[] {
    const workspace = TerraformWorkspace.rootModule(moduleBlock(secret));
    try {
      expectCleanInit(workspace);
      const { result, plan } = workspace.planJson();
      expect(result.stderr).toBe("");
      const policies = (plan!.resource_changes as Change[]).filter(
        (c) => c.type === "aws_iam_role_policy" && /_function$/.test(c.address),
      );
      expect(policies).toHaveLength(4);
      return policies.map(
        (c) =>
          (
            JSON.parse(c.change.after.policy as string) as { Statement: { Sid: string; Resource: unknown }[] }
          ).Statement.find((s) => s.Sid === "ReadMackerelApiKey")!.Resource,
      );
    } finally {
      workspace.remove();
    }
  }

  test("a complete ARN (with the 6-character suffix) is granted exactly", () => {
    expect(new Set(secretResources(SECRET))).toEqual(new Set([SECRET]));
  });

  test("a partial ARN (the secret's name only) is granted AWS's form for it, <arn>-??????", () => {
    const partial = "arn:aws:secretsmanager:us-east-1:210987654321:secret:mackerel-api-key";
    expect(new Set(secretResources(partial))).toEqual(new Set([`${partial}-??????`]));
  });
});

describeWithTerraform("terraform: a log rule and a check of the same name", () => {
  test("fail the plan, naming both variables and the name", () => {
    const workspace = TerraformWorkspace.rootModule(
      moduleBlock(SECRET, `log_rules = [{ name = "errors", include = ["ERROR"] }]`),
    );
    try {
      expectCleanInit(workspace);
      const result = workspace.plan();
      expect(result.status).not.toBe(0);
      const message = result.stderr.replace(/\s+/g, " ");
      expect(message).toContain("log_rules");
      expect(message).toContain("logs_insights_checks");
      expect(message).toContain("repeated: errors");
    } finally {
      workspace.remove();
    }
  });
});
