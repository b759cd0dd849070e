/**
 * The scheduled checks feature: the check function, and per configured check one EventBridge rule
 * (its own schedule) whose target input is the check's spec, `{"check": {...item, "kind": "<kind>"}}`.
 *
 * - Rules use `for_each` keyed by check name over each list (a Terraform list variable, or literal items
 *   for CDKTF users); unset optional attributes travel as null and the function applies the defaults.
 * - One `aws_lambda_permission` for events.amazonaws.com with a source ARN pattern
 *   `arn:<partition>:events:<region>:<account>:rule/<name>-check-*` instead of one per rule: Lambda's
 *   resource policy is limited to 20 KB, which per-rule statements (~350 bytes each) would exhaust at
 *   about 50 checks; the pattern matches only rules this module names, in this account and region.
 * - The function's role gets only what the configured checks need, on only their resources, in an
 *   inline policy of its own (`<name>-check-checked-resources`, known in full at plan time); each
 *   statement exists only when its list is non-empty, and the policy only when some check needs AWS.
 *   ARNs take partition, region and account from the provider (`context.aws`), never from an input ARN.
 *   The VPC statements go in the function's own policy, which the
 *   function waits for (Lambda checks the ENI permissions when it creates the function).
 * - Check names are unique across the four lists: a precondition on the function fails the plan
 *   (literal items are checked at synth instead).
 * - Rule names are `<name>-check-<check>`, cut to EventBridge's 64 characters with a hash suffix.
 */
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LambdaFunctionVpcConfig } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { Fn, type IResolvable, Op, propertyAccess, TerraformIterator, type TerraformLocal, Token } from "cdktf";
import { Construct } from "constructs";
import { openSearchStatements, s3FreshnessStatements } from "./check-kinds-iam";
import { type FeatureContext, namedLocal } from "./context";
import { ModuleFunction, type PolicyStatement } from "./module-function";
import {
  assertValidItems,
  attribute,
  CHECK_KINDS,
  type CheckItem,
  type CheckList,
  type Kind,
  uniqueNamesPrecondition,
} from "./check-kinds";

export { CHECK_KINDS, type CheckItem, type CheckList } from "./check-kinds";

/** Where the check function runs in a VPC (literal or a token that may be null). */
export type VpcConfig = { subnet_ids: string[]; security_group_ids: string[] } | IResolvable;

export interface ScheduledChecksProps {
  context: FeatureContext;
  logsInsightsChecks?: CheckList;
  httpChecks?: CheckList;
  sfnExecutionChecks?: CheckList;
  logFreshnessChecks?: CheckList;
  s3FreshnessChecks?: CheckList;
  opensearchQueryChecks?: CheckList;
  vpcConfig?: VpcConfig;
  /** More environment for the same function (e.g. the per-minute tick's state table). */
  environment?: Record<string, string>;
  /** More statements for the same function (e.g. the tick's state table access). */
  statements?: PolicyStatement[];
  /** The log rules: each also names a Mackerel check, so no check may share a rule's name. */
  logRules?: CheckList;
}

/** The check function's time: Logs Insights queries over long windows can take minutes. */
export const CHECK_TIMEOUT_SECONDS = 300;
/** HTTP bodies are read up to 1 MiB; Logs Insights results can be 10,000 rows. */
export const CHECK_MEMORY_MB = 256;
/** EventBridge rule names: at most 64 characters. */
const RULE_NAME_MAX = 64;

/** The lists of checks and their EventBridge rules, with the check function. */
export class ScheduledChecks extends Construct {
  readonly function: ModuleFunction;
  /** Rule per kind (each with for_each over that kind's checks). */
  readonly rules: Record<Kind["kind"], CloudwatchEventRule>;

  constructor(scope: Construct, id: string, props: ScheduledChecksProps) {
    super(scope, id);
    const { context } = props;
    const prefix = context.prefix;
    const lists: Record<Kind["kind"], CheckList> = {
      logs_insights: props.logsInsightsChecks ?? [],
      http: props.httpChecks ?? [],
      sfn_execution: props.sfnExecutionChecks ?? [],
      log_freshness: props.logFreshnessChecks ?? [],
      s3_freshness: props.s3FreshnessChecks ?? [],
      opensearch_query: props.opensearchQueryChecks ?? [],
    };

    const { partition, region, accountId: account } = context.aws;
    const logGroupArns = (names: string[] | IResolvable): IResolvable => {
      const bare = Fn.formatlist("arn:%s:logs:%s:%s:log-group:%s", [partition, region, account, names]);
      // The log group itself and everything under it: IAM evaluates one or the other depending on the call.
      return Fn.distinct(Fn.concat([bare, Fn.formatlist("%s:*", [bare])])) as unknown as IResolvable;
    };

    const statements: IResolvable[] = [];
    // A list variable's statements, one attribute a line in `local.check_function_checked_resource_statement`
    // (by Sid); each is in the policy only when its list has an item. Filled below, resolved at synthesis.
    const bySid: Record<string, PolicyStatement> = {};
    let named: TerraformLocal | undefined;
    const onlyWhen = (condition: IResolvable, statement: PolicyStatement) => {
      named ??= namedLocal(this, "check_function_checked_resource_statement", bySid);
      bySid[statement.Sid!] = statement;
      const reference = propertyAccess(named.expression, [statement.Sid!]) as unknown as PolicyStatement;
      statements.push(onlyIf(condition, [reference]));
    };
    const whenAny = (kind: Kind["kind"], statement: PolicyStatement) => {
      const n = count(lists[kind]);
      if (typeof n !== "number") onlyWhen(Op.gte(n, 1), statement);
      else if (n > 0) statements.push(onlyIf(true, [statement]));
    };
    whenAny("logs_insights", {
      Sid: "StartLogsInsightsQueries",
      Effect: "Allow",
      Action: ["logs:StartQuery"],
      Resource: logGroupArns(flattenAttribute(lists.logs_insights, "log_group_names")),
    });
    whenAny("logs_insights", {
      Sid: "ReadAndStopLogsInsightsQueries",
      Effect: "Allow",
      // The Service Authorization Reference lists no resource type for GetQueryResults and StopQuery
      // (they act on a query id, not a log group), so "*" is the only Resource AWS accepts for them.
      // The queries themselves can only be started on the log groups above.
      Action: ["logs:GetQueryResults", "logs:StopQuery"],
      Resource: "*",
    });
    whenAny("sfn_execution", {
      Sid: "ListStateMachineExecutions",
      Effect: "Allow",
      Action: ["states:ListExecutions"],
      Resource: Fn.distinct(attribute(lists.sfn_execution, "state_machine_arn") as string[]),
    });
    whenAny("log_freshness", {
      Sid: "FilterFreshnessLogGroups",
      Effect: "Allow",
      Action: ["logs:FilterLogEvents"],
      Resource: logGroupArns(attribute(lists.log_freshness, "log_group_name")),
    });

    // HTTP checks' credentials: GetSecretValue on exactly the secrets the checks name, nothing else. They go in
    // the function's own policy, which always exists: a secret created in the same apply is unknown at plan,
    // and the checked-resources policy's count cannot depend on an unknown value.
    const credentialStatements = [
      ...httpCredentialStatements(this, distinctAttribute(lists.http, "headers_secret_arn")),
      ...httpCredentialKeyStatements(this, distinctAttribute(lists.http, "headers_secret_kms_key_arn")),
    ];
    statements.push(
      ...s3FreshnessStatements(lists.s3_freshness, { partition, account }),
      ...openSearchStatements(this, lists.opensearch_query, { partition, account }),
    );

    // In the function's own policy (which the function waits for): Lambda checks these at creation.
    const baseStatements: IResolvable[] = [
      ...(context.decryptSecret ? [context.decryptSecret] : []),
      ...credentialStatements,
    ];
    let vpcConfig: LambdaFunctionVpcConfig | undefined;
    if (props.vpcConfig !== undefined) {
      const vpc = props.vpcConfig;
      // Literal, or a variable that may be null.
      const present = Token.isUnresolved(vpc) ? Op.neq(vpc, Token.nullValue()) : true;
      baseStatements.push(
        statementsWhen(this, "check_function_vpc", present, {
          Sid: "ManageVpcNetworkInterfaces",
          Effect: "Allow",
          // What AWSLambdaVPCAccessExecutionRole grants, on "*" as there: the Describe actions have no
          // resource types, and Lambda manages the function's network interfaces with these calls.
          Action: [
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
          ],
          Resource: "*",
        }),
      );
      if (!Token.isUnresolved(vpc)) {
        const literal = vpc as { subnet_ids: string[]; security_group_ids: string[] };
        vpcConfig = { subnetIds: literal.subnet_ids, securityGroupIds: literal.security_group_ids };
      }
    }

    this.function = new ModuleFunction(this, "function", {
      ...context.common,
      function: "check",
      description:
        "mackerel-serverless: runs scheduled checks (Logs Insights, HTTP, Step Functions, log freshness, S3 pulses, OpenSearch)",
      code: context.code("check"),
      memorySize: CHECK_MEMORY_MB,
      timeout: CHECK_TIMEOUT_SECONDS,
      environment: { ...context.mackerelEnvironment, ...props.environment },
      statements: [context.readSecret, context.sendToSpool, ...(props.statements ?? [])],
      conditionalStatements: baseStatements,
      vpcConfig,
    });

    // What the configured checks need, in a policy of its own: it holds no attribute of another resource,
    // so the plan shows it in full. Absent when no check needs AWS access.
    let checksPolicy: IamRolePolicy | undefined;
    const literalStatements = statements.every((st) => Array.isArray(st));
    if (!literalStatements || statements.length > 0) {
      // One group of statements a line in `local.check_function_checked_resources_statements`, joined by
      // flatten() (each group is a list of statements, or none).
      const groups = namedLocal(this, "check_function_checked_resources_statements", statements);
      const checkStatements = Fn.flatten(groups.expression as IResolvable);
      checksPolicy = new IamRolePolicy(this, "checks-policy", {
        // From the lists' lengths, which are known at plan even when an item names a resource created in the
        // same apply (an OpenSearch domain, a bucket): every kind but HTTP has a statement per non-empty list.
        count: literalStatements
          ? undefined
          : Token.asNumber(
              Fn.conditional(
                Op.gte(
                  Fn.sum(CHECK_KINDS.filter((kind) => kind.kind !== "http").map((kind) => count(lists[kind.kind]))),
                  1,
                ),
                1,
                0,
              ),
            ),
        name: `${this.function.functionName}-checked-resources`,
        role: this.function.role.id,
        policy: Fn.jsonencode({ Version: "2012-10-17", Statement: checkStatements }),
      });
      checksPolicy.overrideLogicalId("check_function_checked_resources");
    }
    const logRules = props.logRules ?? [];
    if (CHECK_KINDS.every((kind) => Array.isArray(lists[kind.kind])) && Array.isArray(logRules)) {
      // Literal items (CDKTF users): checked now; Terraform refuses a precondition that references nothing.
      assertValidItems(lists as Record<Kind["kind"], CheckItem[]>, logRules);
    } else {
      this.function.lambda.addOverride("lifecycle.precondition", [uniqueNamesPrecondition(lists, logRules)]);
    }
    if (props.vpcConfig !== undefined && Token.isUnresolved(props.vpcConfig)) {
      // A variable that may be null: a dynamic block (cdktf renders no dynamic form of a single block).
      this.function.lambda.addOverride("dynamic.vpc_config", {
        for_each: Fn.conditional(Op.neq(props.vpcConfig, Token.nullValue()), [props.vpcConfig], []),
        content: {
          subnet_ids: "${vpc_config.value.subnet_ids}",
          security_group_ids: "${vpc_config.value.security_group_ids}",
        },
      });
    }

    const rules = {} as Record<Kind["kind"], CloudwatchEventRule>;
    for (const kind of CHECK_KINDS) {
      const list = lists[kind.kind];
      const iterator = Array.isArray(list)
        ? TerraformIterator.fromMap(Object.fromEntries(list.map((item) => [item.name, item])))
        : TerraformIterator.fromComplexList(list, "name");
      const name = iterator.getString("name");
      const ruleName = boundedName(Fn.format("%s-check-%s", [prefix, name]));
      const rule = new CloudwatchEventRule(this, `${kind.kind}-rule`, {
        forEach: iterator,
        name: ruleName,
        description: `mackerel-serverless ${kind.kind} check ${name}`,
        // try(): literal items may leave the attribute out; variable items have it (null when unset).
        scheduleExpression: `\${coalesce(try(each.value.schedule, null), "${kind.defaultSchedule}")}`,
        tags: context.common.tags,
      });
      rule.overrideLogicalId(`${kind.kind}_check`);
      rules[kind.kind] = rule;

      new CloudwatchEventTarget(this, `${kind.kind}-target`, {
        forEach: iterator,
        rule: ruleName,
        targetId: "check",
        arn: this.function.lambda.arn,
        input: Fn.jsonencode({ check: Fn.merge([iterator.value, { kind: kind.kind }]) }),
        // The first scheduled run must find the role allowed to read what the check reads.
        dependsOn: checksPolicy ? [rule, checksPolicy] : [rule],
      }).overrideLogicalId(`${kind.kind}_check`);
    }
    this.rules = rules;

    const allNames = Fn.concat(CHECK_KINDS.map((kind) => attribute(lists[kind.kind], "name")));
    const anyCheck = CHECK_KINDS.every((kind) => Array.isArray(lists[kind.kind]))
      ? CHECK_KINDS.some((kind) => (lists[kind.kind] as CheckItem[]).length > 0)
      : Op.gte(Fn.lengthOf(allNames), 1);
    new LambdaPermission(this, "invoke", {
      count: typeof anyCheck === "boolean" ? (anyCheck ? 1 : 0) : Token.asNumber(Fn.conditional(anyCheck, 1, 0)),
      statementId: "ScheduledChecks",
      action: "lambda:InvokeFunction",
      functionName: this.function.lambda.functionName,
      principal: "events.amazonaws.com",
      sourceArn: Fn.format("arn:%s:events:%s:%s:rule/%s-check-*", [partition, region, account, prefix]),
    }).overrideLogicalId("check_schedules");
  }
}

/** The number of items (a number for literals, a Terraform expression for lists). */
function count(list: CheckList): number | IResolvable {
  return Array.isArray(list) ? list.length : (Token.asAny(Fn.lengthOf(list)) as IResolvable);
}

/**
 * `statement` written once as `local.<name>_statement`, listed in `local.<name>_statements` when `present`
 * holds (a literal `true`: the statement as it is, without locals). A policy joins the list with concat().
 */
function statementsWhen(
  scope: Construct,
  name: string,
  present: IResolvable | boolean,
  statement: PolicyStatement,
): IResolvable {
  if (present === true) return onlyIf(true, [statement]);
  const named = namedLocal(scope, `${name}_statement`, statement).expression as PolicyStatement;
  return namedLocal(scope, `${name}_statements`, onlyIf(present, [named])).expression as IResolvable;
}

/** The statement reading the HTTP checks' credential secrets, when a check names one. */
function httpCredentialStatements(scope: Construct, secretArns: string[] | IResolvable): IResolvable[] {
  return statementOnList(scope, "check_function_http_credentials", secretArns, {
    Sid: "ReadHttpCheckHeadersSecrets",
    Effect: "Allow",
    Action: ["secretsmanager:GetSecretValue"],
    Resource: secretArns as string[],
  });
}

/**
 * kms:Decrypt on the customer-managed keys of the HTTP checks' secrets, through Secrets Manager only (the
 * secrets may sit in any region the checks name, hence the wildcard in the service).
 */
function httpCredentialKeyStatements(scope: Construct, keyArns: string[] | IResolvable): IResolvable[] {
  return statementOnList(scope, "check_function_http_credential_keys", keyArns, {
    Sid: "DecryptHttpCheckHeadersSecrets",
    Effect: "Allow",
    Action: ["kms:Decrypt"],
    Resource: keyArns as string[],
    Condition: { StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } },
  });
}

/**
 * `statement`, whose Resource is `list`, when the list has an item (none for literal items without one). A
 * list token (the variable's case) is an array of one token too: test for a token first, or an empty list
 * would get a statement with no Resource, which IAM refuses.
 */
function statementOnList(
  scope: Construct,
  name: string,
  list: string[] | IResolvable,
  statement: PolicyStatement,
): IResolvable[] {
  if (!Token.isUnresolved(list)) return (list as string[]).length > 0 ? [onlyIf(true, [statement])] : [];
  return [statementsWhen(scope, name, Op.gte(Fn.lengthOf(list), 1), statement)];
}

/** `cond ? statements : []` (literal `true` keeps them unconditionally). */
function onlyIf(condition: IResolvable | boolean, statements: PolicyStatement[]): IResolvable {
  if (condition === true) return statements as unknown as IResolvable;
  return Fn.conditional(condition, statements, []) as IResolvable;
}

/** The distinct values of a string attribute of the HTTP checks that set it (`headers_secret_arn`, ...). */
function distinctAttribute(list: CheckList, attr: string): string[] | IResolvable {
  if (Array.isArray(list)) {
    return [...new Set(list.map((item) => item[attr]).filter((value): value is string => typeof value === "string"))];
  }
  return Fn.distinct(Fn.compact(Token.asList(attribute(list, attr)))) as unknown as IResolvable;
}

/** A list attribute of every item, flattened. */
function flattenAttribute(list: CheckList, attr: string): string[] | IResolvable {
  if (Array.isArray(list)) return list.flatMap((item) => item[attr] as string[]);
  return Fn.flatten([attribute(list, attr)]) as unknown as IResolvable;
}

/** A resource name of at most 64 characters: cut names keep a hash of the whole so they stay distinct. */
function boundedName(full: string): string {
  return Token.asString(
    Fn.conditional(
      Op.lte(Fn.lengthOf(full), RULE_NAME_MAX),
      full,
      Fn.format("%s-%s", [Fn.substr(full, 0, RULE_NAME_MAX - 9), Fn.substr(Fn.md5(full), 0, 8)]),
    ),
  );
}
