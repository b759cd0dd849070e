/**
 * examples/log-monitoring: the Terraform root project plans offline in both variants (per-group subscription
 * filters, and the account-level policy), wiring the logs function, the state table and the tick; a plan that
 * subscribes one of the module's own log groups fails naming log_subscriptions; a log rule regex that RE2
 * refuses fails with one message naming the entry and the pattern; 200 rules plan (they go to a state table
 * item, not the environment).
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../../scripts/lib/bundle";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { describeWithTerraform, expectCleanInit } from "../../support/terraform";
import { expectRootProject } from "../../support/examples";

const EXAMPLE = join(ROOT, "examples", "log-monitoring");
const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mackerel-api-key-AbCdEf";
const NAME = "mackerel-logs-example";
const OWN = ["metric", "logs", "check", "sender"].map((fn) => `/aws/lambda/${NAME}-${fn}`);
const PER_GROUP = {
  service_name: "shop",
  app_log_group_names: '["/aws/lambda/orders","/aws/lambda/payments-api"]',
};

type Change = { address: string; change: { after: Record<string, unknown> } };

describe("the example project's files", () => {
  const read = (file: string) => readFileSync(join(EXAMPLE, file), "utf8");

  test("is a Terraform root project with the usual files and a README", () => {
    expectRootProject(EXAMPLE);
  });

  test("the README explains both variants, each rule, the loop guard and how to set the key", () => {
    const readme = read("README.md");
    for (const text of [
      "app-errors",
      "lambda-timeouts",
      "payment-declines",
      "use_account_policy",
      "own_log_group_names",
    ])
      expect(readme).toContain(text);
    expect(readme).toMatch(/put-secret-value/);
  });
});

describeWithTerraform("terraform: examples/log-monitoring", () => {
  let workspace: TerraformWorkspace;
  const override = () => join(workspace.dir, "bad_override.tf");

  beforeAll(() => {
    workspace = TerraformWorkspace.create(EXAMPLE, { region: "eu-west-1" });
    expectCleanInit(workspace);
  });
  afterAll(() => workspace.remove());
  afterEach(() => rmSync(override(), { force: true }));

  /** Plans; the secret's ARN (unknown before apply in the example) is made literal, so ARNs built from it show. */
  function plan(vars: Record<string, string>) {
    writeFileSync(override(), `module "mackerel" {\n  api_key_secret_arn = "${SECRET}"\n}\n`);
    const { result, plan: shown } = workspace.planJson(vars);
    expect(result.stderr).toBe("");
    const changes = shown!.resource_changes as Change[];
    const after = (address: string) => changes.find((c) => c.address === `module.mackerel.${address}`)?.change.after;
    const matching = (pattern: RegExp) => changes.filter((c) => pattern.test(c.address));
    return { changes, after, matching };
  }

  test("validates", () => {
    const result = workspace.validate();
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("The configuration is valid");
  });

  test("per log group: one subscription filter and one scoped permission per group, no account policy", () => {
    const { after, matching } = plan(PER_GROUP);
    const filters = matching(/aws_cloudwatch_log_subscription_filter/);
    expect(filters.map((f) => f.address).sort()).toEqual([
      'module.mackerel.aws_cloudwatch_log_subscription_filter.log_subscription["/aws/lambda/orders"]',
      'module.mackerel.aws_cloudwatch_log_subscription_filter.log_subscription["/aws/lambda/payments-api"]',
    ]);
    expect(filters[0]!.change.after).toMatchObject({
      name: `${NAME}-logs`,
      filter_pattern: '?ERROR ?Error ?error ?"Task timed out" ?Exception',
    });
    const permission = after('aws_lambda_permission.log_subscription["/aws/lambda/orders"]');
    expect(permission).toMatchObject({
      action: "lambda:InvokeFunction",
      principal: "logs.amazonaws.com",
      function_name: `${NAME}-logs`,
      source_arn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders:*",
      source_account: "123456789012",
      statement_id: expect.stringMatching(/^CloudWatchLogs-[0-9a-f]{20}$/),
    });
    expect(matching(/aws_cloudwatch_log_account_policy|account_log_subscription/)).toEqual([]);

    // The logs function (its environment holds the spool's URL, unknown before apply: the construct tests
    // check the environment and the role).
    expect(after("aws_lambda_function.logs")).toMatchObject({
      function_name: `${NAME}-logs`,
      memory_size: 256,
      timeout: 60,
      handler: "index.handler",
    });

    // The table: on demand, PITR, TTL, encrypted.
    expect(after("aws_dynamodb_table.state")).toMatchObject({
      name: `${NAME}-state`,
      billing_mode: "PAY_PER_REQUEST",
      hash_key: "pk",
      range_key: "sk",
      point_in_time_recovery: [expect.objectContaining({ enabled: true })],
      ttl: [expect.objectContaining({ attribute_name: "expiresAt", enabled: true })],
      server_side_encryption: [expect.objectContaining({ enabled: true })],
    });

    // The tick: every minute, {"tick":{}} to the check function, which has the table and the rules.
    expect(after("aws_cloudwatch_event_rule.tick")).toMatchObject({
      name: `${NAME}-tick`,
      schedule_expression: "rate(1 minute)",
    });
    expect(after("aws_cloudwatch_event_target.tick")).toMatchObject({ input: '{"tick":{}}', target_id: "tick" });
    expect(after("aws_lambda_permission.tick")).toMatchObject({
      principal: "events.amazonaws.com",
      function_name: `${NAME}-check`,
    });
  });

  test("the account policy variant: one policy excluding the module's own log groups, one account-wide permission", () => {
    const { after, matching } = plan({
      service_name: "shop",
      use_account_policy: "true",
      excluded_log_group_names: '["/aws/lambda/noisy"]',
      filter_pattern: "ERROR",
    });
    expect(matching(/aws_cloudwatch_log_subscription_filter|aws_lambda_permission\.log_subscription/)).toEqual([]);
    const policy = after("aws_cloudwatch_log_account_policy.account_log_subscription[0]")!;
    expect(policy).toMatchObject({
      policy_name: `${NAME}-logs`,
      policy_type: "SUBSCRIPTION_FILTER_POLICY",
      scope: "ALL",
      selection_criteria: `LogGroupName NOT IN ${JSON.stringify([...OWN, "/aws/lambda/noisy"])}`,
    });
    // The destination is the logs function's ARN, known after apply; the filter pattern is planned.
    expect(matching(/aws_cloudwatch_log_account_policy/)[0]!.change).toBeDefined();
    expect(after("aws_lambda_permission.account_log_subscription[0]")).toMatchObject({
      principal: "logs.amazonaws.com",
      source_arn: "arn:aws:logs:eu-west-1:123456789012:log-group:*",
      source_account: "123456789012",
      statement_id: "CloudWatchLogsAccountPolicy",
    });
  });

  test("subscribing one of the module's own log groups fails at plan, naming log_subscriptions", () => {
    const result = workspace.plan({
      service_name: "shop",
      app_log_group_names: `["/aws/lambda/orders","/aws/lambda/${NAME}-logs"]`,
    });
    expect(result.status).not.toBe(0);
    const stderr = result.stderr.replace(/\s+/g, " ");
    expect(stderr).toContain(`log_subscriptions: /aws/lambda/${NAME}-logs is one of this module's own log groups`);
  });

  function planWithRules(rules: string): string {
    writeFileSync(override(), `module "mackerel" {\n  log_rules = ${rules}\n}\n`);
    const result = workspace.plan(PER_GROUP);
    expect(result.status).not.toBe(0);
    return result.stderr.replace(/\s+/g, " ");
  }

  test.each([
    ["lookahead", '"error(?=!)"', "error(?=!)"],
    ["a lookbehind", '"(?<!debug )error"', "(?<!debug )error"],
    ["a backreference", '"(a)\\\\1"', "(a)\\1"],
    ["a count above RE2's 1000", '"x{1001}"', "x{1001}"],
    ["an unclosed group", '"(error"', "(error"],
  ])("a rule with %s fails at plan with one message naming the entry and the pattern", (_what, pattern, plain) => {
    const rules = `[{ name = "a", include = ["x"] }, { name = "b", include = ["y"] }, { name = "c", include = ["z"] }, { name = "errors", include = ["ERROR"], exclude = [${pattern}] }]`;
    const stderr = planWithRules(rules);
    expect(stderr).toContain(
      `log_rules[3] ("errors").exclude[0]: "${plain}" is not a valid RE2 regular expression (RE2 has no backreferences or lookaround).`,
    );
    expect(stderr.match(/Invalid value for variable/g)).toHaveLength(1);
    expect(stderr.match(/log_rules\[/g)).toHaveLength(1);
  });

  test("an empty pattern is named too", () => {
    expect(planWithRules('[{ name = "e", include = ["ok", ""] }]')).toContain(
      'log_rules[0] ("e").include[1]: must not be empty (it would match every line).',
    );
  });

  test.each([
    ['"(?i)error"'],
    ['"x{16}"'],
    ['"id=[0-9]{1,30}"'], // refused by the previous engine (V8's linear engine), RE2 runs it
    ['"(?s)a.b"'],
    ['"a(?i)b"'],
    ['"\\\\Aerror\\\\z"'],
    ['"[[:digit:]]+"'],
    ['"(?<name>a+)b"'],
    ['"\\\\d+ ms$"'],
  ])("%s plans", (pattern) => {
    writeFileSync(override(), `module "mackerel" {\n  log_rules = [{ name = "ok", include = [${pattern}] }]\n}\n`);
    const result = workspace.plan(PER_GROUP);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  test("200 rules plan: they go to the state table item", () => {
    const rules = Array.from(
      { length: 200 },
      (_, i) =>
        `{ name = "rule-${i}", include = ["ERROR code=${i} .*timeout after [0-9]+ ms"], exclude = ["HealthCheck"] }`,
    );
    writeFileSync(override(), `module "mackerel" {\n  log_rules = [${rules.join(", ")}]\n}\n`);
    const { result, plan } = workspace.planJson(PER_GROUP);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const changes = plan!.resource_changes as Change[];
    const item = changes.find((c) => c.address.endsWith("aws_dynamodb_table_item.config_log_rules"))!;
    const stored = JSON.parse(item.change.after.item as string) as Record<string, { S: string }>;
    expect({ pk: stored.pk, sk: stored.sk }).toEqual({ pk: { S: "config" }, sk: { S: "log_rules" } });
    const json = stored.json!.S;
    expect((JSON.parse(json) as { name: string }[]).map((r) => r.name)).toEqual(
      Array.from({ length: 200 }, (_, i) => `rule-${i}`),
    );
    // The functions' environment is unknown at plan (it holds the spool's URL); the construct tests check that
    // it carries sha256(jsonencode(var.log_rules)) and no rules. What plan shows: the item is far larger than
    // the 4 KB the environment could ever hold.
    expect(json.length).toBeGreaterThan(4096);
  });
});
