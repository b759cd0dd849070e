/**
 * The log monitoring feature: the logs function, its subscriptions, and the per-minute tick.
 *
 * - `log_subscriptions` → per log group (for_each keyed by the log group name) one subscription filter to the
 *   logs function and one `aws_lambda_permission` for `logs.amazonaws.com` scoped to that log group's ARN (and
 *   the account). A Lambda resource policy holds 20 KB, about 45 such statements: for more log groups, use
 *   the account policy.
 * - `account_log_subscription` → one `aws_cloudwatch_log_account_policy` (SUBSCRIPTION_FILTER_POLICY) whose
 *   selection criteria always exclude the module's own log groups, plus the user's, and one permission scoped
 *   to the account's log groups.
 * - The loop guard at plan time: a subscription of one of the module's own log groups fails `terraform plan`
 *   (a precondition per subscription, naming `log_subscriptions`). At run time the function skips them too.
 * - The tick: a one-minute EventBridge rule whose input is `{"tick":{}}`, targeting the check function, which
 *   gets what the tick needs ({@link tickSettings}: the state table, the rules' digest) from here.
 *
 * ARNs take partition, region and account from the provider (`context.aws`), never from an input ARN.
 */
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchLogAccountPolicy } from "@cdktf/provider-aws/lib/cloudwatch-log-account-policy";
import { CloudwatchLogSubscriptionFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-subscription-filter";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { Fn, type IResolvable, Op, propertyAccess, Token, TerraformIterator } from "cdktf";
import { Construct } from "constructs";
import { compileRules } from "../../functions/logs/rules";
import { LogRuleConfigError } from "../../functions/shared/errors";
import type { FeatureContext } from "./context";
import type { LogSubscription } from "./mackerel-serverless";
import { ModuleFunction, type PolicyStatement } from "./module-function";
import type { StateTable } from "./state-table";

/** Subscribed log groups: literal items (CDKTF) or a Terraform list of `{log_group_name, filter_pattern}`. */
export type LogSubscriptionList = LogSubscription[] | IResolvable;

/** The account-level subscription: literal (CDKTF) or a Terraform object that may be null. */
export type AccountLogSubscription = { filterPattern?: string; excludedLogGroups?: string[] } | IResolvable;

/** One log rule as in the Terraform variable (snake_case), passed verbatim to the functions as JSON. */
export type LogRuleItem = { name: string; include: string[] } & Record<string, unknown>;
/** Literal rules (CDKTF) or the Terraform list variable. */
export type LogRuleList = LogRuleItem[] | IResolvable;

/** The logs function's memory: the 1 MB payload fits 128 MB; more memory is more CPU for gunzip and regexes. */
export const LOGS_MEMORY_MB = 256;
export const LOGS_TIMEOUT_SECONDS = 60;

/**
 * The rules' JSON, for the state table item the logs function and the tick read. Literal rules are checked here (the
 * same compiler the functions use), so a CDKTF user's bad rule fails at synth with its index, name and field.
 */
export function logRulesJson(rules: LogRuleList | undefined): string {
  if (rules === undefined) return "[]";
  if (!Array.isArray(rules)) return Token.asString(Fn.jsonencode(rules));
  try {
    compileRules(rules);
  } catch (error) {
    if (error instanceof LogRuleConfigError) throw new Error(`logRules: ${error.message}`, { cause: error });
    throw error;
  }
  return JSON.stringify(rules);
}

/**
 * What the check function needs to run the log pipeline's per-minute tick (flush counts, close quiet
 * alerts, the heartbeat): the state table and the rules' digest, and access to the table's items.
 */
export function tickSettings(
  table: StateTable,
  rulesEnvironment: Record<string, string>,
): { environment: Record<string, string>; statements: PolicyStatement[] } {
  return {
    environment: { STATE_TABLE_NAME: table.table.name, ...rulesEnvironment },
    statements: [table.statement("TickState", ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"])],
  };
}

export interface LogMonitoringProps {
  context: FeatureContext;
  table: StateTable;
  /** The check function, which runs the tick. */
  checkFunction: ModuleFunction;
  /** Where the rules are: `MACKEREL_LOG_RULES_SHA256` (the item of {@link logRulesJson} in the state table). */
  rulesEnvironment: Record<string, string>;
  logSubscriptions?: LogSubscriptionList;
  accountLogSubscription?: AccountLogSubscription;
}

export class LogMonitoring extends Construct {
  readonly function: ModuleFunction;
  readonly subscriptionFilters: CloudwatchLogSubscriptionFilter;
  readonly accountPolicy: CloudwatchLogAccountPolicy;
  readonly tickRule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: LogMonitoringProps) {
    super(scope, id);
    const { context, table } = props;
    const prefix = context.prefix;
    const own = context.ownLogGroupNames;
    const { partition, region, accountId: account } = context.aws;

    this.function = new ModuleFunction(this, "function", {
      ...context.common,
      function: "logs",
      description: "mackerel-serverless: log rules on CloudWatch Logs subscriptions, alerts and per-minute counts",
      code: context.code("logs"),
      memorySize: LOGS_MEMORY_MB,
      timeout: LOGS_TIMEOUT_SECONDS,
      environment: {
        ...context.mackerelEnvironment,
        ...props.rulesEnvironment,
        MACKEREL_SERVERLESS_OWN_LOG_GROUPS: Token.asString(Fn.jsonencode(own)),
        STATE_TABLE_NAME: table.table.name,
      },
      statements: [
        context.readSecret,
        context.sendToSpool,
        // Counts (ADD), rule state and report claims, payload marks, the host id: all conditional updates;
        // GetItem also reads the rules (config/log_rules).
        table.statement("LogCountsAndRuleState", ["dynamodb:GetItem", "dynamodb:UpdateItem"]),
      ],
      conditionalStatements: context.decryptSecret && [context.decryptSecret],
    });

    // ----- per log group subscriptions -----
    const subscriptions = props.logSubscriptions ?? [];
    if (Array.isArray(subscriptions)) {
      const names = subscriptions.map((s) => s.logGroupName);
      const looping = names.filter((name) => own.includes(name));
      if (looping.length > 0) {
        throw new Error(
          `logSubscriptions: ${looping.join(", ")} is one of this module's own log groups; subscribing it to the logs function would loop`,
        );
      }
    }
    const iterator = Array.isArray(subscriptions)
      ? TerraformIterator.fromMap(
          Object.fromEntries(
            subscriptions.map((s) => [
              s.logGroupName,
              { log_group_name: s.logGroupName, filter_pattern: s.filterPattern ?? "" },
            ]),
          ),
        )
      : TerraformIterator.fromComplexList(subscriptions, "log_group_name");

    const permission = new LambdaPermission(this, "subscription-permission", {
      forEach: iterator,
      // Unique per log group, within Lambda's 100 characters of [a-zA-Z0-9-_].
      statementId: Fn.format("CloudWatchLogs-%s", [Fn.substr(Fn.sha256(iterator.key), 0, 20)]),
      action: "lambda:InvokeFunction",
      functionName: this.function.lambda.functionName,
      principal: "logs.amazonaws.com",
      sourceArn: Fn.format("arn:%s:logs:%s:%s:log-group:%s:*", [partition, region, account, iterator.key]),
      sourceAccount: account,
    });
    permission.overrideLogicalId("log_subscription");

    this.subscriptionFilters = new CloudwatchLogSubscriptionFilter(this, "subscription", {
      forEach: iterator,
      name: `${prefix}-logs`,
      logGroupName: iterator.key,
      filterPattern: '${each.value.filter_pattern == null ? "" : each.value.filter_pattern}',
      destinationArn: this.function.lambda.arn,
      // CloudWatch Logs tests the destination when the filter is created: the permission must exist.
      dependsOn: [permission],
    });
    this.subscriptionFilters.overrideLogicalId("log_subscription");
    this.subscriptionFilters.addOverride("lifecycle.precondition", [
      {
        condition: Op.not(Fn.contains(own, iterator.key)),
        error_message:
          "log_subscriptions: ${each.key} is one of this module's own log groups (output own_log_group_names). Subscribing it to the logs function would make every invocation trigger the next (a loop); remove it.",
      },
    ]);

    // ----- the account-level subscription policy -----
    const accountSub = props.accountLogSubscription;
    let enabled: boolean | IResolvable;
    let filterPattern: string;
    let excluded: string[];
    if (accountSub === undefined) {
      enabled = false;
      filterPattern = "";
      excluded = [];
    } else if (Token.isUnresolved(accountSub)) {
      const variable = accountSub as IResolvable;
      enabled = Op.neq(variable, Token.nullValue());
      const attr = (name: string) => propertyAccess(variable, [name]);
      // Conditionals are lazy in Terraform: no attribute is read from a null object.
      filterPattern = Token.asString(
        Fn.conditional(
          enabled,
          Fn.conditional(Op.eq(attr("filter_pattern"), Token.nullValue()), "", attr("filter_pattern")),
          "",
        ),
      );
      excluded = Token.asList(
        Fn.conditional(
          enabled,
          Fn.conditional(Op.eq(attr("excluded_log_groups"), Token.nullValue()), [], attr("excluded_log_groups")),
          [],
        ),
      );
    } else {
      const literal = accountSub as { filterPattern?: string; excludedLogGroups?: string[] };
      enabled = true;
      filterPattern = literal.filterPattern ?? "";
      excluded = literal.excludedLogGroups ?? [];
    }
    const accountCount =
      typeof enabled === "boolean" ? (enabled ? 1 : 0) : Token.asNumber(Fn.conditional(enabled, 1, 0));

    const accountPermission = new LambdaPermission(this, "account-permission", {
      count: accountCount,
      statementId: "CloudWatchLogsAccountPolicy",
      action: "lambda:InvokeFunction",
      functionName: this.function.lambda.functionName,
      principal: "logs.amazonaws.com",
      sourceArn: Fn.format("arn:%s:logs:%s:%s:log-group:*", [partition, region, account]),
      sourceAccount: account,
    });
    accountPermission.overrideLogicalId("account_log_subscription");

    this.accountPolicy = new CloudwatchLogAccountPolicy(this, "account-policy", {
      count: accountCount,
      policyName: `${prefix}-logs`,
      policyType: "SUBSCRIPTION_FILTER_POLICY",
      scope: "ALL",
      policyDocument: Fn.jsonencode({ DestinationArn: this.function.lambda.arn, FilterPattern: filterPattern }),
      // The module's own log groups are always excluded: the loop guard of the account-wide subscription.
      selectionCriteria: Fn.format("LogGroupName NOT IN %s", [Fn.jsonencode(Fn.distinct(Fn.concat([own, excluded])))]),
      dependsOn: [accountPermission],
    });
    this.accountPolicy.overrideLogicalId("account_log_subscription");

    // ----- the tick -----
    this.tickRule = new CloudwatchEventRule(this, "tick", {
      name: `${prefix}-tick`,
      description:
        "mackerel-serverless tick: flushes per-minute log counts, closes quiet log rule alerts, posts the heartbeat",
      scheduleExpression: "rate(1 minute)",
      tags: context.common.tags,
    });
    this.tickRule.overrideLogicalId("tick");
    const tickPermission = new LambdaPermission(this, "tick-permission", {
      statementId: "Tick",
      action: "lambda:InvokeFunction",
      functionName: props.checkFunction.lambda.functionName,
      principal: "events.amazonaws.com",
      sourceArn: this.tickRule.arn,
    });
    tickPermission.overrideLogicalId("tick");
    new CloudwatchEventTarget(this, "tick-target", {
      rule: this.tickRule.name,
      targetId: "tick",
      arn: props.checkFunction.lambda.arn,
      input: JSON.stringify({ tick: {} }),
      dependsOn: [tickPermission],
    }).overrideLogicalId("tick");
  }
}
