/**
 * The scheduled checks' variables: Logs Insights queries, HTTP, Step Functions executions, log freshness
 * (S3 pulses and OpenSearch counts are in new-kinds.ts).
 */
import {
  CHECK_ALERT_ATTRIBUTES,
  checkListValidations,
  every,
  matches,
  nullOr,
  OFFSET_MINUTES_RULE,
  positiveInt,
  TF_ARN,
  TF_LOG_GROUP_NAME,
  thresholdOrder,
  thresholdValidation,
  type VariableDefinition,
} from "./rules";

/** A URL with user info (`scheme://user:pass@host`): the authority holds an `@`. */
const HTTP_USERINFO = "^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@";
/** Headers that carry credentials: never in an HTTP check's `headers` (they would sit in the rule input and state). */
const CREDENTIAL_HEADERS_HCL = '["authorization", "proxy-authorization", "cookie"]';

export const CHECK_VARIABLES: VariableDefinition[] = [
  {
    name: "logs_insights_checks",
    type: `list(object({ name = string, schedule = optional(string, "rate(5 minutes)"), log_group_names = list(string), query = string, window_minutes = optional(number, 5), offset_minutes = optional(number, 0), value_field = optional(string), warning = optional(number), critical = optional(number), direction = optional(string, "above"), ${CHECK_ALERT_ATTRIBUTES} }))`,
    default: [],
    description: "Scheduled CloudWatch Logs Insights queries compared with warning/critical thresholds.",
    details:
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
          `alltrue([for g in item.log_group_names : ${matches(TF_LOG_GROUP_NAME, "g")}])`,
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
        condition: every("logs_insights_checks", nullOr("offset_minutes", OFFSET_MINUTES_RULE)),
        errorMessage: "logs_insights_checks: offset_minutes must be a whole number of minutes from 0 to 10080.",
      },
    ],
  },
  {
    name: "http_checks",
    type: `list(object({ name = string, schedule = optional(string, "rate(1 minute)"), url = string, method = optional(string, "GET"), headers = optional(map(string), {}), expected_status = optional(list(number), [200]), body_contains = optional(string), body_regex = optional(string), timeout_seconds = optional(number, 10), warning_latency_ms = optional(number), critical_latency_ms = optional(number), follow_redirects = optional(bool, true), headers_secret_arn = optional(string, null), headers_secret_kms_key_arn = optional(string, null), ${CHECK_ALERT_ATTRIBUTES} }))`,
    default: [],
    description: "HTTP checks (status, body, latency) with credentials only from a Secrets Manager secret.",
    details:
      'HTTP checks with Node\'s fetch (default schedule rate(1 minute)): method (default GET), headers, expected_status (default [200]), body_contains, body_regex (checked against the first 1 MiB of the body), timeout_seconds for the whole exchange (default 10), warning_latency_ms/critical_latency_ms (reached at >=). Redirects are followed (at most 5; credentials are not sent to another origin) unless follow_redirects = false, in which case the 3xx itself is compared with expected_status. CRITICAL with the reason: DNS, connect, TLS, timeout, status, or body mismatch (with a redacted excerpt). Metrics: checks.<name>.latency_ms and checks.<name>.status_code (0 when no response). Header values travel in the rule\'s input (visible in EventBridge and in Terraform state): non-secret values only, and never Authorization, Proxy-Authorization or Cookie. Credentials go in a Secrets Manager secret named by headers_secret_arn (default null), which the check function reads when it runs: {"headers": {"Authorization": "Bearer ..."}} and/or {"username": ..., "password": ...} (basic auth); the function\'s role may read exactly those secrets. A secret encrypted with a customer-managed KMS key needs that key as headers_secret_kms_key_arn (default null: the aws/secretsmanager key), which grants kms:Decrypt on it through Secrets Manager only. A url with user info (user:password@) is refused.',
    validations: [
      ...checkListValidations("http_checks"),
      {
        condition: every("http_checks", 'can(regex("^https?://[^/ ]+", item.url))'),
        errorMessage: "http_checks: url must be an http:// or https:// URL.",
      },
      {
        // fetch refuses such a URL on every run ("Request cannot be constructed from a URL that includes
        // credentials"), and the credentials would sit in the rule's input and in state.
        condition: every("http_checks", `!${matches(HTTP_USERINFO, "item.url")}`),
        errorMessage: `http_checks: the url of \${join(", ", [for c in var.http_checks : c.name if ${matches(HTTP_USERINFO, "c.url")}])} holds user info (user:password@), which is refused. Put the credentials in a Secrets Manager secret ({"username": "...", "password": "..."} or {"headers": {"Authorization": "..."}}) and set headers_secret_arn on the check.`,
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
          nullOr("headers_secret_arn", matches(`${TF_ARN("secretsmanager")}secret:.+$`, "item.headers_secret_arn")),
        ),
        errorMessage:
          "http_checks: headers_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>).",
      },
      {
        condition: every(
          "http_checks",
          nullOr("headers_secret_kms_key_arn", matches(`${TF_ARN("kms")}key/.+$`, "item.headers_secret_kms_key_arn")),
        ),
        errorMessage:
          "http_checks: headers_secret_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>).",
      },
      {
        condition: every("http_checks", nullOr("headers_secret_kms_key_arn", "item.headers_secret_arn != null")),
        errorMessage:
          "http_checks: headers_secret_kms_key_arn is set without headers_secret_arn: it names the key of that secret.",
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
    description: "Step Functions execution checks: failed (or other) executions in a window, and long runs.",
    details:
      "Step Functions execution checks (default schedule rate(5 minutes)): executions that started within window_minutes (default 60) with a status in statuses (default FAILED, TIMED_OUT, ABORTED) are counted against warning/critical (reached at >=; critical defaults to 1), the newest named in the message; max_running_minutes makes executions RUNNING for longer CRITICAL. Metrics: checks.<name>.count, one per status (checks.<name>.failed, ...), checks.<name>.running_too_long. Standard workflows only (ListExecutions).",
    validations: [
      ...checkListValidations("sfn_execution_checks"),
      {
        condition: every(
          "sfn_execution_checks",
          matches(`${TF_ARN("states")}stateMachine:.+$`, "item.state_machine_arn"),
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
    description: "Log freshness checks: CRITICAL when a log group has no event newer than max_age_minutes.",
    details:
      "Log freshness checks, a dead-man's switch for any producer (default schedule rate(5 minutes)): CRITICAL when log_group_name has no event newer than max_age_minutes, or does not exist. Exact (FilterLogEvents with a start time), never DescribeLogStreams. Metric: checks.<name>.age_seconds, the age of an event found (an upper bound of the newest event's age).",
    validations: [
      ...checkListValidations("log_freshness_checks"),
      {
        condition: every("log_freshness_checks", matches(TF_LOG_GROUP_NAME, "item.log_group_name")),
        errorMessage:
          "log_freshness_checks: log_group_name must be a log group name (1-512 characters of a-zA-Z0-9 . - _ / #).",
      },
      positiveInt("log_freshness_checks", "max_age_minutes", 10080, "minutes"),
    ],
  },
];
