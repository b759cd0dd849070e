/**
 * The scheduled checks in the Terraform module, planned offline: the check function's role gets only
 * what the configured checks need on only their resources (statements absent when their list is
 * empty), vpc_config places the function in subnets with the ENI permissions, and no check means no
 * invoke permission. Also the construct with literal items (CDKTF users).
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack, Testing } from "cdktf";
import { inlineLocals } from "../../support/locals";
import { MackerelServerless, type MackerelServerlessProps } from "../../../modules/construct";
import { synthUserStack } from "../../support/construct";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { describeWithTerraform } from "../../support/terraform";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Change = { address: string; change: { after: Json; after_unknown?: Json } };
type Statement = { Sid: string; Action: string[]; Resource: string | string[] };

const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mackerel-api-key-AbCdEf";
const SFN = "arn:aws:states:eu-west-1:123456789012:stateMachine:orders";
const LOGS = "arn:aws:logs:eu-west-1:123456789012:log-group:";

/** A root module calling the module with `moduleArguments`, beside the user's own `resources`. */
function root(moduleArguments: string, resources = ""): TerraformWorkspace {
  return TerraformWorkspace.rootModule(
    `${resources}
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

function plan(moduleArguments: string, resources?: string): Change[] {
  const workspace = root(moduleArguments, resources);
  try {
    expect(workspace.init().status).toBe(0);
    const { result, plan } = workspace.planJson();
    expect(result.stderr).toBe("");
    return plan!.resource_changes as Change[];
  } finally {
    workspace.remove();
  }
}

const find = (changes: Change[], address: string) =>
  changes.find((c) => c.address === `module.mackerel.${address}`)?.change;

describeWithTerraform("terraform: the scheduled checks' permissions", () => {
  test("each statement names only the configured resources; GetQueryResults/StopQuery are * as AWS requires", () => {
    const changes = plan(`
  logs_insights_checks = [
    { name = "errors", log_group_names = ["/aws/lambda/a", "/aws/lambda/b"], query = "fields @message" },
    { name = "more", log_group_names = ["/aws/lambda/b"], query = "fields @message" },
  ]
  http_checks          = [{ name = "web", url = "https://example.com/" }]
  sfn_execution_checks = [{ name = "orders", state_machine_arn = "${SFN}" }]
  log_freshness_checks = [{ name = "alive", log_group_name = "/ingest", max_age_minutes = 10 }]
`);
    const policy = JSON.parse(
      String(find(changes, "aws_iam_role_policy.check_function_checked_resources[0]")!.after.policy),
    ) as {
      Statement: Statement[];
    };
    expect(policy.Statement).toEqual([
      {
        Sid: "StartLogsInsightsQueries",
        Effect: "Allow",
        Action: ["logs:StartQuery"],
        Resource: [`${LOGS}/aws/lambda/a`, `${LOGS}/aws/lambda/b`, `${LOGS}/aws/lambda/a:*`, `${LOGS}/aws/lambda/b:*`],
      },
      {
        Sid: "ReadAndStopLogsInsightsQueries",
        Effect: "Allow",
        Action: ["logs:GetQueryResults", "logs:StopQuery"],
        Resource: "*",
      },
      { Sid: "ListStateMachineExecutions", Effect: "Allow", Action: ["states:ListExecutions"], Resource: [SFN] },
      {
        Sid: "FilterFreshnessLogGroups",
        Effect: "Allow",
        Action: ["logs:FilterLogEvents"],
        Resource: [`${LOGS}/ingest`, `${LOGS}/ingest:*`],
      },
    ]);
    expect(find(changes, "aws_lambda_permission.check_schedules[0]")!.after).toMatchObject({
      principal: "events.amazonaws.com",
      source_arn: "arn:aws:events:eu-west-1:123456789012:rule/ms-check-*",
    });
    expect(find(changes, 'aws_cloudwatch_event_rule.http_check["web"]')!.after.name).toBe("ms-check-web");
  });

  test("only the statements of the kinds configured; an HTTP check alone needs no AWS access", () => {
    const sfnOnly = plan(`sfn_execution_checks = [{ name = "orders", state_machine_arn = "${SFN}" }]`);
    const statements = (
      JSON.parse(String(find(sfnOnly, "aws_iam_role_policy.check_function_checked_resources[0]")!.after.policy)) as {
        Statement: Statement[];
      }
    ).Statement;
    expect(statements.map((s) => s.Sid)).toEqual(["ListStateMachineExecutions"]);

    const httpOnly = plan(`http_checks = [{ name = "web", url = "https://example.com/" }]`);
    expect(find(httpOnly, "aws_iam_role_policy.check_function_checked_resources[0]")).toBeUndefined();
    expect(find(httpOnly, "aws_lambda_permission.check_schedules[0]")).toBeDefined();
  });

  test("headers_secret_arn: GetSecretValue on exactly the secrets the HTTP checks name; the rule input holds the ARN only", () => {
    const a = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-auth-AbCdEf";
    const b = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-auth-GhIjKl";
    const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const changes = plan(`
  http_checks = [
    { name = "web", url = "https://example.com/", headers_secret_arn = "${a}" },
    { name = "web2", url = "https://example.com/2", headers_secret_arn = "${a}" },
    { name = "api", url = "https://api.example.com/health", headers_secret_arn = "${b}", headers_secret_kms_key_arn = "${key}", headers = { "X-Trace" = "1" } },
    { name = "open", url = "https://example.com/open" },
  ]
`);
    // In the function's own policy, which always exists (a secret made in the same apply is unknown at plan,
    // so it cannot decide whether a policy exists): after the API key's statements, exactly these secrets.
    const statements = (
      JSON.parse(String(find(changes, "aws_iam_role_policy.check_function")!.after.policy)) as {
        Statement: Statement[];
      }
    ).Statement;
    expect(statements.filter((s) => s.Sid === "ReadHttpCheckHeadersSecrets")).toEqual([
      {
        Sid: "ReadHttpCheckHeadersSecrets",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [a, b],
      },
    ]);
    // The one customer-managed key a check names: kms:Decrypt on it, through Secrets Manager only.
    expect(statements.filter((s) => s.Sid === "DecryptHttpCheckHeadersSecrets")).toEqual([
      {
        Sid: "DecryptHttpCheckHeadersSecrets",
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: [key],
        Condition: { StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } },
      },
    ]);
    // HTTP checks need no other AWS access: no checked-resources policy.
    expect(find(changes, "aws_iam_role_policy.check_function_checked_resources[0]")).toBeUndefined();
    const input = JSON.parse(String(find(changes, 'aws_cloudwatch_event_target.http_check["api"]')!.after.input)) as {
      check: Record<string, unknown>;
    };
    expect(input.check).toMatchObject({ kind: "http", headers_secret_arn: b, headers: { "X-Trace": "1" } });
    // Only the statement above names a credentials secret.
    const own = String(find(changes, "aws_iam_role_policy.check_function")!.after.policy);
    expect(own.match(/web-auth/g)).toHaveLength(1);
  });

  test("resources created in the same apply (a credentials secret, an OpenSearch domain) plan: nothing's existence depends on them", () => {
    const changes = plan(
      `
  http_checks = [{ name = "web", url = "https://example.com/", headers_secret_arn = aws_secretsmanager_secret.web_auth.arn }]
  opensearch_query_checks = [{ name = "es", endpoint = "https://\${aws_opensearch_domain.logs.endpoint}", index = "logs-*", query = "level:ERROR" }]
`,
      `
resource "aws_secretsmanager_secret" "web_auth" {
  name = "web-auth"
}

resource "aws_opensearch_domain" "logs" {
  domain_name = "shop-logs"
}
`,
    );
    // Known only at apply: the two policies that name the new resources; both are planned.
    expect(find(changes, "aws_iam_role_policy.check_function")!.after_unknown!.policy).toBe(true);
    expect(find(changes, "aws_iam_role_policy.check_function_checked_resources[0]")!.after_unknown!.policy).toBe(true);
    expect(find(changes, 'aws_cloudwatch_event_target.opensearch_query_check["es"]')).toBeDefined();
  });

  test.each([
    [
      "a url with user info",
      `{ name = "creds", url = "https://user:pass@example.com/" }`,
      "http_checks: the url of creds holds user info (user:password@), which is refused. Put the credentials in a Secrets Manager secret",
    ],
    [
      "an Authorization header",
      `{ name = "bearer", url = "https://example.com/", headers = { authorization = "Bearer x" } }`,
      "http_checks: headers of bearer set Authorization, Proxy-Authorization or Cookie",
    ],
    [
      "a headers_secret_arn that is not a secret ARN",
      `{ name = "bad", url = "https://example.com/", headers_secret_arn = "web-auth" }`,
      "http_checks: headers_secret_arn must be a Secrets Manager secret ARN",
    ],
    [
      "a headers_secret_kms_key_arn that is not a key ARN",
      `{ name = "bad", url = "https://example.com/", headers_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-AbCdEf", headers_secret_kms_key_arn = "alias/web" }`,
      "http_checks: headers_secret_kms_key_arn must be a KMS key ARN",
    ],
    [
      "a headers_secret_kms_key_arn without a secret",
      `{ name = "bad", url = "https://example.com/", headers_secret_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd" }`,
      "http_checks: headers_secret_kms_key_arn is set without headers_secret_arn",
    ],
  ])("plan refuses %s, naming the check and the supported way", (_what, item, message) => {
    const workspace = root(`  http_checks = [${item}, { name = "fine", url = "https://example.com/" }]`);
    try {
      expect(workspace.init().status).toBe(0);
      const result = workspace.plan();
      expect(result.status).not.toBe(0);
      expect(result.stderr.replace(/\s+/g, " ")).toContain(message);
    } finally {
      workspace.remove();
    }
  });

  test("no checks: no check rules, no check invoke permission, no checked-resources policy (only the tick)", () => {
    const changes = plan("");
    const checkResources = changes.filter(
      (c) =>
        /event_rule|event_target|lambda_permission\.check|checked_resources/.test(c.address) &&
        !/\.tick\b/.test(c.address),
    );
    expect(checkResources).toEqual([]);
    // The per-minute tick (log counts, recoveries, heartbeat) is always there.
    expect(
      changes.filter((c) => /\.tick\b/.test(c.address)).map((c) => c.address.replace(/^module\.\w+\./, "")),
    ).toEqual(expect.arrayContaining(["aws_cloudwatch_event_rule.tick", "aws_lambda_permission.tick"]));
    expect(find(changes, "aws_lambda_function.check")!.after.vpc_config).toEqual([]);
  });

  test("vpc_config places the function in the subnets, with the ENI permissions", () => {
    const changes = plan(`
  http_checks = [{ name = "internal", url = "http://10.0.0.5/health" }]
  vpc_config  = { subnet_ids = ["subnet-0a1b2c"], security_group_ids = ["sg-0d1e2f"] }
`);
    expect(find(changes, "aws_lambda_function.check")!.after.vpc_config).toEqual([
      expect.objectContaining({ subnet_ids: ["subnet-0a1b2c"], security_group_ids: ["sg-0d1e2f"] }),
    ]);
    // The ENI statement is in the function's own policy (it needs the log group's ARN, known after apply),
    // so it is checked in the synthesized expression below.
  });

  test("a long name is cut to EventBridge's 64 characters with a hash, and stays unique", () => {
    const long = "a".repeat(60);
    const changes = plan(`http_checks = [
    { name = "${long}-one", url = "https://example.com/" },
    { name = "${long}-two", url = "https://example.com/" },
  ]`);
    const names = changes
      .filter((c) => c.address.includes("aws_cloudwatch_event_rule.http_check"))
      .map((c) => String(c.change.after.name));
    expect(names).toHaveLength(2);
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(64);
      expect(name.startsWith("ms-check-")).toBe(true);
    }
    expect(new Set(names).size).toBe(2);
  });
});

describe("synthesized: the check function's own policy", () => {
  function synthModule(): Json {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { MackerelServerlessModuleStack } = require("../../../modules/construct/module-stack");
    return inlineLocals(JSON.parse(Testing.synth(new MackerelServerlessModuleStack(Testing.app(), "m"))) as Json);
  }

  test("the ENI statement exists only when vpc_config is set, and the function gets a dynamic vpc_config", () => {
    const tf = synthModule();
    const policy = String(tf.resource.aws_iam_role_policy.check_function.policy);
    expect(policy).toContain('(var.vpc_config != null) ? [{"Sid" = "ManageVpcNetworkInterfaces"');
    for (const action of [
      "ec2:CreateNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets",
      "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ]) {
      expect(policy).toContain(`"${action}"`);
    }
    expect(tf.resource.aws_lambda_function.check.dynamic.vpc_config.for_each).toBe(
      "${(var.vpc_config != null) ? [var.vpc_config] : []}",
    );
  });
});

/** The construct as a CDKTF user writes it, with literal props: its synthesized JSON, locals inlined. */
const synth = (props: Partial<MackerelServerlessProps>): Json =>
  synthUserStack({ apiKeySecretArn: SECRET, serviceName: "shop", ...props });

describe("the construct with literal items (CDKTF users)", () => {
  test("rules keyed by name, defaults left to the function; statements only for configured kinds", () => {
    const tf = synth({
      httpChecks: [{ name: "web", url: "https://example.com/" }],
      logFreshnessChecks: [{ name: "alive", logGroupName: "/ingest", maxAgeMinutes: 10, schedule: "rate(2 minutes)" }],
      vpcConfig: { subnetIds: ["subnet-1"], securityGroupIds: ["sg-1"] },
    });
    const rules = tf.resource.aws_cloudwatch_event_rule as Json;
    expect(rules.http_check.for_each).toEqual({ web: { name: "web", url: "https://example.com/" } });
    expect(rules.http_check.schedule_expression).toBe('${coalesce(try(each.value.schedule, null), "rate(1 minute)")}');
    expect(tf.resource.aws_cloudwatch_event_target.http_check.input).toBe(
      '${jsonencode({"check" = merge(each.value, {"kind" = "http"})})}',
    );
    expect(rules.logs_insights_check.for_each).toEqual({});
    expect(tf.resource.aws_lambda_permission.check_schedules.count).toBe(1);
    const checked = String(tf.resource.aws_iam_role_policy.check_function_checked_resources.policy);
    expect(checked).toContain("FilterFreshnessLogGroups");
    expect(checked).not.toContain("StartLogsInsightsQueries");
    expect(checked).not.toContain("ListStateMachineExecutions");
    expect(tf.resource.aws_lambda_function.check.vpc_config).toEqual({
      subnet_ids: ["subnet-1"],
      security_group_ids: ["sg-1"],
    });
  });
});

test("literal HTTP items with headersSecretArn: GetSecretValue on exactly those secrets", () => {
  const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-auth-AbCdEf";
  const tf = synth({
    httpChecks: [
      { name: "web", url: "https://example.com/", headersSecretArn: arn },
      { name: "web2", url: "https://example.com/2", headersSecretArn: arn },
      { name: "open", url: "https://example.com/open" },
    ],
  });
  const policy = String(tf.resource.aws_iam_role_policy.check_function.policy);
  expect(policy).toContain('"Sid" = "ReadHttpCheckHeadersSecrets"');
  expect(policy).toContain(`"Resource" = ["${arn}"]`);
  // No check names a customer-managed key: no kms:Decrypt beyond the API key's.
  expect(policy).not.toContain("DecryptHttpCheckHeadersSecrets");
  // HTTP checks need no other AWS access.
  expect(tf.resource.aws_iam_role_policy.check_function_checked_resources).toBeUndefined();
});

test("literal HTTP items with headersSecretKmsKeyArn: kms:Decrypt on that key through Secrets Manager; a bad one fails at synth", () => {
  const secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-auth-AbCdEf";
  const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  const synthWeb = (item: { headersSecretArn?: string; headersSecretKmsKeyArn?: string }) =>
    synth({ httpChecks: [{ name: "web", url: "https://example.com/", ...item }] });
  const policy = String(
    synthWeb({ headersSecretArn: secret, headersSecretKmsKeyArn: key }).resource.aws_iam_role_policy.check_function
      .policy,
  );
  expect(policy).toContain('"Sid" = "DecryptHttpCheckHeadersSecrets"');
  expect(policy).toContain(`"Resource" = ["${key}"]`);
  expect(policy).toContain('"kms:ViaService" = "secretsmanager.*.amazonaws.com"');
  expect(() => synthWeb({ headersSecretArn: secret, headersSecretKmsKeyArn: "alias/web" })).toThrow(
    "httpChecks[0].headersSecretKmsKeyArn: must be a KMS key ARN",
  );
  expect(() => synthWeb({ headersSecretKmsKeyArn: key })).toThrow(
    "httpChecks[0].headersSecretKmsKeyArn: is set without headers_secret_arn",
  );
});

describeWithTerraform("terraform: literal items from a CDKTF stack", () => {
  test("plan: one rule per item, the item (as written) plus kind as the input, defaults for the schedule", () => {
    const stack = new TerraformStack(Testing.app(), "user-stack");
    new AwsProvider(stack, "aws", {
      region: "eu-west-1",
      accessKey: "offline",
      secretKey: "offline",
      skipCredentialsValidation: true,
      skipRequestingAccountId: true,
      skipMetadataApiCheck: "true",
    });
    new MackerelServerless(stack, "mackerel", {
      name: "cdk",
      apiKeySecretArn: SECRET,
      serviceName: "shop",
      code: (fn) => ({ filename: `build/${fn}.zip`, sourceCodeHash: `hash-of-${fn}` }),
      httpChecks: [{ name: "web", url: "https://example.com/", expectedStatus: [200, 204] }],
      sfnExecutionChecks: [{ name: "orders", stateMachineArn: SFN, schedule: "rate(10 minutes)" }],
    });
    const workspace = TerraformWorkspace.create(
      {
        at: "examples/scratch-cdktf-checks",
        files: { "cdk.tf.json": Testing.synth(stack) },
      },
      { region: "eu-west-1" },
    );
    try {
      expect(workspace.init().status).toBe(0);
      const { result, plan } = workspace.planJson();
      expect(result.stderr).toBe("");
      const changes = plan!.resource_changes as Change[];
      const after = (address: string) => changes.find((c) => c.address === address)!.change.after;
      expect(after('aws_cloudwatch_event_rule.http_check["web"]')).toMatchObject({
        name: "cdk-check-web",
        schedule_expression: "rate(1 minute)",
      });
      expect(after('aws_cloudwatch_event_rule.sfn_execution_check["orders"]').schedule_expression).toBe(
        "rate(10 minutes)",
      );
      expect(JSON.parse(String(after('aws_cloudwatch_event_target.http_check["web"]').input))).toEqual({
        check: { kind: "http", name: "web", url: "https://example.com/", expected_status: [200, 204] },
      });
      const policy = JSON.parse(String(after("aws_iam_role_policy.check_function_checked_resources").policy)) as {
        Statement: Statement[];
      };
      expect(policy.Statement.map((s) => [s.Sid, s.Resource])).toEqual([["ListStateMachineExecutions", [SFN]]]);
    } finally {
      workspace.remove();
    }
  });
});
