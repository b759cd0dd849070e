import { createHash } from "node:crypto";
/**
 * Synth tests of the log monitoring feature in the CDKTF construct (no terraform binary): the logs function's
 * environment and least-privilege role, the state table, subscriptions from literal props, the account policy,
 * the tick, the plan-time loop guard, and literal rules checked at synth with the functions' own compiler.
 */
import { Testing } from "cdktf";
import { type LogRule, type MackerelServerlessProps } from "../../../modules/construct";
import { MackerelServerlessModuleStack } from "../../../modules/construct/module-stack";
import { OUTPUTS } from "../../../modules/construct/outputs";
import { type Json, synthUserStack } from "../../support/construct";

const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mackerel-api-key-AbCdEf";
const OWN = ["metric", "logs", "check", "sender"].map((fn) => `/aws/lambda/mackerel-serverless-${fn}`);
const RULES: LogRule[] = [
  { name: "errors", include: ["\\tERROR\\t"], exclude: ["healthcheck"] },
  { name: "timeouts", include: ["Task timed out"], status: "WARNING", recoverAfterMinutes: 15 },
];

function synth(props: Partial<MackerelServerlessProps> = {}): Json {
  return synthUserStack({ apiKeySecretArn: SECRET, serviceName: "orders", ...props });
}

const policyOf = (tf: Json, fn: string): string => tf.resource.aws_iam_role_policy[`${fn}_function`].policy as string;
/** The DynamoDB actions in a rendered policy expression. */
const dynamoActions = (policy: string): string[] =>
  [...policy.matchAll(/"(dynamodb:[A-Za-z*]+)"/g)]
    .map((m) => m[1]!)
    .filter((name, i, all) => name !== "dynamodb:LeadingKeys" && all.indexOf(name) === i)
    .sort();

describe("the logs function", () => {
  test("environment: the Mackerel contract, the rules' digest (the rules are a table item), own log groups, the table", () => {
    const tf = synth({ logRules: RULES });
    const env = tf.resource.aws_lambda_function.logs.environment.variables as Record<string, string>;
    expect(env).toMatchObject({
      MACKEREL_API_KEY_SECRET_ARN: SECRET,
      MACKEREL_SERVICE_NAME: "orders",
      STATE_TABLE_NAME: "${aws_dynamodb_table.state.name}",
    });
    expect(env.MACKEREL_LOG_RULES).toBeUndefined();
    const item = tf.resource.aws_dynamodb_table_item.config_log_rules;
    expect(item).toMatchObject({
      table_name: "${aws_dynamodb_table.state.name}",
      hash_key: "${aws_dynamodb_table.state.hash_key}",
      range_key: "${aws_dynamodb_table.state.range_key}",
    });
    // In the variable's snake_case form, which the functions read.
    const stored = JSON.parse(item.item as string) as Record<string, { S: string }>;
    const rulesJson = JSON.stringify([
      RULES[0],
      { name: "timeouts", include: ["Task timed out"], status: "WARNING", recover_after_minutes: 15 },
    ]);
    expect(stored).toEqual({ pk: { S: "config" }, sk: { S: "log_rules" }, json: { S: rulesJson } });
    expect(env.MACKEREL_LOG_RULES_SHA256).toBe(createHash("sha256").update(rulesJson).digest("hex"));
    // Terraform writes the rules before it updates the functions that read them.
    expect(tf.resource.aws_lambda_function.logs.depends_on).toContain("aws_dynamodb_table_item.config_log_rules");
    expect(tf.resource.aws_lambda_function.check.depends_on).toContain("aws_dynamodb_table_item.config_log_rules");
    expect(env.MACKEREL_SERVERLESS_OWN_LOG_GROUPS).toContain("/aws/lambda/mackerel-serverless-logs");
    expect(tf.resource.aws_lambda_function.logs).toMatchObject({
      function_name: "mackerel-serverless-logs",
      memory_size: 256,
      timeout: 60,
      handler: "index.handler",
    });
    // The tick runs in the check function: the same rules, the same table.
    const checkEnv = tf.resource.aws_lambda_function.check.environment.variables as Record<string, string>;
    expect(checkEnv.MACKEREL_LOG_RULES_SHA256).toBe(env.MACKEREL_LOG_RULES_SHA256);
    expect(checkEnv.STATE_TABLE_NAME).toBe("${aws_dynamodb_table.state.name}");
  });

  test("roles: only the table actions each function uses, on the table only; the metric function only on the host item", () => {
    const tf = synth();
    expect(dynamoActions(policyOf(tf, "logs"))).toEqual(["dynamodb:GetItem", "dynamodb:UpdateItem"]);
    expect(dynamoActions(policyOf(tf, "check"))).toEqual(["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"]);
    expect(dynamoActions(policyOf(tf, "metric"))).toEqual(["dynamodb:GetItem", "dynamodb:UpdateItem"]);
    expect(policyOf(tf, "metric")).toContain('"dynamodb:LeadingKeys" = ["host"]');
    // Check report seconds: UpdateItem on the `check#…` items only.
    expect(policyOf(tf, "metric")).toContain('"ForAllValues:StringLike" = {"dynamodb:LeadingKeys" = ["check#*"]}');
    expect(dynamoActions(policyOf(tf, "sender"))).toEqual([]);
    for (const fn of ["logs", "check", "metric"]) {
      const policy = policyOf(tf, fn);
      expect(policy).toContain(
        '"dynamodb", local.aws.region, local.aws.account_id, "table/", "mackerel-serverless", "-state"',
      );
      expect(policy).not.toMatch(/"dynamodb:\*"/);
    }
  });

  test("the state table: on demand, string keys, TTL, point-in-time recovery, encryption", () => {
    expect(synth().resource.aws_dynamodb_table.state).toMatchObject({
      name: "mackerel-serverless-state",
      billing_mode: "PAY_PER_REQUEST",
      hash_key: "pk",
      range_key: "sk",
      attribute: [
        { name: "pk", type: "S" },
        { name: "sk", type: "S" },
      ],
      ttl: { attribute_name: "expiresAt", enabled: true },
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true },
    });
  });

  test('the tick: every minute, {"tick":{}} to the check function, allowed by that rule only', () => {
    const tf = synth();
    expect(tf.resource.aws_cloudwatch_event_rule.tick).toMatchObject({
      name: "mackerel-serverless-tick",
      schedule_expression: "rate(1 minute)",
    });
    expect(tf.resource.aws_cloudwatch_event_target.tick).toMatchObject({
      arn: "${aws_lambda_function.check.arn}",
      input: '{"tick":{}}',
    });
    expect(tf.resource.aws_lambda_permission.tick).toMatchObject({
      principal: "events.amazonaws.com",
      function_name: "${aws_lambda_function.check.function_name}",
      source_arn: "${aws_cloudwatch_event_rule.tick.arn}",
    });
  });
});

describe("subscriptions from literal props (CDKTF users)", () => {
  test("one filter and one scoped permission per log group; no filter pattern sends every event", () => {
    const tf = synth({
      logSubscriptions: [{ logGroupName: "/aws/lambda/orders" }, { logGroupName: "/ecs/api", filterPattern: "ERROR" }],
    });
    const filter = tf.resource.aws_cloudwatch_log_subscription_filter.log_subscription;
    expect(filter.for_each).toEqual({
      "/aws/lambda/orders": { log_group_name: "/aws/lambda/orders", filter_pattern: "" },
      "/ecs/api": { log_group_name: "/ecs/api", filter_pattern: "ERROR" },
    });
    expect(filter).toMatchObject({
      destination_arn: "${aws_lambda_function.logs.arn}",
      log_group_name: "${each.key}",
      depends_on: ["aws_lambda_permission.log_subscription"],
    });
    // The plan-time loop guard, per subscription.
    expect(filter.lifecycle.precondition[0].error_message).toMatch(
      /^log_subscriptions: \$\{each.key\} is one of this module's own log groups/,
    );
    const permission = tf.resource.aws_lambda_permission.log_subscription;
    expect(permission).toMatchObject({ principal: "logs.amazonaws.com", for_each: filter.for_each });
    expect(permission.source_arn).toContain("log-group:%s:*");
    expect(permission.source_account).toBe("${local.aws.account_id}");
    expect(tf.resource.aws_cloudwatch_log_account_policy.account_log_subscription.count).toBe(0);
  });

  test("subscribing one of the module's own log groups fails at synth, naming logSubscriptions", () => {
    expect(() => synth({ logSubscriptions: [{ logGroupName: "/aws/lambda/mackerel-serverless-sender" }] })).toThrow(
      /^logSubscriptions: \/aws\/lambda\/mackerel-serverless-sender is one of this module's own log groups/,
    );
  });

  test("the account policy excludes the module's own log groups and the given ones", () => {
    const tf = synth({ accountLogSubscription: { filterPattern: "ERROR", excludedLogGroups: ["/aws/lambda/noisy"] } });
    const policy = tf.resource.aws_cloudwatch_log_account_policy.account_log_subscription;
    expect(policy).toMatchObject({ count: 1, policy_type: "SUBSCRIPTION_FILTER_POLICY", scope: "ALL" });
    for (const group of [...OWN, "/aws/lambda/noisy"]) expect(policy.selection_criteria).toContain(group);
    expect(policy.selection_criteria).toContain("LogGroupName NOT IN %s");
    expect(tf.resource.aws_lambda_permission.account_log_subscription).toMatchObject({
      count: 1,
      principal: "logs.amazonaws.com",
    });
    expect(tf.resource.aws_lambda_permission.account_log_subscription.source_arn).toContain("log-group:*");
  });
});

describe("literal rules are checked at synth with the functions' compiler", () => {
  test.each([
    [
      [{ name: "bad", include: ["(?=x)x"] }],
      /^logRules: log_rules\[0\] \("bad"\)\.include\[0\]: is not a valid RE2 regular expression/,
    ],
    [[{ name: "x", include: [] }], /log_rules\[0\] \("x"\)\.include: must list at least one regular expression/],
    [[{ name: "a b", include: ["x"] }], /log_rules\[0\] \("a b"\)\.name: must be 1–64 characters/],
  ])("%j", (rules, message) => {
    expect(() => synth({ logRules: rules as never })).toThrow(message);
  });
});

describe("the module stack", () => {
  test("outputs logs_function_arn and state_table_name; variables feed the feature", () => {
    const tf = JSON.parse(Testing.synth(new MackerelServerlessModuleStack(Testing.app(), "m"))) as Json;
    expect(tf.output.logs_function_arn.value).toBe("${aws_lambda_function.logs.arn}");
    expect(tf.output.state_table_name.value).toBe("${aws_dynamodb_table.state.name}");
    expect(OUTPUTS.map((o) => o.name)).toEqual(expect.arrayContaining(["logs_function_arn", "state_table_name"]));
    expect(tf.resource.aws_lambda_function.logs.environment.variables.MACKEREL_LOG_RULES_SHA256).toBe(
      "${sha256(jsonencode(var.log_rules))}",
    );
    expect(tf.resource.aws_dynamodb_table_item.config_log_rules.item).toContain("jsonencode(var.log_rules)");
    expect(tf.resource.aws_cloudwatch_log_subscription_filter.log_subscription.for_each).toContain(
      "var.log_subscriptions",
    );
    expect(tf.resource.aws_cloudwatch_log_account_policy.account_log_subscription.count).toContain(
      "var.account_log_subscription != null",
    );
  });
});
