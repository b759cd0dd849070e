/**
 * The `MackerelServerless` construct: everything the Terraform module creates. The module stack
 * (main.ts) instantiates it with Terraform variables; CDKTF users instantiate it in their own stacks
 * with literal values. Inputs may be literals or tokens: anything optional is resolved with Terraform
 * conditionals so both work.
 */
import { AssetType, Fn, type IResolvable, TerraformAsset, Token } from "cdktf";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Construct } from "constructs";
import { Alarms } from "./alarms";
import { arnWildcard, type FeatureContext, functionLogGroupName, isNullOrEmpty, orDefault } from "./context";
import {
  type AccountLogSubscription,
  LogMonitoring,
  type LogRuleList,
  logRulesJson,
  type LogSubscriptionList,
} from "./log-monitoring";
import { mackerelMonitors, type MonitorsInput } from "./monitors";
import { FUNCTION_NAMES, type FunctionCode, type FunctionName, ModuleFunction } from "./module-function";
import { type CheckList, ScheduledChecks, type VpcConfig } from "./scheduled-checks";
import { Spool } from "./spool";
import { StateTable } from "./state-table";

/** A subscription of one log group to the logs function. */
export interface LogSubscription {
  logGroupName: string;
  filterPattern?: string;
}

/** Props of {@link MackerelServerless}: the module's variables in camelCase (see README's inputs table). */
export interface MackerelServerlessProps {
  /** Prefix of every resource name. Default `mackerel-serverless`. */
  name?: string;
  /** Secrets Manager secret with the API key (raw or JSON `MACKEREL_API_KEY`). */
  apiKeySecretArn: string;
  /** Customer-managed KMS key of the secret; may be a token that is null. */
  apiKeyKmsKeyArn?: string;
  /** Default `https://api.mackerelio.com/`. */
  mackerelApiBaseUrl?: string;
  /** Default Mackerel service for service metrics. */
  serviceName: string;
  /** Host name; default: the name prefix. May be a token that is null. */
  hostName?: string;
  /** Host custom identifier; default `mackerel-serverless/<region>/<account>/<name>`. May be a null token. */
  hostCustomIdentifier?: string;
  /** Fixed Mackerel host id (no look-up or registration). May be a null token. */
  hostId?: string;
  /** Role full names (`service:role`) the host is registered with; may be a token (a list). */
  hostRoles?: string[];
  /** Default `nodejs22.x`. */
  lambdaRuntime?: string;
  /** Default `arm64`. */
  lambdaArchitecture?: string;
  /** Default 30. */
  logRetentionDays?: number;
  tags?: Record<string, string>;
  /** Where each function's zip is. Default: the zips shipped in this package, as CDKTF assets. */
  code?: (fn: FunctionName) => FunctionCode;
  /** SNS topic for the module's own alarms; may be a token that is null. */
  alarmSnsTopicArn?: string;
  /** Hours the sender retries a spooled message before the dead-letter queue (6-24, default 24). */
  spoolMaxAgeHours?: number;
  /** Scheduled checks: items as in the Terraform variables (snake_case), or the variables themselves. */
  logsInsightsChecks?: CheckList;
  httpChecks?: CheckList;
  sfnExecutionChecks?: CheckList;
  logFreshnessChecks?: CheckList;
  s3FreshnessChecks?: CheckList;
  opensearchQueryChecks?: CheckList;
  /** Subnets and security groups of the check function (`{subnet_ids, security_group_ids}`); may be a null token. */
  vpcConfig?: VpcConfig;
  /** Log groups subscribed to the logs function, one filter each (or the `log_subscriptions` variable). */
  logSubscriptions?: LogSubscriptionList;
  /** One account-level subscription policy instead (or the `account_log_subscription` variable, maybe null). */
  accountLogSubscription?: AccountLogSubscription;
  /** Log rules, items as in the Terraform variable (snake_case), or the `log_rules` variable. */
  logRules?: LogRuleList;
  /** Service metrics that are 1 when a job failed (for the `mackerel_monitors` output), or the variable. */
  jobFailureMetrics?: string[] | IResolvable;
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
    const prefix = props.name ?? "mackerel-serverless";
    const code = props.code ?? defaultCode(this);
    const secretArnParts = Fn.split(":", props.apiKeySecretArn);
    const defaultCustomIdentifier = Fn.format("mackerel-serverless/%s/%s/%s", [
      Fn.element(secretArnParts, 3),
      Fn.element(secretArnParts, 4),
      prefix,
    ]);

    const tags = props.tags ?? {};
    this.spool = new Spool(this, "spool", { prefix, tags, maxAgeHours: props.spoolMaxAgeHours });

    this.hostCustomIdentifier = orDefault(props.hostCustomIdentifier, defaultCustomIdentifier);
    const context: FeatureContext = {
      prefix,
      code,
      common: {
        prefix,
        runtime: props.lambdaRuntime ?? "nodejs22.x",
        architecture: props.lambdaArchitecture ?? "arm64",
        logRetentionDays: props.logRetentionDays ?? 30,
        tags: props.tags ?? {},
      },
      mackerelEnvironment: {
        MACKEREL_API_KEY_SECRET_ARN: props.apiKeySecretArn,
        MACKEREL_API_BASE_URL: props.mackerelApiBaseUrl ?? "https://api.mackerelio.com/",
        MACKEREL_SERVICE_NAME: props.serviceName,
        MACKEREL_HOST_NAME: orDefault(props.hostName, prefix),
        MACKEREL_HOST_CUSTOM_IDENTIFIER: this.hostCustomIdentifier,
        MACKEREL_HOST_ID: orDefault(props.hostId, ""),
        MACKEREL_HOST_ROLES: hostRolesEnvironment(props.hostRoles),
        SPOOL_QUEUE_URL: this.spool.queue.url,
      },
      sendToSpool: this.spool.sendStatement,
      readSecret: {
        Sid: "ReadMackerelApiKey",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: props.apiKeySecretArn,
      },
      decryptSecret:
        props.apiKeyKmsKeyArn === undefined
          ? undefined
          : (Fn.conditional(
              isNullOrEmpty(props.apiKeyKmsKeyArn),
              [],
              [
                {
                  Sid: "DecryptMackerelApiKey",
                  Effect: "Allow",
                  Action: ["kms:Decrypt"],
                  Resource: props.apiKeyKmsKeyArn,
                  // Only when Secrets Manager asks on the function's behalf.
                  Condition: {
                    StringEquals: {
                      "kms:ViaService": Fn.format("secretsmanager.%s.amazonaws.com", [Fn.element(secretArnParts, 3)]),
                    },
                  },
                },
              ],
            ) as IResolvable),
      ownLogGroupNames: FUNCTION_NAMES.map((fn) => functionLogGroupName(prefix, fn)),
    };
    this.ownLogGroupNames = context.ownLogGroupNames;
    this.stateTable = new StateTable(this, "state", { prefix, tags });
    const rulesJson = logRulesJson(props.logRules);

    this.metric = new ModuleFunction(this, "metric", {
      ...context.common,
      function: "metric",
      description: "mackerel-serverless: posts service metrics, host metrics and check reports from Step Functions",
      code: code("metric"),
      memorySize: 256,
      timeout: 30,
      // The state table for the host id only: all functions agree on one Mackerel host.
      environment: { ...context.mackerelEnvironment, STATE_TABLE_NAME: this.stateTable.table.name },
      statements: [
        context.readSecret,
        context.sendToSpool,
        this.stateTable.statement("MackerelHostId", ["dynamodb:GetItem", "dynamodb:UpdateItem"], ["host"]),
      ],
      conditionalStatements: context.decryptSecret,
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
      logsInsightsChecks: props.logsInsightsChecks,
      httpChecks: props.httpChecks,
      sfnExecutionChecks: props.sfnExecutionChecks,
      logFreshnessChecks: props.logFreshnessChecks,
      s3FreshnessChecks: props.s3FreshnessChecks,
      opensearchQueryChecks: props.opensearchQueryChecks,
      vpcConfig: props.vpcConfig,
      // The per-minute tick runs in the check function: it reads and updates the state table.
      environment: { STATE_TABLE_NAME: this.stateTable.table.name, MACKEREL_LOG_RULES: rulesJson },
      statements: [
        this.stateTable.statement("TickState", ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query"]),
      ],
    });

    this.logs = new LogMonitoring(this, "logs", {
      context,
      table: this.stateTable,
      checkFunction: this.checks.function,
      rulesJson,
      logSubscriptions: props.logSubscriptions,
      accountLogSubscription: props.accountLogSubscription,
    });

    this.mackerelMonitors = mackerelMonitors({
      prefix,
      serviceName: props.serviceName,
      jobFailureMetrics: props.jobFailureMetrics,
      logRules: props.logRules as MonitorsInput["logRules"],
      hostRoles: props.hostRoles,
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

/** `service:role,service:role` for the functions (roles cannot hold a comma); empty when none. */
function hostRolesEnvironment(roles: string[] | undefined): string {
  if (roles === undefined) return "";
  if (!Token.isUnresolved(roles)) return roles.join(",");
  // The variable's attribute defaults to [] (an explicit null becomes the default too).
  return Fn.join(",", roles);
}

/** The zips shipped in this package, copied into the CDKTF user's stack as assets. */
function defaultCode(scope: Construct): (fn: FunctionName) => FunctionCode {
  return (fn) => {
    const zip = join(__dirname, "..", "mackerel-serverless", "dist", `${fn}.zip`);
    const asset = new TerraformAsset(scope, `${fn}-zip`, { path: zip, type: AssetType.FILE });
    // The base64 SHA-256 of the zip, as Lambda reports it: cdktf's asset hash is a different digest and
    // would make the provider see a change on every plan.
    return { filename: asset.path, sourceCodeHash: createHash("sha256").update(readFileSync(zip)).digest("base64") };
  };
}
