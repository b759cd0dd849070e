/**
 * Literal props get the module's variable validation at synth, with the same rule text (taken from
 * {@link VARIABLES}) naming the prop instead of the variable: `serviceName: "my service"` fails at synth,
 * as `service_name = "my service"` fails at plan. Tokens (the module stack's variables) are left to
 * Terraform. Checks are validated by the check function's own parser; log rules by the logs function's
 * compiler (log-monitoring.ts); check names and schedules in scheduled-checks.ts.
 */
import { Token } from "cdktf";
import { parseCheckSpec } from "../../functions/check/spec";
import { CheckInputError } from "../../functions/shared/errors";
import { camelCase, toVariableItem } from "./props";
import { TF_SERVICE_NAME, VARIABLES } from "./variables";

/** Thrown for a prop that breaks its variable's rule; the message starts with the prop's name. */
export class PropValidationError extends Error {
  override readonly name = "PropValidationError";
}

/** The rule text of `variable`'s validation number `index`, naming `prop` instead. */
function ruleText(variable: string, index: number, prop: string): string {
  const message = VARIABLES.find((v) => v.name === variable)?.validations?.[index]?.errorMessage;
  if (message === undefined) throw new Error(`no validation ${index} of variable ${variable}`);
  return message.startsWith(variable) ? `${prop}${message.slice(variable.length)}` : `${prop}: ${message}`;
}

const ARN = (service: string, rest: string) =>
  new RegExp(`^arn:aws[a-zA-Z-]*:${service}:[a-z0-9-]+:[0-9]{12}:${rest}$`);
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
const LOG_GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;

/** A literal value (not a token, not undefined or null) to check. */
function literal<T>(value: T | undefined | null): value is T {
  return value !== undefined && value !== null && !Token.isUnresolved(value);
}

interface ScalarRule {
  prop: string;
  variable: string;
  index?: number;
  value: unknown;
  ok: (value: never) => boolean;
}

/** The check lists: prop, the `kind` the check function dispatches on. */
const CHECK_PROPS = [
  { prop: "logsInsightsChecks", kind: "logs_insights" },
  { prop: "httpChecks", kind: "http" },
  { prop: "sfnExecutionChecks", kind: "sfn_execution" },
  { prop: "logFreshnessChecks", kind: "log_freshness" },
] as const;

/** Validates the literal props; throws {@link PropValidationError} naming the first prop that breaks a rule. */
export function validateProps(props: Record<string, unknown>): void {
  const host = (literal(props.host) ? props.host : {}) as Record<string, unknown>;
  const vpc = (literal(props.vpcConfig) ? props.vpcConfig : undefined) as Record<string, unknown[]> | undefined;
  const rules: ScalarRule[] = [
    { prop: "name", variable: "name", value: props.name, ok: (v: string) => /^[a-zA-Z0-9_-]{1,40}$/.test(v) },
    {
      prop: "apiKeySecretArn",
      variable: "api_key_secret_arn",
      value: props.apiKeySecretArn,
      ok: (v: string) => ARN("secretsmanager", "secret:.+").test(v),
    },
    {
      prop: "apiKeyKmsKeyArn",
      variable: "api_key_kms_key_arn",
      value: props.apiKeyKmsKeyArn,
      ok: (v: string) => ARN("kms", "key/.+").test(v),
    },
    {
      prop: "mackerelApiBaseUrl",
      variable: "mackerel_api_base_url",
      value: props.mackerelApiBaseUrl,
      ok: (v: string) => /^https?:\/\/[^/ ]+(\/.*)?$/.test(v),
    },
    {
      prop: "serviceName",
      variable: "service_name",
      value: props.serviceName,
      ok: (v: string) => new RegExp(TF_SERVICE_NAME).test(v),
    },
    { prop: "host.name", variable: "host", value: host.name, ok: (v: string) => /^[^\s]{1,255}$/.test(v) },
    { prop: "host.id", variable: "host", index: 1, value: host.id, ok: (v: string) => /^[a-zA-Z0-9]{6,32}$/.test(v) },
    {
      prop: "alarmSnsTopicArn",
      variable: "alarm_sns_topic_arn",
      value: props.alarmSnsTopicArn,
      ok: (v: string) => ARN("sns", ".+").test(v),
    },
    {
      prop: "spoolMaxAgeHours",
      variable: "spool_max_age_hours",
      value: props.spoolMaxAgeHours,
      ok: (v: number) => Number.isInteger(v) && v >= 6 && v <= 24,
    },
    {
      prop: "lambdaRuntime",
      variable: "lambda_runtime",
      value: props.lambdaRuntime,
      ok: (v: string) => /^nodejs(2[2-9]|[3-9][0-9])\.x$/.test(v),
    },
    {
      prop: "lambdaArchitecture",
      variable: "lambda_architecture",
      value: props.lambdaArchitecture,
      ok: (v: string) => v === "arm64" || v === "x86_64",
    },
    {
      prop: "logRetentionDays",
      variable: "log_retention_days",
      value: props.logRetentionDays,
      ok: (v: number) => RETENTION_DAYS.includes(v),
    },
    {
      prop: "vpcConfig",
      variable: "vpc_config",
      value: vpc,
      ok: (v: { subnetIds?: unknown[]; securityGroupIds?: unknown[] }) =>
        (v.subnetIds?.length ?? 0) > 0 && (v.securityGroupIds?.length ?? 0) > 0,
    },
  ];
  for (const rule of rules) {
    if (!literal(rule.value)) continue;
    if (!rule.ok(rule.value as never)) {
      // host's messages start with host.name / host.id already.
      const text = ruleText(rule.variable, rule.index ?? 0, rule.variable === "host" ? "host" : rule.prop);
      throw new PropValidationError(`${text} Got ${JSON.stringify(rule.value)}.`);
    }
  }

  const subscriptions = props.logSubscriptions;
  if (literal(subscriptions) && Array.isArray(subscriptions)) {
    const names = (subscriptions as { logGroupName: string }[]).map((s) => s.logGroupName);
    names.forEach((name, i) => {
      if (literal(name) && !LOG_GROUP_NAME.test(name)) {
        throw new PropValidationError(
          `logSubscriptions[${i}].logGroupName: must be 1-512 characters of a-zA-Z0-9 . - _ / #. Got ${JSON.stringify(name)}.`,
        );
      }
    });
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated !== undefined) {
      throw new PropValidationError(`logSubscriptions: each log group may appear once; ${repeated} repeats.`);
    }
  }

  for (const { prop, kind } of CHECK_PROPS) {
    const list = props[prop];
    if (!literal(list) || !Array.isArray(list)) continue;
    list.forEach((item: object, i) => {
      if (Token.isUnresolved(item)) return;
      try {
        parseCheckSpec({ ...toVariableItem(item), kind });
      } catch (error) {
        if (!(error instanceof CheckInputError)) throw error;
        // The function's field paths (check.<snake_case>) in the prop's terms.
        const issues = error.issues.map((issue) =>
          issue.replace(/^check\.([a-z_]+)/, (_, field: string) => `${prop}[${i}].${camelCase(field)}`),
        );
        throw new PropValidationError(issues.join("; "), { cause: error });
      }
    });
  }
}
