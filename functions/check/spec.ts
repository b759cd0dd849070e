/**
 * The check function's input: `{"check": {"kind", ...spec}}` as an EventBridge rule's target input
 * carries it (the Terraform variable's item, snake_case, absent optional attributes as null), or
 * `{"tick": {}}`. Validated with zod; null means absent, and the documented defaults are applied here,
 * in one place.
 */
import * as z from "zod/mini";
import { CheckInputError } from "../shared/errors.js";
import { CHECK_NAME } from "../shared/names.js";
import { compileUserPattern, type UserPattern } from "../shared/user-regexp.js";

export const CHECK_KINDS = [
  "logs_insights",
  "http",
  "sfn_execution",
  "log_freshness",
  "s3_freshness",
  "opensearch_query",
] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export const SFN_STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"] as const;
export type SfnStatus = (typeof SFN_STATUSES)[number];

/** Documented defaults (README, variable descriptions). */
export const DEFAULTS = {
  logsInsights: { windowMinutes: 5, offsetMinutes: 0, direction: "above" as const },
  http: { method: "GET" as const, expectedStatus: [200], timeoutSeconds: 10, followRedirects: true },
  sfnExecution: {
    windowMinutes: 60,
    statuses: ["FAILED", "TIMED_OUT", "ABORTED"] as SfnStatus[],
    critical: 1,
  },
} as const;

export type Direction = "above" | "below";

/** What every kind shares. */
export interface CommonSpec {
  name: string;
  /** Mackerel's notification interval of the check's alerts, in minutes (>= 10). */
  notificationInterval?: number;
  /** Consecutive non-OK reports before Mackerel opens an alert (1–10). */
  maxCheckAttempts?: number;
}

export interface LogsInsightsSpec extends CommonSpec {
  kind: "logs_insights";
  logGroupNames: string[];
  query: string;
  windowMinutes: number;
  offsetMinutes: number;
  valueField?: string;
  warning?: number;
  critical?: number;
  direction: Direction;
}

export interface HttpSpec extends CommonSpec {
  kind: "http";
  url: string;
  method: (typeof HTTP_METHODS)[number];
  headers: Record<string, string>;
  expectedStatus: number[];
  bodyContains?: string;
  /** RE2, like Terraform's validation: linear time on the whole (1 MiB) body. */
  bodyRegex?: UserPattern;
  timeoutSeconds: number;
  warningLatencyMs?: number;
  criticalLatencyMs?: number;
  followRedirects: boolean;
  /** Secrets Manager secret with more headers and/or basic auth, read by the function (functions/check/http-auth.ts). */
  headersSecretArn?: string;
}

export interface SfnExecutionSpec extends CommonSpec {
  kind: "sfn_execution";
  stateMachineArn: string;
  windowMinutes: number;
  statuses: SfnStatus[];
  warning?: number;
  critical?: number;
  maxRunningMinutes?: number;
}

export interface LogFreshnessSpec extends CommonSpec {
  kind: "log_freshness";
  logGroupName: string;
  maxAgeMinutes: number;
}

export type CheckSpec =
  LogsInsightsSpec | HttpSpec | SfnExecutionSpec | LogFreshnessSpec | S3FreshnessSpec | OpenSearchQuerySpec;

export interface S3FreshnessSpec extends CommonSpec {
  kind: "s3_freshness";
  bucket: string;
  /** Key prefix; empty means the whole bucket. */
  prefix: string;
  maxAgeMinutes: number;
  bodyContains?: string;
}

/** The user's query: query DSL (one query clause) or a query_string text. */
export type OpenSearchQuery = { kind: "dsl"; clause: Record<string, unknown> } | { kind: "query_string"; text: string };

export interface OpenSearchQuerySpec extends CommonSpec {
  kind: "opensearch_query";
  /** The endpoint's origin and base path, no trailing slash. */
  endpoint: string;
  index: string;
  query: OpenSearchQuery;
  /** SigV4 service name: es (managed domains) or aoss (serverless collections). */
  service: "es" | "aoss";
  /** The signing region when the endpoint names one (`<...>.<region>.es.amazonaws.com`). */
  region?: string;
  timeField: string;
  windowMinutes: number;
  offsetMinutes: number;
  groupBy?: string;
  warning?: number;
  critical?: number;
  direction: Direction;
  dashboardsUrl?: string;
}

export type CheckEvent = { type: "check"; spec: CheckSpec } | { type: "tick" };

// --- schemas -------------------------------------------------------------------------------------

const CHECK_NAME_RULE = "must be 1–64 characters of a-zA-Z0-9_- (Mackerel check name and metric segment)";
const LOG_GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const LOG_GROUP_RULE = "must be 1–512 characters of a-zA-Z0-9 . - _ / #";
const STATE_MACHINE_ARN = /^arn:aws[a-zA-Z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:.+$/;

/** `null` and absent are the same: Terraform sends null for unset optional attributes (see {@link withoutNulls}). */
const opt = z.nullish;

/** How an HTTP check authenticates (the README's "HTTP checks that need credentials"). */
export const HTTP_AUTH_HINT =
  // Worded without `"password": …` pairs: error messages are redacted, and a pair would be masked.
  "put the credentials in a Secrets Manager secret (JSON with username and password for basic auth, or with headers) and set headers_secret_arn";
const wholeNumber = (min: number, max: number, unit: string) =>
  z
    .int(`must be a whole number of ${unit}`)
    .check(z.minimum(min, `must be at least ${min} ${unit}`), z.maximum(max, `must be at most ${max} ${unit}`));
const threshold = z.number({ error: "must be a number" }).check(z.refine((v) => v >= 0, "must be zero or more"));
const nonEmpty = z.string({ error: "must be a string" }).check(z.minLength(1, "must not be empty"));

const common = {
  name: z.string({ error: "is required" }).check(z.regex(CHECK_NAME, CHECK_NAME_RULE)),
  /** Used by the module's rule only; accepted and ignored here. */
  schedule: opt(z.string()),
  notification_interval: opt(wholeNumber(10, 525600, "minutes")),
  max_check_attempts: opt(wholeNumber(1, 10, "attempts")),
};

const logsInsightsSchema = z.strictObject({
  kind: z.literal("logs_insights"),
  ...common,
  log_group_names: z
    .array(z.string().check(z.regex(LOG_GROUP_NAME, LOG_GROUP_RULE)), { error: "must be a list of log group names" })
    .check(
      z.minLength(1, "must list at least one log group"),
      z.maxLength(50, "must list at most 50 log groups (Logs Insights' limit)"),
    ),
  query: z.string({ error: "is required" }).check(
    z.refine((q) => q.trim() !== "", "must not be empty"),
    z.maxLength(10000, "must be at most 10000 characters"),
  ),
  window_minutes: opt(wholeNumber(1, 10080, "minutes")),
  offset_minutes: opt(wholeNumber(0, 10080, "minutes")),
  value_field: opt(nonEmpty),
  warning: opt(threshold),
  critical: opt(threshold),
  direction: opt(z.enum(["above", "below"], { error: "must be above or below" })),
});

const httpSchema = z.strictObject({
  kind: z.literal("http"),
  ...common,
  url: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }),
  method: opt(z.enum(HTTP_METHODS, { error: `must be one of ${HTTP_METHODS.join(", ")}` })),
  headers: opt(z.record(z.string(), z.string({ error: "header values must be strings" }))),
  expected_status: opt(
    z.array(wholeNumber(100, 599, "(an HTTP status code)")).check(z.minLength(1, "must list at least one status code")),
  ),
  body_contains: opt(nonEmpty),
  body_regex: opt(nonEmpty),
  timeout_seconds: opt(wholeNumber(1, 60, "seconds")),
  warning_latency_ms: opt(threshold),
  critical_latency_ms: opt(threshold),
  follow_redirects: opt(z.boolean({ error: "must be true or false" })),
  headers_secret_arn: opt(
    z
      .string({ error: "must be a string" })
      .check(
        z.regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, "must be a Secrets Manager secret ARN"),
      ),
  ),
});

const sfnSchema = z.strictObject({
  kind: z.literal("sfn_execution"),
  ...common,
  state_machine_arn: z
    .string({ error: "is required" })
    .check(z.regex(STATE_MACHINE_ARN, "must be a state machine ARN")),
  window_minutes: opt(wholeNumber(1, 10080, "minutes")),
  statuses: opt(
    z
      .array(z.enum(SFN_STATUSES, { error: `must be among ${SFN_STATUSES.join(", ")}` }))
      .check(z.minLength(1, "must list at least one status")),
  ),
  warning: opt(threshold),
  critical: opt(threshold),
  max_running_minutes: opt(wholeNumber(1, 525600, "minutes")),
});

const freshnessSchema = z.strictObject({
  kind: z.literal("log_freshness"),
  ...common,
  log_group_name: z.string({ error: "is required" }).check(z.regex(LOG_GROUP_NAME, LOG_GROUP_RULE)),
  max_age_minutes: wholeNumber(1, 10080, "minutes"),
});

/** null → absent, so `??` applies the defaults and unset optional fields stay unset. */
function withoutNulls<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)) as {
    [K in keyof T]: Exclude<T[K], null>;
  };
}

// --- S3 freshness and OpenSearch query checks ------------------------------------------------------

/** S3 bucket names (general purpose and directory buckets): 3–63 of a-z 0-9 . - */
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](--[a-z0-9-]+--x-s3)?$/;
/** Index names and patterns as OpenSearch takes them in a path: lowercase, `*` and `,` for patterns. */
export const OPENSEARCH_INDEX = /^[a-z0-9*.][a-z0-9*._+,:-]{0,511}$/;
export const OPENSEARCH_FIELD = /^[A-Za-z0-9@_.-]{1,256}$/;
/** `<...>.<region>.es.amazonaws.com` (domains, VPC domains) and `<id>.<region>.aoss.amazonaws.com`. */
const AWS_SEARCH_HOST = /\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.(es|aoss)\.amazonaws\.com(?:\.cn)?$/;

const s3FreshnessSchema = z.strictObject({
  kind: z.literal("s3_freshness"),
  ...common,
  bucket: z
    .string({ error: "is required" })
    .check(z.regex(S3_BUCKET, "must be an S3 bucket name (3–63 characters of a-z 0-9 . -)")),
  prefix: opt(
    z
      .string({ error: "must be a string" })
      .check(z.maxLength(1024, "must be at most 1024 characters (S3's key limit)")),
  ),
  max_age_minutes: wholeNumber(1, 10080, "minutes"),
  body_contains: opt(nonEmpty),
});

const openSearchSchema = z.strictObject({
  kind: z.literal("opensearch_query"),
  ...common,
  endpoint: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }),
  index: z
    .string({ error: "is required" })
    .check(z.regex(OPENSEARCH_INDEX, "must be an index name or pattern (lowercase a-z 0-9 * . _ + , : -)")),
  query: z.string({ error: "is required" }).check(
    z.refine((q) => q.trim() !== "", "must not be empty"),
    z.maxLength(10000, "must be at most 10000 characters"),
  ),
  service: opt(z.enum(["es", "aoss"], { error: "must be es or aoss" })),
  time_field: opt(z.string().check(z.regex(OPENSEARCH_FIELD, "must be a field name (A-Za-z0-9 @ _ . -)"))),
  window_minutes: opt(wholeNumber(1, 10080, "minutes")),
  offset_minutes: opt(wholeNumber(0, 10080, "minutes")),
  group_by: opt(z.string().check(z.regex(OPENSEARCH_FIELD, "must be a field name (A-Za-z0-9 @ _ . -)"))),
  warning: opt(threshold),
  critical: opt(threshold),
  direction: opt(z.enum(["above", "below"], { error: "must be above or below" })),
  dashboards_url: opt(z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })),
});

/** Query DSL when the text is a JSON object (`{"match": ...}` or `{"query": {...}}`), else a query_string. */
export function parseOpenSearchQuery(text: string): OpenSearchQuery | string {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) return { kind: "query_string", text: trimmed };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    return `is not valid JSON query DSL (${(error as Error).message})`;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return "must be a JSON object";
  let clause = parsed as Record<string, unknown>;
  const keys = Object.keys(clause);
  if (keys.length === 1 && keys[0] === "query") clause = clause.query as Record<string, unknown>;
  if (clause === null || typeof clause !== "object" || Array.isArray(clause) || Object.keys(clause).length !== 1) {
    return 'must hold exactly one query clause, e.g. {"match": {"level": "ERROR"}}';
  }
  return { kind: "dsl", clause };
}

/** The SigV4 service and region an endpoint implies (`*.aoss.amazonaws.com` is serverless). */
export function searchEndpointFacts(endpoint: string): { service: "es" | "aoss"; region?: string } {
  const match = AWS_SEARCH_HOST.exec(new URL(endpoint).hostname);
  return { service: match?.[2] === "aoss" ? "aoss" : "es", ...(match ? { region: match[1] } : {}) };
}

export const S3_FRESHNESS_DEFAULTS = { prefix: "" } as const;
export const OPENSEARCH_DEFAULTS = {
  timeField: "@timestamp",
  windowMinutes: 5,
  offsetMinutes: 0,
  direction: "above" as const,
} as const;

const SCHEMAS = {
  logs_insights: logsInsightsSchema,
  http: httpSchema,
  sfn_execution: sfnSchema,
  log_freshness: freshnessSchema,
  s3_freshness: s3FreshnessSchema,
  opensearch_query: openSearchSchema,
} as const;

// --- parsing -------------------------------------------------------------------------------------

const FORMS = `expected {"check": {"kind": ${CHECK_KINDS.map((k) => `"${k}"`).join("|")}, "name", ...}} or {"tick": {}}`;

function formatPath(path: readonly PropertyKey[]): string {
  let out = "check";
  for (const segment of path) out += typeof segment === "number" ? `[${segment}]` : `.${String(segment)}`;
  return out;
}

function fail(issues: string[], checkName?: string): never {
  throw new CheckInputError(`invalid check input: ${issues.join("; ")}`, issues, checkName);
}

/**
 * Compiles `body_regex` with the engine of the log rules: RE2 syntax and semantics, exactly what Terraform's
 * `regex()` validated, in time linear in the body whatever the pattern.
 *
 * @throws `UserRegExpError` naming the rule broken.
 */
export function compileRegex(pattern: string): UserPattern {
  return compileUserPattern(pattern);
}

/** Whether a threshold pair is ordered so that WARNING comes before CRITICAL in the given direction. */
export function thresholdsOrdered(warning: number | undefined, critical: number | undefined, direction: Direction) {
  if (warning === undefined || critical === undefined) return true;
  return direction === "above" ? warning <= critical : warning >= critical;
}

/**
 * Validates a check function event and applies the documented defaults.
 *
 * @throws CheckInputError (a MackerelValidationError) naming every bad field and the rule it breaks
 */
export function parseCheckEvent(event: unknown): CheckEvent {
  if (event === null || typeof event !== "object" || Array.isArray(event))
    fail([`event: must be a JSON object (${FORMS})`]);
  const record = event as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === "tick") return { type: "tick" };
  if (keys.length !== 1 || keys[0] !== "check")
    fail([`event: unknown shape with fields ${keys.map((k) => `"${k}"`).join(", ") || "none"} (${FORMS})`]);
  return { type: "check", spec: parseCheckSpec(record.check) };
}

/** Validates one check spec (the `check` object). */
export function parseCheckSpec(input: unknown): CheckSpec {
  if (input === null || typeof input !== "object" || Array.isArray(input))
    fail([`check: must be a JSON object (${FORMS})`]);
  const raw = input as Record<string, unknown>;
  const name = typeof raw.name === "string" && CHECK_NAME.test(raw.name) ? raw.name : undefined;
  const kind = raw.kind;
  if (typeof kind !== "string" || !(CHECK_KINDS as readonly string[]).includes(kind)) {
    fail([`check.kind: must be one of ${CHECK_KINDS.join(", ")}`], name);
  }
  const result = SCHEMAS[kind as CheckKind].safeParse(raw);
  if (!result.success) {
    fail(
      result.error.issues.map((issue) =>
        issue.code === "unrecognized_keys"
          ? `${formatPath(issue.path)}: unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")} for kind ${kind}`
          : `${formatPath(issue.path)}: ${issue.message}`,
      ),
      name,
    );
  }
  const data = withoutNulls(result.data);
  const shared: CommonSpec = {
    name: data.name,
    ...(data.notification_interval === undefined ? {} : { notificationInterval: data.notification_interval }),
    ...(data.max_check_attempts === undefined ? {} : { maxCheckAttempts: data.max_check_attempts }),
  };
  switch (data.kind) {
    case "logs_insights": {
      const direction = data.direction ?? DEFAULTS.logsInsights.direction;
      if (!thresholdsOrdered(data.warning, data.critical, direction)) {
        fail(
          [
            `check.warning: must be ${direction === "above" ? "at most" : "at least"} critical when direction is ${direction}`,
          ],
          name,
        );
      }
      return {
        ...shared,
        kind: "logs_insights",
        logGroupNames: data.log_group_names,
        query: data.query,
        windowMinutes: data.window_minutes ?? DEFAULTS.logsInsights.windowMinutes,
        offsetMinutes: data.offset_minutes ?? DEFAULTS.logsInsights.offsetMinutes,
        valueField: data.value_field,
        warning: data.warning,
        critical: data.critical,
        direction,
      };
    }
    case "http": {
      let bodyRegex: UserPattern | undefined;
      if (data.body_regex !== undefined) {
        try {
          bodyRegex = compileRegex(data.body_regex);
        } catch (error) {
          fail([`check.body_regex: does not compile (${(error as Error).message})`], name);
        }
      }
      if (!thresholdsOrdered(data.warning_latency_ms, data.critical_latency_ms, "above")) {
        fail(["check.warning_latency_ms: must be at most critical_latency_ms"], name);
      }
      if (URL.canParse(data.url) && (new URL(data.url).username !== "" || new URL(data.url).password !== "")) {
        // fetch refuses such a URL on every run; say how to authenticate instead.
        fail([`check.url: must not hold user info (user:password@); ${HTTP_AUTH_HINT}`], name);
      }
      return {
        ...shared,
        kind: "http",
        url: data.url,
        method: data.method ?? DEFAULTS.http.method,
        headers: data.headers ?? {},
        expectedStatus: data.expected_status ?? [...DEFAULTS.http.expectedStatus],
        bodyContains: data.body_contains,
        bodyRegex,
        timeoutSeconds: data.timeout_seconds ?? DEFAULTS.http.timeoutSeconds,
        warningLatencyMs: data.warning_latency_ms,
        criticalLatencyMs: data.critical_latency_ms,
        followRedirects: data.follow_redirects ?? DEFAULTS.http.followRedirects,
        ...(data.headers_secret_arn ? { headersSecretArn: data.headers_secret_arn } : {}),
      };
    }
    case "sfn_execution": {
      // critical defaults to 1 only when unset: an explicit warning alone still gets the default critical.
      const critical = data.critical ?? DEFAULTS.sfnExecution.critical;
      if (!thresholdsOrdered(data.warning, critical, "above")) {
        fail(
          [
            `check.warning: must be at most critical (${critical}${data.critical === undefined ? ", the default" : ""})`,
          ],
          name,
        );
      }
      return {
        ...shared,
        kind: "sfn_execution",
        stateMachineArn: data.state_machine_arn,
        windowMinutes: data.window_minutes ?? DEFAULTS.sfnExecution.windowMinutes,
        statuses: [...new Set(data.statuses ?? DEFAULTS.sfnExecution.statuses)],
        warning: data.warning,
        critical,
        maxRunningMinutes: data.max_running_minutes,
      };
    }
    case "log_freshness":
      return {
        ...shared,
        kind: "log_freshness",
        logGroupName: data.log_group_name,
        maxAgeMinutes: data.max_age_minutes,
      };
    case "s3_freshness":
      return {
        ...shared,
        kind: "s3_freshness",
        bucket: data.bucket,
        prefix: data.prefix ?? S3_FRESHNESS_DEFAULTS.prefix,
        maxAgeMinutes: data.max_age_minutes,
        ...(data.body_contains === undefined ? {} : { bodyContains: data.body_contains }),
      };
    case "opensearch_query": {
      const query = parseOpenSearchQuery(data.query);
      if (typeof query === "string") fail([`check.query: ${query}`], name);
      const direction = data.direction ?? OPENSEARCH_DEFAULTS.direction;
      if (!thresholdsOrdered(data.warning, data.critical, direction)) {
        fail(
          [
            `check.warning: must be ${direction === "above" ? "at most" : "at least"} critical when direction is ${direction}`,
          ],
          name,
        );
      }
      const facts = searchEndpointFacts(data.endpoint);
      return {
        ...shared,
        kind: "opensearch_query",
        endpoint: data.endpoint.replace(/\/+$/, ""),
        index: data.index,
        query,
        service: data.service ?? facts.service,
        ...(facts.region ? { region: facts.region } : {}),
        timeField: data.time_field ?? OPENSEARCH_DEFAULTS.timeField,
        windowMinutes: data.window_minutes ?? OPENSEARCH_DEFAULTS.windowMinutes,
        offsetMinutes: data.offset_minutes ?? OPENSEARCH_DEFAULTS.offsetMinutes,
        groupBy: data.group_by,
        warning: data.warning,
        critical: data.critical,
        direction,
        dashboardsUrl: data.dashboards_url,
      };
    }
  }
}
