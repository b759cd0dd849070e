/**
 * The typed, camelCase items of {@link MackerelServerlessProps}: each is the matching Terraform variable's
 * item (README's inputs table) with its attributes in camelCase. {@link toVariableItem} turns one into the
 * variable's snake_case form, which is what the functions receive, so the two front doors stay one.
 */
import type { IResolvable } from "cdktf";

/** Alert settings every check takes (sent to Mackerel with each report). */
export interface CheckAlertSettings {
  /** Minutes between Mackerel's re-notifications of an open alert (at least 10). @default Mackerel's own */
  readonly notificationInterval?: number;
  /** Consecutive non-OK reports before Mackerel opens an alert (1-10). @default 1 */
  readonly maxCheckAttempts?: number;
}

/** What every check takes. */
export interface CheckBase extends CheckAlertSettings {
  /** 1-64 characters of a-zA-Z0-9_-: the Mackerel check's name and the metrics `checks.<name>.*`. */
  readonly name: string;
  /** EventBridge schedule, `rate(...)` or `cron(...)` (UTC). @default per kind, see each */
  readonly schedule?: string;
}

/** A scheduled CloudWatch Logs Insights query (`logs_insights_checks`). Schedule @default `rate(5 minutes)`. */
export interface LogsInsightsCheck extends CheckBase {
  /** 1-50 log groups to query. */
  readonly logGroupNames: string[];
  /** The Logs Insights query. */
  readonly query: string;
  /** Minutes the query covers, ending `offsetMinutes` before now. @default 5 */
  readonly windowMinutes?: number;
  /** Minutes the window ends before now (for late logs). @default 0 */
  readonly offsetMinutes?: number;
  /** Numeric field of the first row used as the value. @default the number of result rows */
  readonly valueField?: string;
  /** WARNING threshold. @default none */
  readonly warning?: number;
  /** CRITICAL threshold. @default none */
  readonly critical?: number;
  /** Alert on values `above` (>=) or `below` (<=) the thresholds. @default "above" */
  readonly direction?: "above" | "below";
}

/** An HTTP check (`http_checks`). Schedule @default `rate(1 minute)`. */
export interface HttpCheck extends CheckBase {
  /** http:// or https:// URL. */
  readonly url: string;
  /** @default "GET" */
  readonly method?: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";
  /** Request headers (non-secret values only: they travel in the rule's input). @default {} */
  readonly headers?: Record<string, string>;
  /** Statuses that count as OK. @default [200] */
  readonly expectedStatus?: number[];
  /** Text the body must contain. @default none */
  readonly bodyContains?: string;
  /** Regex (RE2 syntax) the first 1 MiB of the body must match. @default none */
  readonly bodyRegex?: string;
  /** Seconds for the whole exchange (1-60). @default 10 */
  readonly timeoutSeconds?: number;
  /** WARNING at this latency or more. @default none */
  readonly warningLatencyMs?: number;
  /** CRITICAL at this latency or more. @default none */
  readonly criticalLatencyMs?: number;
  /** Follow redirects (at most 5); false compares the 3xx itself with `expectedStatus`. @default true */
  readonly followRedirects?: boolean;
  /**
   * Secrets Manager secret with the check's credentials (`{"headers": {...}}` and/or `{"username", "password"}`),
   * read by the check function when it runs: never in the rule's input or Terraform state. @default none
   */
  readonly headersSecretArn?: string;
  /**
   * The customer-managed KMS key that encrypts `headersSecretArn`, if any: the check function may use it for
   * `kms:Decrypt` through Secrets Manager only. @default none (the `aws/secretsmanager` key)
   */
  readonly headersSecretKmsKeyArn?: string;
}

/** A Step Functions execution check (`sfn_execution_checks`). Schedule @default `rate(5 minutes)`. */
export interface SfnExecutionCheck extends CheckBase {
  /** The state machine (Standard workflow). */
  readonly stateMachineArn: string;
  /** Minutes back that executions are counted from. @default 60 */
  readonly windowMinutes?: number;
  /** Statuses counted. @default ["FAILED", "TIMED_OUT", "ABORTED"] */
  readonly statuses?: ("RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "PENDING_REDRIVE")[];
  /** WARNING at this many executions or more. @default none */
  readonly warning?: number;
  /** CRITICAL at this many executions or more. @default 1 */
  readonly critical?: number;
  /** Executions RUNNING longer than this are CRITICAL. @default none */
  readonly maxRunningMinutes?: number;
}

/** A log freshness check, a dead-man's switch (`log_freshness_checks`). Schedule @default `rate(5 minutes)`. */
export interface LogFreshnessCheck extends CheckBase {
  /** The log group that must keep receiving events. */
  readonly logGroupName: string;
  /** CRITICAL when the newest event is older than this. */
  readonly maxAgeMinutes: number;
}

/** A pulse file in S3 (`s3_freshness_checks`). Schedule @default `rate(5 minutes)`. */
export interface S3FreshnessCheck extends CheckBase {
  readonly bucket: string;
  /** Key prefix of the pulses (`""` = the whole bucket). */
  readonly prefix: string;
  /** CRITICAL when the newest object under the prefix is older than this. */
  readonly maxAgeMinutes: number;
  /** Text the newest object's body (first 64 KiB) must contain. @default none */
  readonly bodyContains?: string;
}

/** A count (or per-bucket counts) of OpenSearch documents (`opensearch_query_checks`). Schedule @default `rate(5 minutes)`. */
export interface OpenSearchQueryCheck extends CheckBase {
  /** `https://` endpoint of the domain or serverless collection. */
  readonly endpoint: string;
  /** Index or index pattern (`logs-*`). */
  readonly index: string;
  /** Query DSL JSON (one query clause) or a `query_string` text. */
  readonly query: string;
  /** SigV4 service: `es` (managed domains) or `aoss` (serverless collections). @default from the endpoint */
  readonly service?: "es" | "aoss";
  /** @default "@timestamp" */
  readonly timeField?: string;
  /** @default 5 */
  readonly windowMinutes?: number;
  /** @default 0 */
  readonly offsetMinutes?: number;
  /** Field of a terms aggregation: one metric per bucket. @default none */
  readonly groupBy?: string;
  /** @default none */
  readonly warning?: number;
  /** @default none */
  readonly critical?: number;
  /** @default "above" */
  readonly direction?: "above" | "below";
  /** Link shown in the report. @default none */
  readonly dashboardsUrl?: string;
}

/** A log rule of the logs function (`log_rules`); metric `logs.<name>.count` in `serviceName`. */
export interface LogRule {
  /** 1-64 characters of a-zA-Z0-9_-: the Mackerel check's name. */
  readonly name: string;
  /** Globs (* and ?) of the log groups the rule watches. @default all subscribed log groups */
  readonly logGroups?: string[];
  /** Regexes; a line matching any of them counts (at least one). */
  readonly include: string[];
  /** Regexes; a line matching any of them does not count (exclude wins). @default [] */
  readonly exclude?: string[];
  /** Status of the alert. @default "CRITICAL" */
  readonly status?: "WARNING" | "CRITICAL";
  /** Quiet minutes before OK is posted. @default 10 */
  readonly recoverAfterMinutes?: number;
  /** Lines quoted in the report. @default 5 */
  readonly maxSamples?: number;
  /** Minutes between Mackerel's re-notifications (at least 10). @default Mackerel's own */
  readonly notificationInterval?: number;
  /** Extra regexes masked in the quoted lines. @default [] */
  readonly redact?: string[];
}

/** The Mackerel host that check reports and the heartbeat attach to (`host`). */
export interface HostProps {
  /** @default the name prefix (`name`) */
  readonly name?: string;
  /** @default `mackerel-serverless/<region>/<account>/<name>` (the provider's region and account) */
  readonly customIdentifier?: string;
  /** A fixed Mackerel host id: no look-up or registration. @default found or registered by customIdentifier */
  readonly id?: string;
  /** Role full names (`service:role`) the host is registered with, to scope notifications. @default [] */
  readonly roles?: string[];
}

/** Where the check function runs in a VPC (`vpc_config`). */
export interface VpcConfigProps {
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
}

/** `camelCase` → `snake_case`. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `snake_case` → `camelCase`. */
export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * One item as the Terraform variable holds it: top-level attributes in snake_case, values as given (so
 * a header's name or a log group's is never rewritten). Unset attributes stay absent.
 */
export function toVariableItem(item: object): { name: string } & Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(item)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [snakeCase(key), value]),
  ) as { name: string } & Record<string, unknown>;
}

/** A literal list in its variable's form, or the token as it is (the module stack passes variables). */
export function toVariableList<T extends object>(
  list: readonly T[] | IResolvable | undefined,
): ({ name: string } & Record<string, unknown>)[] | IResolvable | undefined {
  if (list === undefined || !Array.isArray(list)) return list as IResolvable | undefined;
  return list.map(toVariableItem);
}
