/**
 * The scheduled checks in the construct: the check function's own policy, literal items from CDKTF
 * users (validated at synth), and their plan.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack, Testing } from "cdktf";
import { MackerelServerless } from "../../../modules/construct";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { type Json, placeholderCode, synthUserStack, userStack } from "../../support/construct";
import { describeWithTerraform } from "../../support/terraform";
import { type Change, SECRET, SFN, type Statement } from "./scheduled-checks-support";

describe("synthesized: the check function's own policy", () => {
  function synthModule(): Json {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { MackerelServerlessModuleStack } = require("../../../modules/construct/module-stack");
    return JSON.parse(Testing.synth(new MackerelServerlessModuleStack(Testing.app(), "m"))) as Json;
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

describe("the construct with literal items (CDKTF users)", () => {
  function synth(props: Partial<ConstructorParameters<typeof MackerelServerless>[2]>): Json {
    return synthUserStack({ apiKeySecretArn: SECRET, serviceName: "shop", ...props });
  }

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

test.each([
  [{ httpChecks: [{ name: "bad name", url: "https://example.com/" }] }, "httpChecks[0].name: must be 1–64 characters"],
  [
    { httpChecks: [{ name: "web", url: "https://example.com/", schedule: "rate(1 minutes)" }] },
    'httpChecks: schedule "rate(1 minutes)" of web must be rate(...) or cron(...)',
  ],
  [{ httpChecks: [{ name: "web", url: "ftp://example.com/" }] }, "httpChecks[0].url: "],
  [
    { sfnExecutionChecks: [{ name: "orders", stateMachineArn: SFN, statuses: ["LOST" as never] }] },
    "sfnExecutionChecks[0].statuses",
  ],
])("literal items: a bad name or schedule is refused at synth (%#)", (props, message) => {
  expect(() =>
    userStack(
      {
        apiKeySecretArn: SECRET,
        serviceName: "shop",
        ...props,
      },
      "bad-stack",
    ),
  ).toThrow(message);
});

test("literal items with a name used twice are refused at synth, naming both lists", () => {
  expect(() =>
    userStack(
      {
        apiKeySecretArn: SECRET,
        serviceName: "shop",
        httpChecks: [{ name: "web", url: "https://example.com/" }],
        logFreshnessChecks: [{ name: "web", logGroupName: "/g", maxAgeMinutes: 5 }],
      },
      "dup-stack",
    ),
  ).toThrow(
    'Check names must be unique across logsInsightsChecks, httpChecks, sfnExecutionChecks, logFreshnessChecks, s3FreshnessChecks, opensearchQueryChecks, logRules: "web" is in httpChecks and logFreshnessChecks.',
  );
});

test.each([
  [
    { name: "creds", url: "https://u:p@example.com/" },
    "httpChecks[0].url: must not hold user info (user:password@); put the credentials in a Secrets Manager secret",
  ],
  [
    { name: "bearer", url: "https://example.com/", headers: { Authorization: "Bearer x" } },
    "httpChecks: headers of bearer set Authorization, Proxy-Authorization or Cookie",
  ],
])("literal HTTP items with credentials are refused at synth: %j", (item, message) => {
  expect(() =>
    userStack(
      {
        apiKeySecretArn: SECRET,
        serviceName: "shop",
        httpChecks: [item],
      },
      "creds-stack",
    ),
  ).toThrow(message);
});

test("literal HTTP items with headersSecretArn: GetSecretValue on exactly those secrets", () => {
  const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-auth-AbCdEf";
  const tf = synthUserStack(
    {
      apiKeySecretArn: SECRET,
      serviceName: "shop",
      httpChecks: [
        { name: "web", url: "https://example.com/", headersSecretArn: arn },
        { name: "web2", url: "https://example.com/2", headersSecretArn: arn },
        { name: "open", url: "https://example.com/open" },
      ],
    },
    "secret-stack",
  );
  const policy = String(tf.resource.aws_iam_role_policy.check_function_checked_resources.policy);
  expect(policy).toContain('"Sid" = "ReadHttpCheckHeadersSecrets"');
  expect(policy).toContain(`"Resource" = ["${arn}"]`);
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
      code: placeholderCode,
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
