/**
 * The `MackerelServerless` construct: everything the Terraform module creates. The module stack
 * (main.ts) instantiates it with Terraform variables; CDKTF users instantiate it in their own stacks
 * with literal values. Inputs may be literals or tokens: anything optional is resolved with Terraform
 * conditionals so both work.
 */
import { AssetType, dependable, Fn, type IResolvable, propertyAccess, TerraformAsset, Token } from "cdktf";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Construct } from "constructs";
import { Alarms } from "./alarms";
import { apiKeyAccess } from "./api-key";
import { awsLocation } from "./aws-location";
import { arnWildcard, type FeatureContext, functionLogGroupName, namedLocal, orDefault } from "./context";
import {
  LogMonitoring,
  type LogRuleList,
  logRulesJson,
  type LogSubscriptionList,
  tickSettings,
} from "./log-monitoring";
import { mackerelMonitors, type MonitorsInput } from "./monitors";
import { FUNCTION_NAMES, type FunctionCode, type FunctionName, ModuleFunction } from "./module-function";
import {
  type HostProps,
  type HttpCheck,
  type LogFreshnessCheck,
  type LogRule,
  type LogsInsightsCheck,
  type OpenSearchQueryCheck,
  type S3FreshnessCheck,
  type SfnExecutionCheck,
  toVariableItem,
  toVariableList,
  type VpcConfigProps,
} from "./props";
import { type CheckList, ScheduledChecks, type VpcConfig } from "./scheduled-checks";
import { validateProps } from "./validate-props";
import { Spool } from "./spool";
import { StateTable } from "./state-table";

/** A subscription of one log group to the logs function (`log_subscriptions`). */
export interface LogSubscription {
  readonly logGroupName: string;
  /** CloudWatch Logs filter pattern. @default "" (every event) */
  readonly filterPattern?: string;
}

/** One account-level subscription filter policy (`account_log_subscription`). */
export interface AccountLogSubscriptionProps {
  /** @default "" (every event) */
  readonly filterPattern?: string;
  /** Log groups left out (the module's own always are). @default [] */
  readonly excludedLogGroups?: string[];
}

/**
 * Props of {@link MackerelServerless}: the module's variables in camelCase (README's inputs table has each
 * one's rules). Literal values are validated at synth with the variables' rules, naming the prop; any
 * value may also be a token (e.g. a `TerraformVariable`), which Terraform resolves. Optional values that
 * are tokens may be null.
 */
export interface MackerelServerlessProps {
  /** Prefix of every resource name (1-40 characters of a-zA-Z0-9_-). @default "mackerel-serverless" */
  readonly name?: string;
  /** ARN of the Secrets Manager secret with the Mackerel API key (raw, or JSON `{"MACKEREL_API_KEY": "..."}`). */
  readonly apiKeySecretArn: string;
  /** ARN of the customer-managed KMS key that encrypts the secret, if any. @default none (AWS managed key) */
  readonly apiKeyKmsKeyArn?: string;
  /** Mackerel API base URL. @default "https://api.mackerelio.com/" */
  readonly mackerelApiBaseUrl?: string;
  /** Default Mackerel service for service metrics (it must exist in Mackerel). */
  readonly serviceName: string;
  /** The Mackerel host that check reports and the heartbeat attach to. @default {} (see {@link HostProps}) */
  readonly host?: HostProps | IResolvable;
  /** Lambda runtime (`nodejs24.x` needs hashicorp/aws 6.19.0 or later). @default "nodejs22.x" */
  readonly lambdaRuntime?: string;
  /** `arm64` or `x86_64`. @default "arm64" */
  readonly lambdaArchitecture?: string;
  /** Retention of the functions' log groups, one of CloudWatch Logs' values. @default 30 */
  readonly logRetentionDays?: number;
  /** Tags of every resource that takes tags. @default {} */
  readonly tags?: Record<string, string>;
  /** Where each function's zip is. @default the zips shipped in this package, as CDKTF assets */
  readonly code?: (fn: FunctionName) => FunctionCode;
  /** SNS topic of the module's own alarms. @default none: the alarms notify nobody */
  readonly alarmSnsTopicArn?: string;
  /** Hours the sender retries a spooled write before the dead-letter queue (6-24). @default 24 */
  readonly spoolMaxAgeHours?: number;
  /** Scheduled CloudWatch Logs Insights queries. @default [] */
  readonly logsInsightsChecks?: LogsInsightsCheck[] | IResolvable;
  /** HTTP checks. @default [] */
  readonly httpChecks?: HttpCheck[] | IResolvable;
  /** Step Functions execution checks. @default [] */
  readonly sfnExecutionChecks?: SfnExecutionCheck[] | IResolvable;
  /** Log freshness checks. @default [] */
  readonly logFreshnessChecks?: LogFreshnessCheck[] | IResolvable;
  /** S3 pulse-file checks. @default [] */
  readonly s3FreshnessChecks?: S3FreshnessCheck[] | IResolvable;
  /** OpenSearch / Elasticsearch document counts. @default [] */
  readonly opensearchQueryChecks?: OpenSearchQueryCheck[] | IResolvable;
  /** Service metrics that are 1 when a job failed, for the `mackerelMonitors` definitions. @default [] */
  readonly jobFailureMetrics?: string[] | IResolvable;
  /** Subnets and security groups of the check function. @default none (outside any VPC) */
  readonly vpcConfig?: VpcConfigProps | IResolvable;
  /** Log groups subscribed to the logs function, one filter each. @default [] */
  readonly logSubscriptions?: LogSubscription[] | IResolvable;
  /** One account-level subscription policy instead. @default none */
  readonly accountLogSubscription?: AccountLogSubscriptionProps | IResolvable;
  /** Log rules of the logs function. @default [] */
  readonly logRules?: LogRule[] | IResolvable;
}

/** Serverless Mackerel monitoring for AWS: functions, roles, log groups and their wiring. */
export class MackerelServerless extends Construct {
  readonly metric: ModuleFunction;
  /** The spool (SQS FIFO), its dead-letter queue and the sender function. */
  readonly spool: Spool;
  readonly sender: ModuleFunction;
  /** The check function and one EventBridge rule per configured check. */
  readonly checks: ScheduledChecks;
  readonly alarms: Alarms;
  /** An IAM policy document allowing `lambda:InvokeFunction` on the metric function (for state machine roles). */
  readonly invokeMetricPolicyJson: string;
  /** Every log group of the module's own functions: never subscribe these to the logs function. */
  readonly ownLogGroupNames: string[];
  /** The custom identifier of the Mackerel host that check reports and the heartbeat attach to. */
  readonly hostCustomIdentifier: string;
  /** The state table (per-minute log counts, log rule state, the host id, the tick lease). */
  readonly stateTable: StateTable;
  /** The logs function, its subscriptions and the per-minute tick. */
  readonly logs: LogMonitoring;
  /** Mackerel monitor definitions (`{"monitors": [...]}`, as `mkr monitors push` reads them). */
  readonly mackerelMonitors: unknown;

  constructor(scope: Construct, id: string, props: MackerelServerlessProps) {
    super(scope, id);
    validateProps(props as unknown as Record<string, unknown>);
    const prefix = props.name ?? "mackerel-serverless";
    const host = hostSettings(props.host);
    // The features take items in the variables' snake_case form, which is what the functions receive.
    const logRules = toVariableList(props.logRules) as LogRuleList | undefined;
    const code = props.code ?? defaultCode(this);
    // Where the module runs comes from the provider; the secret may live in another region or account.
    const aws = awsLocation(this);
    const defaultCustomIdentifier = Fn.format("mackerel-serverless/%s/%s/%s", [aws.region, aws.accountId, prefix]);

    const tags = props.tags ?? {};
    this.spool = new Spool(this, "spool", { prefix, tags, aws, maxAgeHours: props.spoolMaxAgeHours });

    this.hostCustomIdentifier = orDefault(host.customIdentifier, defaultCustomIdentifier);
    const context: FeatureContext = {
      prefix,
      code,
      common: {
        prefix,
        runtime: props.lambdaRuntime ?? "nodejs22.x",
        architecture: props.lambdaArchitecture ?? "arm64",
        logRetentionDays: props.logRetentionDays ?? 30,
        tags: props.tags ?? {},
        aws,
      },
      mackerelEnvironment: {
        MACKEREL_API_KEY_SECRET_ARN: props.apiKeySecretArn,
        MACKEREL_API_BASE_URL: props.mackerelApiBaseUrl ?? "https://api.mackerelio.com/",
        MACKEREL_SERVICE_NAME: props.serviceName,
        MACKEREL_HOST_NAME: orDefault(host.name, prefix),
        MACKEREL_HOST_CUSTOM_IDENTIFIER: this.hostCustomIdentifier,
        MACKEREL_HOST_ID: orDefault(host.id, ""),
        MACKEREL_HOST_ROLES: hostRolesEnvironment(host.roles),
        SPOOL_QUEUE_URL: this.spool.queue.url,
      },
      sendToSpool: this.spool.sendStatement,
      ...apiKeyAccess(this, props.apiKeySecretArn, props.apiKeyKmsKeyArn),
      ownLogGroupNames: ownLogGroupNames(this, prefix),
      aws,
    };
    this.ownLogGroupNames = context.ownLogGroupNames;
    this.stateTable = new StateTable(this, "state", { prefix, tags, aws });
    const rulesJson = logRulesJson(logRules);
    // The rules live in the state table (200 rules do not fit the environment's 4 KB); the functions get the
    // digest, which also makes Lambda start new containers when the rules change.
    const rulesItem = this.stateTable.configItem("log_rules", rulesJson);
    const rulesEnvironment = {
      MACKEREL_LOG_RULES_SHA256: Token.isUnresolved(rulesJson)
        ? Fn.sha256(rulesJson)
        : createHash("sha256").update(rulesJson, "utf8").digest("hex"),
    };

    this.metric = new ModuleFunction(this, "metric", {
      ...context.common,
      function: "metric",
      description: "mackerel-serverless: posts service metrics, host metrics and check reports from Step Functions",
      code: code("metric"),
      memorySize: 256,
      timeout: 30,
      // The state table for the host id (all functions agree on one Mackerel host) and check report seconds.
      environment: { ...context.mackerelEnvironment, STATE_TABLE_NAME: this.stateTable.table.name },
      statements: [
        context.readSecret,
        context.sendToSpool,
        this.stateTable.statement("MackerelHostId", ["dynamodb:GetItem", "dynamodb:UpdateItem"], ["host"]),
        // One occurredAt second per (host, check) across containers: a fast CRITICAL → OK must not share one.
        this.stateTable.statement("CheckReportSeconds", ["dynamodb:UpdateItem"], ["check#*"]),
      ],
      conditionalStatements: context.decryptSecret && [context.decryptSecret],
    });
    this.sender = this.spool.addSender(context);

    this.invokeMetricPolicyJson = Fn.jsonencode({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "InvokeMackerelMetricFunction",
          Effect: "Allow",
          Action: ["lambda:InvokeFunction"],
          // The bare ARN and qualified ARNs (versions, aliases), as Step Functions may call either.
          Resource: [this.metric.lambda.arn, arnWildcard(this.metric.lambda.arn)],
        },
      ],
    });

    this.checks = new ScheduledChecks(this, "checks", {
      context,
      logsInsightsChecks: toVariableList(props.logsInsightsChecks) as CheckList | undefined,
      httpChecks: toVariableList(props.httpChecks) as CheckList | undefined,
      sfnExecutionChecks: toVariableList(props.sfnExecutionChecks) as CheckList | undefined,
      logFreshnessChecks: toVariableList(props.logFreshnessChecks) as CheckList | undefined,
      s3FreshnessChecks: toVariableList(props.s3FreshnessChecks) as CheckList | undefined,
      opensearchQueryChecks: toVariableList(props.opensearchQueryChecks) as CheckList | undefined,
      logRules: logRules as CheckList | undefined,
      vpcConfig: vpcVariable(props.vpcConfig),
      // The per-minute tick of the log pipeline runs in the check function (log-monitoring.ts).
      ...tickSettings(this.stateTable, rulesEnvironment),
    });

    this.logs = new LogMonitoring(this, "logs", {
      context,
      table: this.stateTable,
      checkFunction: this.checks.function,
      rulesEnvironment,
      logSubscriptions: props.logSubscriptions as LogSubscriptionList | undefined,
      accountLogSubscription: props.accountLogSubscription,
    });
    for (const reader of [this.logs.function.lambda, this.checks.function.lambda]) {
      reader.dependsOn = [...(reader.dependsOn ?? []), dependable(rulesItem)];
    }

    this.mackerelMonitors = mackerelMonitors({
      prefix,
      serviceName: props.serviceName,
      jobFailureMetrics: props.jobFailureMetrics,
      logRules: logRules as MonitorsInput["logRules"],
      hostRoles: host.roles,
    });

    // Keep last: alarms for every function created above (errors, throttles) and for the spool.
    this.alarms = new Alarms(this, "alarms", {
      prefix,
      tags,
      alarmSnsTopicArn: props.alarmSnsTopicArn,
      functions: this.node.findAll().filter((c): c is ModuleFunction => c instanceof ModuleFunction),
      spool: this.spool,
    });
  }
}

/**
 * The log groups of the module's functions, known before the functions exist (the loop guard). With a
 * token prefix (the module's var.name) they are `local.own_log_group_names`: a list of templates that
 * function calls (concat, contains) can take, where literals holding a token cannot be escaped.
 */
function ownLogGroupNames(scope: Construct, prefix: string): string[] {
  const names = FUNCTION_NAMES.map((fn) => functionLogGroupName(prefix, fn));
  return Token.isUnresolved(prefix) ? namedLocal(scope, "own_log_group_names", names).asList : names;
}

/** Host settings from the `host` prop: literal attributes, or attributes of a token (a variable). */
function hostSettings(host: HostProps | IResolvable | undefined): HostProps {
  if (host === undefined) return {};
  if (!Token.isUnresolved(host)) return host as HostProps;
  const attribute = (name: string) => Token.asString(propertyAccess(host, [name]));
  return {
    name: attribute("name"),
    customIdentifier: attribute("custom_identifier"),
    id: attribute("id"),
    roles: Token.asList(propertyAccess(host, ["roles"])),
  };
}

/** `service:role,service:role` for the functions (roles cannot hold a comma); empty when none. */
function hostRolesEnvironment(roles: string[] | undefined): string {
  if (roles === undefined) return "";
  if (!Token.isUnresolved(roles)) return roles.join(",");
  // The variable's attribute defaults to [] (an explicit null becomes the default too).
  return Fn.join(",", roles);
}

/** The VPC settings in the variable's form (`subnet_ids`, `security_group_ids`), or the token. */
function vpcVariable(vpc: VpcConfigProps | IResolvable | undefined): VpcConfig | undefined {
  if (vpc === undefined || Token.isUnresolved(vpc)) return vpc as VpcConfig | undefined;
  return toVariableItem(vpc) as unknown as VpcConfig;
}

/** The zips shipped in this package, copied into the CDKTF user's stack as assets. */
function defaultCode(scope: Construct): (fn: FunctionName) => FunctionCode {
  return (fn) => {
    const zip = join(zipDirectory(), `${fn}.zip`);
    const asset = new TerraformAsset(scope, `${fn}-zip`, { path: zip, type: AssetType.FILE });
    // The base64 SHA-256 of the zip, as Lambda reports it: cdktf's asset hash is a different digest and
    // would make the provider see a change on every plan.
    return { filename: asset.path, sourceCodeHash: createHash("sha256").update(readFileSync(zip)).digest("base64") };
  };
}

/**
 * The shipped zips: `modules/mackerel-serverless/dist`, next to these sources (modules/construct) in a
 * checkout, or beside the compiled package (lib/) in an installed one.
 */
function zipDirectory(): string {
  const candidates = [
    join(__dirname, "..", "mackerel-serverless", "dist"),
    join(__dirname, "..", "modules", "mackerel-serverless", "dist"),
  ];
  const found = candidates.find((dir) => existsSync(join(dir, "metric.zip")));
  if (!found) throw new Error(`the function zips are missing: looked in ${candidates.join(" and ")}`);
  return found;
}
