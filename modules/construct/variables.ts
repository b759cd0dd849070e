/**
 * The module's input variables: one table that the module stack turns into Terraform variables
 * (with their validation blocks) and the README generator turns into the inputs table.
 *
 * Conditions are Terraform expressions (Go RE2 regexes, Terraform >= 1.5). Optional object attributes
 * carry their defaults in the type (`optional(type, default)`), so a plan shows what will run; the
 * functions keep the same defaults only as a guard (CDKTF literal items leave them out). Attributes
 * whose absence is the default (no threshold, no body check, Mackerel's own notification interval)
 * stay `optional(type)`: null.
 */

export interface VariableValidation {
  /** A Terraform expression, without `${}`. */
  condition: string;
  errorMessage: string;
}

export interface VariableDefinition {
  name: string;
  /** Terraform type constraint. */
  type: string;
  description: string;
  /** Omitted: required. */
  default?: unknown;
  nullable?: boolean;
  validations?: VariableValidation[];
}

/** Mackerel's service name rule. */
export const TF_SERVICE_NAME = "^[A-Za-z0-9][A-Za-z0-9_-]{1,62}$";
/** A role full name `<service>:<role>` (host registration's roleFullnames). */
export const TF_ROLE_FULLNAME = "^[A-Za-z0-9][A-Za-z0-9_-]{1,62}:[A-Za-z0-9][A-Za-z0-9_-]{1,62}$";
/** Check and log rule names: also a metric name segment (`checks.<name>.*`, `logs.<rule>.count`). */
export const TF_CHECK_NAME = "^[a-zA-Z0-9_-]{1,64}$";
/** EventBridge schedule expressions. */
export const TF_SCHEDULE =
  "^(rate[(](1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))[)]|cron[(][^ ]+ [^ ]+ ([?] [^ ]+ [^ ]+|[^ ]+ [^ ]+ [?]) [^ ]+[)])$";
/**
 * Regexes below travel TypeScript string → HCL string → RE2, so one backslash in the pattern is four in
 * this source; character classes such as `[(]` avoid escapes altogether.
 */
const TF_ARN = (service: string) => `^arn:aws[a-zA-Z-]*:${service}:[a-z0-9-]+:[0-9]{12}:`;

/** A URL with user info (`scheme://user:pass@host`): the authority holds an `@`. */
const HTTP_USERINFO = "^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@";
/** Headers that carry credentials: never in an HTTP check's `headers` (they would sit in the rule input and state). */
const CREDENTIAL_HEADERS_HCL = '["authorization", "proxy-authorization", "cookie"]';

/** `alltrue([for item in var.<list> : <expr>])`, null-safe. */
const every = (list: string, expr: string) => `alltrue([for item in var.${list} : ${expr}])`;
/** An optional attribute that is null or satisfies `expr` (conditional expressions are lazy, `||` is not). */
const nullOr = (attr: string, expr: string) => `item.${attr} == null ? true : (${expr})`;

/** Longest log rule pattern (functions/shared/user-regexp.ts MAX_PATTERN_LENGTH). */
const MAX_RULE_PATTERN_LENGTH = 1000;
/**
 * Every broken include, exclude or redact pattern of every log rule, one message each, naming the entry and
 * the pattern: `log_rules[3] ("errors").include[0]: "(?=x)" is not a valid RE2 regular expression ...`.
 * `can(regexall(r, ""))` is Go's RE2 parser: the syntax the functions run (re2js).
 */
const BROKEN_LOG_RULE_PATTERNS =
  `flatten([for i, item in var.log_rules : [for attr in ["include", "exclude", "redact"] : ` +
  `[for j, r in (item[attr] == null ? [] : item[attr]) : format("log_rules[%d] (\\"%s\\").%s[%d]: %s", i, item.name, attr, j, ` +
  `r == "" ? "must not be empty (it would match every line)" : ` +
  `length(r) > ${MAX_RULE_PATTERN_LENGTH} ? "must be at most ${MAX_RULE_PATTERN_LENGTH} characters" : ` +
  `format("\\"%s\\" is not a valid RE2 regular expression (RE2 has no backreferences or lookaround)", r)) ` +
  `if r == "" || length(r) > ${MAX_RULE_PATTERN_LENGTH} || !can(regexall(r, ""))]]])`;
/** The rules are one state table item: DynamoDB's item limit is 400 KB. */
export const LOG_RULES_MAX_JSON = 350_000;

const checkNameValidation = (list: string): VariableValidation => ({
  condition: every(list, `can(regex("${TF_CHECK_NAME}", item.name))`),
  errorMessage: `${list}: every name must be 1-64 characters of a-zA-Z0-9_- (it names a Mackerel check and the metrics checks.<name>.*).`,
});
const scheduleValidation = (list: string): VariableValidation => ({
  condition: every(list, nullOr("schedule", `can(regex("${TF_SCHEDULE}", item.schedule))`)),
  errorMessage: `${list}: schedule must be an EventBridge expression: rate(1 minute|hour|day), rate(N minutes|hours|days) with N >= 2, or cron(minutes hours day-of-month month day-of-week year) with ? as day-of-month or day-of-week (UTC).`,
});
const thresholdValidation = (list: string, attrs: string[]): VariableValidation => ({
  condition: every(list, attrs.map((a) => `(${nullOr(a, `item.${a} >= 0`)})`).join(" && ")),
  errorMessage: `${list}: ${attrs.join(", ")} must be zero or more.`,
});
const positiveInt = (list: string, attr: string, max: number, what: string): VariableValidation => ({
  condition: every(
    list,
    nullOr(attr, `item.${attr} >= 1 && item.${attr} <= ${max} && floor(item.${attr}) == item.${attr}`),
  ),
  errorMessage: `${list}: ${attr} must be a whole number of ${what} from 1 to ${max}.`,
});
const uniqueNames = (list: string): VariableValidation => ({
  condition: `length(distinct([for item in var.${list} : item.name])) == length(var.${list})`,
  errorMessage: `${list}: names must be unique.`,
});
/**
 * `warning` comes before `critical` in the direction of the alert (thresholds are reached at >= / <=).
 * `critical` and `direction` are Terraform expressions (they may apply defaults).
 */
const thresholdOrder = (
  list: string,
  warning: string,
  critical: { expression: string; name: string },
  direction: string,
): VariableValidation => ({
  condition: every(
    list,
    `item.${warning} == null || ${critical.expression} == null ? true : (${direction} == "above" ? item.${warning} <= ${critical.expression} : item.${warning} >= ${critical.expression})`,
  ),
  errorMessage: `${list}: ${warning} must be reached before ${critical.name}: at most ${critical.name} when alerting on values above, at least ${critical.name} for values below.`,
});
/** What every check list shares: names, uniqueness, schedule, Mackerel's alert settings, the target input size. */
const checkListValidations = (list: string): VariableValidation[] => [
  checkNameValidation(list),
  uniqueNames(list),
  scheduleValidation(list),
  {
    condition: every(
      list,
      nullOr(
        "notification_interval",
        "item.notification_interval >= 10 && floor(item.notification_interval) == item.notification_interval",
      ),
    ),
    errorMessage: `${list}: notification_interval must be a whole number of minutes, at least 10 (Mackerel's minimum).`,
  },
  positiveInt(list, "max_check_attempts", 10, "attempts"),
  {
    condition: every(list, "length(jsonencode(item)) <= 8000"),
    errorMessage: `${list}: each check must take at most 8000 characters as JSON: it is the EventBridge target input (8192 at most).`,
  },
];
const TF_LOG_GROUP_NAME = "^[\\\\.\\\\-_/#A-Za-z0-9]{1,512}$";
/** Alert settings every check item takes. */
const CHECK_ALERT_ATTRIBUTES = "notification_interval = optional(number), max_check_attempts = optional(number)";

// --- S3 freshness and OpenSearch query checks (new kinds: attributes with optional(type, default)) -----

/** S3 bucket names: 3-63 of a-z 0-9 . - */
const TF_S3_BUCKET = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$";
/**
 * OpenSearch endpoints the module can derive the IAM resource from: managed domains
 * `https://search-<domain>-<id>.<region>.es.amazonaws.com` (VPC: `vpc-...`) and serverless collections
 * `https://<collection-id>.<region>.aoss.amazonaws.com`. Capture groups: domain, region / collection, region.
 */
export const TF_ES_ENDPOINT =
  "^https://(?:search|vpc)-([a-z][a-z0-9-]{2,27})-[a-z0-9]+[.]([a-z]{2}(?:-[a-z]+)+-[0-9]+)[.]es[.]amazonaws[.]com(?:[.]cn)?/?$";
export const TF_AOSS_ENDPOINT =
  "^https://([a-z0-9]{3,40})[.]([a-z]{2}(?:-[a-z]+)+-[0-9]+)[.]aoss[.]amazonaws[.]com(?:[.]cn)?/?$";
const TF_OPENSEARCH_INDEX = "^[a-z0-9*.][a-z0-9*._+,:-]{0,511}$";
const TF_OPENSEARCH_FIELD = "^[A-Za-z0-9@_.-]{1,256}$";

const S3_FRESHNESS_CHECKS: VariableDefinition = {
  name: "s3_freshness_checks",
  type: `list(object({ name = string, schedule = optional(string, "rate(5 minutes)"), bucket = string, prefix = string, max_age_minutes = number, body_contains = optional(string), ${CHECK_ALERT_ATTRIBUTES} }))`,
  default: [],
  description:
    "S3 pulse checks, the dead-man's switch of schedulers that drop a file in S3 (default schedule rate(5 minutes)): the newest object under prefix (ListObjectsV2, every page; empty prefix = the whole bucket) must be at most max_age_minutes old, else CRITICAL naming the object and its age; no object, or no bucket, is CRITICAL. body_contains: the newest object's first 64 KiB (GetObject with a Range) must contain this text. The role gets s3:ListBucket on the bucket for the prefix only (s3:prefix condition) and s3:GetObject on <bucket>/<prefix>* only when body_contains is set. Metrics: checks.<name>.age_seconds, checks.<name>.objects.",
  validations: [
    ...checkListValidations("s3_freshness_checks"),
    {
      condition: every(
        "s3_freshness_checks",
        `can(regex("${TF_S3_BUCKET}", item.bucket)) && !strcontains(item.bucket, "..")`,
      ),
      errorMessage:
        "s3_freshness_checks: bucket must be an S3 bucket name (3-63 characters of a-z 0-9 . -, no ARN, no s3:// prefix).",
    },
    {
      condition: every("s3_freshness_checks", 'length(item.prefix) <= 1024 && !strcontains(item.prefix, "*")'),
      errorMessage:
        's3_freshness_checks: prefix must be a key prefix of at most 1024 characters without * (it is a prefix, not a pattern; "" is the whole bucket).',
    },
    {
      condition: every("s3_freshness_checks", '!endswith(item.bucket, "--x-s3")'),
      errorMessage:
        "s3_freshness_checks: bucket must be a general purpose bucket: directory buckets (--x-s3) need s3express:CreateSession, which the module does not grant.",
    },
    positiveInt("s3_freshness_checks", "max_age_minutes", 10080, "minutes"),
    {
      condition: every("s3_freshness_checks", nullOr("body_contains", "length(item.body_contains) > 0")),
      errorMessage: "s3_freshness_checks: body_contains must not be empty (leave it unset to check the age only).",
    },
  ],
};

const OPENSEARCH_QUERY_CHECKS: VariableDefinition = {
  name: "opensearch_query_checks",
  type: `list(object({ name = string, schedule = optional(string, "rate(5 minutes)"), endpoint = string, index = string, query = string, service = optional(string), time_field = optional(string, "@timestamp"), window_minutes = optional(number, 5), offset_minutes = optional(number, 0), group_by = optional(string), warning = optional(number), critical = optional(number), direction = optional(string, "above"), dashboards_url = optional(string), ${CHECK_ALERT_ATTRIBUTES} }))`,
  default: [],
  description:
    'Scheduled counts in Amazon OpenSearch Service domains or OpenSearch Serverless collections (the daily error summary), signed with SigV4 (service es or aoss; default: aoss for *.aoss.amazonaws.com endpoints, else es). endpoint: the domain\'s (search-/vpc-<domain>-<id>.<region>.es.amazonaws.com) or collection\'s (<id>.<region>.aoss.amazonaws.com) https endpoint; VPC endpoints need vpc_config. query: query DSL JSON (one clause, e.g. {"match": {"level": "ERROR"}}) or a query_string text; it is ANDed with time_field in [now - offset - window, now - offset). Without group_by: _count; with group_by: a terms aggregation (top 50) posting checks.<name>.<bucket> per bucket. The total, checks.<name>.total, is compared with warning/critical (reached at >=, or <= with direction below). The message shows the counts (per hour for windows of a day or more) and dashboards_url. The role gets es:ESHttpPost (the only method the check uses) on the domain only, or aoss:APIAccessAll on the collection only (which also needs a data access policy granting the role aoss:ReadDocument on the index).',
  validations: [
    ...checkListValidations("opensearch_query_checks"),
    {
      condition: every(
        "opensearch_query_checks",
        `can(regex("${TF_ES_ENDPOINT}", item.endpoint)) || can(regex("${TF_AOSS_ENDPOINT}", item.endpoint))`,
      ),
      errorMessage:
        "opensearch_query_checks: endpoint must be an OpenSearch Service domain endpoint (https://search-<domain>-<id>.<region>.es.amazonaws.com, or vpc-...) or a serverless collection endpoint (https://<collection-id>.<region>.aoss.amazonaws.com), without a path: the role's permission is derived from it.",
    },
    {
      condition: every(
        "opensearch_query_checks",
        `item.service == null ? true : (item.service == "aoss" ? can(regex("${TF_AOSS_ENDPOINT}", item.endpoint)) : item.service == "es" && can(regex("${TF_ES_ENDPOINT}", item.endpoint)))`,
      ),
      errorMessage:
        "opensearch_query_checks: service must be es (for a domain endpoint) or aoss (for a collection endpoint), matching the endpoint; leave it unset to take it from the endpoint.",
    },
    {
      condition: every("opensearch_query_checks", `can(regex("${TF_OPENSEARCH_INDEX}", item.index))`),
      errorMessage:
        "opensearch_query_checks: index must be an index name or pattern (lowercase a-z 0-9 * . _ + , : -, e.g. logs-*).",
    },
    {
      condition: every(
        "opensearch_query_checks",
        'length(trimspace(item.query)) > 0 && length(item.query) <= 10000 && (startswith(trimspace(item.query), "{") ? can(keys(jsondecode(item.query))) : true)',
      ),
      errorMessage:
        'opensearch_query_checks: query must be 1 to 10000 characters: a query_string text, or query DSL as a JSON object (one clause, e.g. {"match": {"level": "ERROR"}}).',
    },
    {
      condition: every(
        "opensearch_query_checks",
        `can(regex("${TF_OPENSEARCH_FIELD}", item.time_field)) && (${nullOr("group_by", `can(regex("${TF_OPENSEARCH_FIELD}", item.group_by))`)})`,
      ),
      errorMessage:
        "opensearch_query_checks: time_field and group_by must be field names (A-Za-z0-9 @ _ . -, e.g. level.keyword).",
    },
    positiveInt("opensearch_query_checks", "window_minutes", 10080, "minutes"),
    {
      condition: every(
        "opensearch_query_checks",
        "item.offset_minutes >= 0 && item.offset_minutes <= 10080 && floor(item.offset_minutes) == item.offset_minutes",
      ),
      errorMessage: "opensearch_query_checks: offset_minutes must be a whole number of minutes from 0 to 10080.",
    },
    thresholdValidation("opensearch_query_checks", ["warning", "critical"]),
    {
      condition: every("opensearch_query_checks", 'contains(["above", "below"], item.direction)'),
      errorMessage: "opensearch_query_checks: direction must be above or below.",
    },
    thresholdOrder(
      "opensearch_query_checks",
      "warning",
      { expression: "item.critical", name: "critical" },
      "item.direction",
    ),
    {
      condition: every(
        "opensearch_query_checks",
        nullOr("dashboards_url", 'can(regex("^https?://[^/ ]+", item.dashboards_url))'),
      ),
      errorMessage: "opensearch_query_checks: dashboards_url must be an http:// or https:// URL.",
    },
  ],
};

export const VARIABLES: VariableDefinition[] = [
  {
    name: "name",
    type: "string",
    default: "mackerel-serverless",
    description: "Prefix of every resource name (functions, roles, log groups, queues, table, rules).",
    validations: [
      {
        condition: 'can(regex("^[a-zA-Z0-9_-]{1,40}$", var.name))',
        errorMessage:
          "name: must be 1-40 characters of a-zA-Z0-9_- (it prefixes Lambda function names, limited to 64).",
      },
    ],
  },
  {
    name: "api_key_secret_arn",
    type: "string",
    description:
      'ARN of the Secrets Manager secret holding the Mackerel API key (write permission), as the raw key or as JSON {"MACKEREL_API_KEY": "..."}. The key itself never passes through Terraform.',
    validations: [
      {
        condition: `can(regex("${TF_ARN("secretsmanager")}secret:.+$", var.api_key_secret_arn))`,
        errorMessage:
          "api_key_secret_arn: must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>).",
      },
    ],
  },
  {
    name: "api_key_kms_key_arn",
    type: "string",
    default: null,
    description: "ARN of the customer-managed KMS key that encrypts the secret, if any (grants kms:Decrypt on it).",
    validations: [
      {
        condition: `var.api_key_kms_key_arn == null ? true : can(regex("${TF_ARN("kms")}key/.+$", var.api_key_kms_key_arn))`,
        errorMessage: "api_key_kms_key_arn: must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null.",
      },
    ],
  },
  {
    name: "mackerel_api_base_url",
    type: "string",
    default: "https://api.mackerelio.com/",
    description: "Mackerel API base URL (KCPS: https://kcps-mackerel.io/).",
    validations: [
      {
        condition: 'can(regex("^https?://[^/ ]+(/.*)?$", var.mackerel_api_base_url))',
        errorMessage: "mackerel_api_base_url: must be an http(s) URL such as https://api.mackerelio.com/.",
      },
    ],
  },
  {
    name: "service_name",
    type: "string",
    description: "Default Mackerel service for service metrics (it must exist in Mackerel).",
    validations: [
      {
        condition: `can(regex("${TF_SERVICE_NAME}", var.service_name))`,
        errorMessage:
          "service_name: must be 2-63 characters of A-Za-z0-9_- not starting with - or _ (Mackerel's service name rule).",
      },
    ],
  },
  {
    name: "host",
    type: "object({ name = optional(string), custom_identifier = optional(string), id = optional(string), roles = optional(list(string), []) })",
    default: {},
    description:
      "The Mackerel host that check reports and the heartbeat attach to. Found or registered by custom_identifier on first use (default: mackerel-serverless/<region>/<account>/<name>) unless id is given. name defaults to var.name. roles: role full names (<service>:<role>) the host is registered with, so notification groups and the connectivity monitor of mackerel_monitors can be scoped to it (set at registration only; a host that already exists keeps its roles).",
    validations: [
      {
        condition: 'var.host.name == null ? true : can(regex("^[^\\\\s]{1,255}$", var.host.name))',
        errorMessage: "host.name: must be 1-255 characters without whitespace.",
      },
      {
        condition: 'var.host.id == null ? true : can(regex("^[a-zA-Z0-9]{6,32}$", var.host.id))',
        errorMessage: "host.id: must be a Mackerel host id (letters and digits, e.g. 2eQGDXqtoXs).",
      },
      {
        condition: `alltrue([for r in var.host.roles : can(regex("${TF_ROLE_FULLNAME}", r))])`,
        errorMessage:
          "host.roles: each role must be <service>:<role>, both 2-63 characters of A-Za-z0-9_- not starting with - or _ (Mackerel's role full name), e.g. shop:serverless.",
      },
    ],
  },
  {
    name: "log_subscriptions",
    type: 'list(object({ log_group_name = string, filter_pattern = optional(string, "") }))',
    default: [],
    description:
      "Log groups wired to the logs function with one subscription filter each (CloudWatch Logs allows 2 per log group). filter_pattern uses CloudWatch Logs filter syntax; empty sends every event. The module's own log groups are refused (loop guard).",
    validations: [
      {
        condition: every("log_subscriptions", 'can(regex("^[\\\\.\\\\-_/#A-Za-z0-9]{1,512}$", item.log_group_name))'),
        errorMessage: "log_subscriptions: log_group_name must be 1-512 characters of a-zA-Z0-9 . - _ / #.",
      },
      {
        condition:
          "length(distinct([for item in var.log_subscriptions : item.log_group_name])) == length(var.log_subscriptions)",
        errorMessage: "log_subscriptions: each log group may appear once.",
      },
    ],
  },
  {
    name: "account_log_subscription",
    type: 'object({ filter_pattern = optional(string, ""), excluded_log_groups = optional(list(string), []) })',
    default: null,
    description:
      "One account-level subscription filter policy to the logs function instead of per-group filters (one such policy per account). The module's own log groups are always excluded.",
    validations: [
      {
        condition: `var.account_log_subscription == null ? true : (var.account_log_subscription.excluded_log_groups == null ? true : alltrue([for g in var.account_log_subscription.excluded_log_groups : can(regex("${TF_LOG_GROUP_NAME}", g))]))`,
        errorMessage:
          "account_log_subscription: excluded_log_groups must be log group names (1-512 characters of a-zA-Z0-9 . - _ / #).",
      },
      {
        condition:
          "var.account_log_subscription == null ? true : (var.account_log_subscription.excluded_log_groups == null ? true : length(jsonencode(var.account_log_subscription.excluded_log_groups)) <= 24000)",
        errorMessage:
          "account_log_subscription: excluded_log_groups must fit CloudWatch Logs' selection criteria (25 KB with the module's own log groups).",
      },
    ],
  },
  {
    name: "log_rules",
    type: 'list(object({ name = string, log_groups = optional(list(string)), include = list(string), exclude = optional(list(string), []), status = optional(string, "CRITICAL"), recover_after_minutes = optional(number, 10), max_samples = optional(number, 5), notification_interval = optional(number), redact = optional(list(string), []) }))',
    default: [],
    description:
      "Log rules of the logs function. log_groups: globs (* and ?; default all); include/exclude: regexes (exclude wins); status WARNING|CRITICAL (default CRITICAL); recover_after_minutes (default 10) before OK is posted; max_samples (default 5) lines in the report; notification_interval minutes (>= 10); redact: extra regexes masked in samples. Metric: logs.<name>.count in service_name.",
    validations: [
      checkNameValidation("log_rules"),
      uniqueNames("log_rules"),
      {
        condition: every("log_rules", "length(item.include) > 0"),
        errorMessage: "log_rules: include must list at least one regex.",
      },
      {
        condition: `length(${BROKEN_LOG_RULE_PATTERNS}) == 0`,
        errorMessage: `\${join("; ", ${BROKEN_LOG_RULE_PATTERNS})}.`,
      },
      {
        condition: every("log_rules", nullOr("status", 'contains(["WARNING", "CRITICAL"], item.status)')),
        errorMessage: "log_rules: status must be WARNING or CRITICAL.",
      },
      positiveInt("log_rules", "recover_after_minutes", 1440, "minutes"),
      positiveInt("log_rules", "max_samples", 20, "lines"),
      {
        condition: every("log_rules", nullOr("notification_interval", "item.notification_interval >= 10")),
        errorMessage: "log_rules: notification_interval must be at least 10 minutes (Mackerel's minimum).",
      },
      {
        condition: `length(jsonencode(var.log_rules)) <= ${LOG_RULES_MAX_JSON}`,
        errorMessage: `log_rules: the rules take more than ${LOG_RULES_MAX_JSON} characters as JSON; they are stored in one state table item (DynamoDB's limit is 400 KB).`,
      },
    ],
  },
  {
    name: "logs_insights_checks",
    type: `list(object({ name = string, schedule = optional(string, "rate(5 minutes)"), log_group_names = list(string), query = string, window_minutes = optional(number, 5), offset_minutes = optional(number, 0), value_field = optional(string), warning = optional(number), critical = optional(number), direction = optional(string, "above"), ${CHECK_ALERT_ATTRIBUTES} }))`,
    default: [],
    description:
      "Scheduled CloudWatch Logs Insights queries over [now - offset - window, now - offset), now floored to the minute (defaults: schedule rate(5 minutes), window_minutes 5, offset_minutes 0). The value is the number of result rows, or the numeric field value_field of the first row; a stats ... by query posts one metric checks.<name>.<group> per group and their total as checks.<name>.value. warning/critical are reached at >= (direction above, default) or <= (below). A query that cannot complete in the function's time is stopped and reported UNKNOWN. notification_interval (minutes, >= 10) and max_check_attempts (1-10) go to Mackerel with each report.",
    validations: [
      ...checkListValidations("logs_insights_checks"),
      thresholdValidation("logs_insights_checks", ["warning", "critical"]),
      thresholdOrder(
        "logs_insights_checks",
        "warning",
        { expression: "item.critical", name: "critical" },
        'coalesce(item.direction, "above")',
      ),
      {
        condition: every(
          "logs_insights_checks",
          "length(item.log_group_names) >= 1 && length(item.log_group_names) <= 50",
        ),
        errorMessage: "logs_insights_checks: log_group_names must list 1 to 50 log groups (Logs Insights' limit).",
      },
      {
        condition: every(
          "logs_insights_checks",
          `alltrue([for g in item.log_group_names : can(regex("${TF_LOG_GROUP_NAME}", g))])`,
        ),
        errorMessage:
          "logs_insights_checks: log_group_names must be log group names (1-512 characters of a-zA-Z0-9 . - _ / #).",
      },
      {
        condition: every("logs_insights_checks", "length(trimspace(item.query)) > 0 && length(item.query) <= 10000"),
        errorMessage: "logs_insights_checks: query must be a Logs Insights query of 1 to 10000 characters.",
      },
      {
        condition: every("logs_insights_checks", nullOr("direction", 'contains(["above", "below"], item.direction)')),
        errorMessage: "logs_insights_checks: direction must be above or below.",
      },
      positiveInt("logs_insights_checks", "window_minutes", 10080, "minutes"),
      {
        condition: every(
          "logs_insights_checks",
          nullOr(
            "offset_minutes",
            "item.offset_minutes >= 0 && item.offset_minutes <= 10080 && floor(item.offset_minutes) == item.offset_minutes",
          ),
        ),
        errorMessage: "logs_insights_checks: offset_minutes must be a whole number of minutes from 0 to 10080.",
      },
    ],
  },
  {
    name: "http_checks",
    type: `list(object({ name = string, schedule = optional(string, "rate(1 minute)"), url = string, method = optional(string, "GET"), headers = optional(map(string), {}), expected_status = optional(list(number), [200]), body_contains = optional(string), body_regex = optional(string), timeout_seconds = optional(number, 10), warning_latency_ms = optional(number), critical_latency_ms = optional(number), follow_redirects = optional(bool, true), headers_secret_arn = optional(string, null), ${CHECK_ALERT_ATTRIBUTES} }))`,
    default: [],
    description:
      'HTTP checks with Node\'s fetch (default schedule rate(1 minute)): method (default GET), headers, expected_status (default [200]), body_contains, body_regex (checked against the first 1 MiB of the body), timeout_seconds for the whole exchange (default 10), warning_latency_ms/critical_latency_ms (reached at >=). Redirects are followed (at most 5; credentials are not sent to another origin) unless follow_redirects = false, in which case the 3xx itself is compared with expected_status. CRITICAL with the reason: DNS, connect, TLS, timeout, status, or body mismatch (with a redacted excerpt). Metrics: checks.<name>.latency_ms and checks.<name>.status_code (0 when no response). Header values travel in the rule\'s input (visible in EventBridge and in Terraform state): non-secret values only, and never Authorization, Proxy-Authorization or Cookie. Credentials go in a Secrets Manager secret named by headers_secret_arn (default null), which the check function reads when it runs: {"headers": {"Authorization": "Bearer ..."}} and/or {"username": ..., "password": ...} (basic auth); the function\'s role may read exactly those secrets. A url with user info (user:password@) is refused.',
    validations: [
      ...checkListValidations("http_checks"),
      {
        condition: every("http_checks", 'can(regex("^https?://[^/ ]+", item.url))'),
        errorMessage: "http_checks: url must be an http:// or https:// URL.",
      },
      {
        // fetch refuses such a URL on every run ("Request cannot be constructed from a URL that includes
        // credentials"), and the credentials would sit in the rule's input and in state.
        condition: every("http_checks", `!can(regex("${HTTP_USERINFO}", item.url))`),
        errorMessage: `http_checks: the url of \${join(", ", [for c in var.http_checks : c.name if can(regex("${HTTP_USERINFO}", c.url))])} holds user info (user:password@), which is refused. Put the credentials in a Secrets Manager secret ({"username": "...", "password": "..."} or {"headers": {"Authorization": "..."}}) and set headers_secret_arn on the check.`,
      },
      {
        condition: every(
          "http_checks",
          nullOr("headers", `!anytrue([for k in keys(item.headers) : contains(${CREDENTIAL_HEADERS_HCL}, lower(k))])`),
        ),
        errorMessage: `http_checks: headers of \${join(", ", [for c in var.http_checks : c.name if c.headers == null ? false : anytrue([for k in keys(c.headers) : contains(${CREDENTIAL_HEADERS_HCL}, lower(k))])])} set Authorization, Proxy-Authorization or Cookie, which would travel in the rule's input and sit in Terraform state. Put them in a Secrets Manager secret ({"headers": {"Authorization": "..."}}) and set headers_secret_arn on the check.`,
      },
      {
        condition: every(
          "http_checks",
          nullOr("headers_secret_arn", `can(regex("${TF_ARN("secretsmanager")}secret:.+$", item.headers_secret_arn))`),
        ),
        errorMessage:
          "http_checks: headers_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>).",
      },
      {
        condition: every(
          "http_checks",
          nullOr("method", 'contains(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], item.method)'),
        ),
        errorMessage: "http_checks: method must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS.",
      },
      {
        condition: every(
          "http_checks",
          nullOr(
            "expected_status",
            "length(item.expected_status) > 0 && alltrue([for s in item.expected_status : s >= 100 && s <= 599 && floor(s) == s])",
          ),
        ),
        errorMessage: "http_checks: expected_status must list HTTP status codes (100-599).",
      },
      {
        condition: every("http_checks", nullOr("body_regex", 'can(regexall(item.body_regex, ""))')),
        errorMessage: "http_checks: body_regex must be a valid regex (RE2 syntax).",
      },
      positiveInt("http_checks", "timeout_seconds", 60, "seconds"),
      thresholdValidation("http_checks", ["warning_latency_ms", "critical_latency_ms"]),
      thresholdOrder(
        "http_checks",
        "warning_latency_ms",
        { expression: "item.critical_latency_ms", name: "critical_latency_ms" },
        '"above"',
      ),
    ],
  },
  {
    name: "sfn_execution_checks",
    type: `list(object({ name = string, schedule = optional(string, "rate(5 minutes)"), state_machine_arn = string, window_minutes = optional(number, 60), statuses = optional(list(string), ["FAILED", "TIMED_OUT", "ABORTED"]), warning = optional(number), critical = optional(number, 1), max_running_minutes = optional(number), ${CHECK_ALERT_ATTRIBUTES} }))`,
    default: [],
    description:
      "Step Functions execution checks (default schedule rate(5 minutes)): executions that started within window_minutes (default 60) with a status in statuses (default FAILED, TIMED_OUT, ABORTED) are counted against warning/critical (reached at >=; critical defaults to 1), the newest named in the message; max_running_minutes makes executions RUNNING for longer CRITICAL. Metrics: checks.<name>.count, one per status (checks.<name>.failed, ...), checks.<name>.running_too_long. Standard workflows only (ListExecutions).",
    validations: [
      ...checkListValidations("sfn_execution_checks"),
      {
        condition: every(
          "sfn_execution_checks",
          `can(regex("${TF_ARN("states")}stateMachine:.+$", item.state_machine_arn))`,
        ),
        errorMessage: "sfn_execution_checks: state_machine_arn must be a state machine ARN.",
      },
      {
        condition: every(
          "sfn_execution_checks",
          nullOr(
            "statuses",
            'length(item.statuses) > 0 && alltrue([for s in item.statuses : contains(["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"], s)])',
          ),
        ),
        errorMessage:
          "sfn_execution_checks: statuses must list some of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE.",
      },
      thresholdValidation("sfn_execution_checks", ["warning", "critical"]),
      thresholdOrder(
        "sfn_execution_checks",
        "warning",
        { expression: "coalesce(item.critical, 1)", name: "critical (default 1)" },
        '"above"',
      ),
      positiveInt("sfn_execution_checks", "window_minutes", 10080, "minutes"),
      positiveInt("sfn_execution_checks", "max_running_minutes", 525600, "minutes"),
    ],
  },
  {
    name: "log_freshness_checks",
    type: `list(object({ name = string, schedule = optional(string, "rate(5 minutes)"), log_group_name = string, max_age_minutes = number, ${CHECK_ALERT_ATTRIBUTES} }))`,
    default: [],
    description:
      "Log freshness checks, a dead-man's switch for any producer (default schedule rate(5 minutes)): CRITICAL when log_group_name has no event newer than max_age_minutes, or does not exist. Exact (FilterLogEvents with a start time), never DescribeLogStreams. Metric: checks.<name>.age_seconds, the age of an event found (an upper bound of the newest event's age).",
    validations: [
      ...checkListValidations("log_freshness_checks"),
      {
        condition: every("log_freshness_checks", `can(regex("${TF_LOG_GROUP_NAME}", item.log_group_name))`),
        errorMessage:
          "log_freshness_checks: log_group_name must be a log group name (1-512 characters of a-zA-Z0-9 . - _ / #).",
      },
      positiveInt("log_freshness_checks", "max_age_minutes", 10080, "minutes"),
    ],
  },
  S3_FRESHNESS_CHECKS,
  OPENSEARCH_QUERY_CHECKS,
  {
    name: "job_failure_metrics",
    type: "list(string)",
    default: [],
    nullable: false,
    description:
      "Service metrics (in service_name) that are 1 when a job failed and 0 when it succeeded, e.g. the metric_name of each sfn-job-states module: the mackerel_monitors output gets a service metric monitor for each, CRITICAL above 0 over the last point.",
    validations: [
      {
        condition: 'alltrue([for m in var.job_failure_metrics : can(regex("^[a-zA-Z0-9._-]{1,255}$", m))])',
        errorMessage: "job_failure_metrics: each must be a service metric name ([a-zA-Z0-9._-]+, Mackerel's rule).",
      },
      {
        condition: "length(distinct(var.job_failure_metrics)) == length(var.job_failure_metrics)",
        errorMessage: "job_failure_metrics: each metric may appear once.",
      },
    ],
  },
  {
    name: "alarm_sns_topic_arn",
    type: "string",
    default: null,
    description:
      "SNS topic for the module's own CloudWatch alarms (every function's errors and throttles, the spool's dead-letter queue not empty, a spooled write waiting over an hour): alarm and OK actions. Without it the alarms exist but notify nobody.",
    validations: [
      {
        condition: `var.alarm_sns_topic_arn == null ? true : can(regex("${TF_ARN("sns")}.+$", var.alarm_sns_topic_arn))`,
        errorMessage: "alarm_sns_topic_arn: must be an SNS topic ARN or null.",
      },
    ],
  },
  {
    name: "spool_max_age_hours",
    type: "number",
    default: 24,
    nullable: false,
    description:
      "How long the sender retries a spooled write (growing delays up to 15 minutes) before it goes to the dead-letter queue, in whole hours. Mackerel drops metrics older than 24 h and check reports older than 6 h, and the sender drops such data itself, so the default 24 only dead-letters refusals.",
    validations: [
      {
        condition:
          "var.spool_max_age_hours >= 6 && var.spool_max_age_hours <= 24 && floor(var.spool_max_age_hours) == var.spool_max_age_hours",
        errorMessage:
          "spool_max_age_hours: must be a whole number of hours from 6 (Mackerel's check report window) to 24 (its metric window).",
      },
    ],
  },
  {
    name: "lambda_runtime",
    type: "string",
    default: "nodejs22.x",
    description:
      "Lambda runtime of the functions (Node.js 22 or later). The default nodejs22.x plans on every provider the module admits; nodejs24.x needs hashicorp/aws 6.19.0 or later (older providers refuse it at plan).",
    validations: [
      {
        condition: 'can(regex("^nodejs(2[2-9]|[3-9][0-9])\\\\.x$", var.lambda_runtime))',
        errorMessage: "lambda_runtime: must be nodejs22.x or a later nodejsNN.x (the bundles target Node 22).",
      },
    ],
  },
  {
    name: "lambda_architecture",
    type: "string",
    default: "arm64",
    description: "Lambda architecture: arm64 (20% cheaper per GB-second) or x86_64.",
    validations: [
      {
        condition: 'contains(["arm64", "x86_64"], var.lambda_architecture)',
        errorMessage: "lambda_architecture: must be arm64 or x86_64.",
      },
    ],
  },
  {
    name: "log_retention_days",
    type: "number",
    default: 30,
    description: "Retention of the functions' log groups, in days.",
    validations: [
      {
        condition:
          "contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)",
        errorMessage:
          "log_retention_days: must be one of CloudWatch Logs' retention values (1, 3, 5, 7, 14, 30, 60, 90, ... 3653).",
      },
    ],
  },
  {
    name: "tags",
    type: "map(string)",
    default: {},
    description: "Tags added to every resource that takes tags.",
  },
  {
    name: "vpc_config",
    type: "object({ subnet_ids = list(string), security_group_ids = list(string) })",
    default: null,
    description:
      "Places the check function in these subnets (for HTTP checks of private endpoints). The subnets need a route to Mackerel and to the AWS APIs the checks call.",
    validations: [
      {
        condition:
          "var.vpc_config == null ? true : length(var.vpc_config.subnet_ids) > 0 && length(var.vpc_config.security_group_ids) > 0",
        errorMessage: "vpc_config: subnet_ids and security_group_ids must each list at least one id.",
      },
    ],
  },
];
