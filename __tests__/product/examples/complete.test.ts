/**
 * examples/complete: every feature of the module in one root project plans offline with real terraform.
 */
import { join } from "node:path";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { expectRootProject } from "../../support/examples";
import { describeWithTerraform, expectCleanInit } from "../../support/terraform";

const EXAMPLE = join(__dirname, "..", "..", "..", "examples", "complete");
const VARS = {
  service_name: "shop",
  extract_function_arn: "arn:aws:lambda:ap-northeast-1:123456789012:function:nightly-extract",
  load_function_arn: "arn:aws:lambda:ap-northeast-1:123456789012:function:nightly-load",
};

interface Change {
  address: string;
  change: { after: Record<string, unknown> | null; after_unknown?: Record<string, unknown> };
}

test("examples/complete is a Terraform root project with the usual files and a README", () => {
  expectRootProject(EXAMPLE);
});

describeWithTerraform("terraform: examples/complete", () => {
  let workspace: TerraformWorkspace;
  let changes: Change[];

  beforeAll(() => {
    workspace = TerraformWorkspace.create(EXAMPLE);
    expectCleanInit(workspace);
    const { result, plan } = workspace.planJson(VARS);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    changes = plan!.resource_changes as Change[];
  });
  afterAll(() => workspace?.remove());

  const count = (pattern: RegExp) => changes.filter((c) => pattern.test(c.address)).length;
  const after = (address: string) => changes.find((c) => c.address === address)?.change.after;

  test("validates", () => {
    const result = workspace.validate();
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("The configuration is valid");
  });

  test("plans the four functions, the spool and its dead-letter queue, the state table", () => {
    expect(count(/^module\.mackerel\.aws_lambda_function\./)).toBe(4);
    expect(count(/^module\.mackerel\.aws_sqs_queue\./)).toBe(2);
    expect(count(/^module\.mackerel\.aws_dynamodb_table\./)).toBe(1);
  });

  test("plans one subscription filter per application log group, with its permission", () => {
    expect(count(/^module\.mackerel\.aws_cloudwatch_log_subscription_filter\./)).toBe(2);
    const filter = after(
      'module.mackerel.aws_cloudwatch_log_subscription_filter.log_subscription["/aws/lambda/orders"]',
    );
    expect(filter).toMatchObject({ log_group_name: "/aws/lambda/orders" });
    expect(count(/^module\.mackerel\.aws_lambda_permission\.log_subscription\[/)).toBe(2);
  });

  test("plans one rule per scheduled check plus the tick, and alarms that notify the topic", () => {
    const rules = changes.filter((c) => /^module\.mackerel\.aws_cloudwatch_event_rule\./.test(c.address));
    expect(rules.map((r) => r.change.after!.name).sort()).toEqual([
      "mackerel-complete-check-api-health",
      "mackerel-complete-check-daily-errors",
      "mackerel-complete-check-nightly-failures",
      "mackerel-complete-check-orders-alive",
      "mackerel-complete-tick",
    ]);
    const alarms = changes.filter((c) => /^module\.mackerel\.aws_cloudwatch_metric_alarm\./.test(c.address));
    // Errors and throttles of each of the four functions, dead letters and spool age.
    expect(alarms).toHaveLength(10);
    // Their actions are the topic's ARN, known after apply.
    for (const alarm of alarms) expect(alarm.change.after_unknown!.alarm_actions).toBe(true);
  });

  test("plans the state machine built from the job-states module, and tags the functions", () => {
    expect(after("aws_sfn_state_machine.nightly")).toMatchObject({ name: "mackerel-complete-nightly" });
    const metric = after("module.mackerel.aws_lambda_function.metric")!;
    expect(metric.tags).toEqual({ system: "mackerel-serverless", env: "production" });
  });
});
