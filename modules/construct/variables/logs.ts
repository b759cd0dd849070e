/**
 * The log pipeline's variables: per log group subscriptions, the account-level subscription, the log rules.
 */
import {
  checkNameValidation,
  every,
  hclString,
  matches,
  nullOr,
  positiveInt,
  TF_LOG_GROUP_NAME,
  uniqueNames,
  type VariableDefinition,
} from "./rules";

/** Longest log rule pattern (functions/shared/user-regexp.ts MAX_PATTERN_LENGTH). */
const MAX_RULE_PATTERN_LENGTH = 1000;
/**
 * Every broken include, exclude or redact pattern of every log rule, one message each, naming the entry and
 * the pattern: `log_rules[3] ("errors").include[0]: "(?=x)" is not a valid RE2 regular expression ...`.
 * `can(regexall(r, ""))` is Go's RE2 parser: the syntax the functions run (re2js).
 */
const BROKEN_LOG_RULE_PATTERNS =
  `flatten([for i, item in var.log_rules : [for attr in ["include", "exclude", "redact"] : ` +
  `[for j, r in (item[attr] == null ? [] : item[attr]) : format(${hclString('log_rules[%d] ("%s").%s[%d]: %s')}, i, item.name, attr, j, ` +
  `r == "" ? "must not be empty (it would match every line)" : ` +
  `length(r) > ${MAX_RULE_PATTERN_LENGTH} ? "must be at most ${MAX_RULE_PATTERN_LENGTH} characters" : ` +
  `format(${hclString('"%s" is not a valid RE2 regular expression (RE2 has no backreferences or lookaround)')}, r)) ` +
  `if r == "" || length(r) > ${MAX_RULE_PATTERN_LENGTH} || !can(regexall(r, ""))]]])`;
/** The rules are one state table item: DynamoDB's item limit is 400 KB. */
export const LOG_RULES_MAX_JSON = 350_000;

export const LOG_VARIABLES: VariableDefinition[] = [
  {
    name: "log_subscriptions",
    type: 'list(object({ log_group_name = string, filter_pattern = optional(string, "") }))',
    default: [],
    description: "Log groups subscribed to the logs function, one subscription filter each.",
    details:
      "Log groups wired to the logs function with one subscription filter each (CloudWatch Logs allows 2 per log group). filter_pattern uses CloudWatch Logs filter syntax; empty sends every event. The module's own log groups are refused (loop guard).",
    validations: [
      {
        condition: every("log_subscriptions", matches(TF_LOG_GROUP_NAME, "item.log_group_name")),
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
    description: "One account-level subscription filter policy to the logs function, instead of per-group filters.",
    details:
      "One account-level subscription filter policy to the logs function instead of per-group filters (one such policy per account). The module's own log groups are always excluded.",
    validations: [
      {
        condition: `var.account_log_subscription == null ? true : (var.account_log_subscription.excluded_log_groups == null ? true : alltrue([for g in var.account_log_subscription.excluded_log_groups : ${matches(TF_LOG_GROUP_NAME, "g")}]))`,
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
    description: "Log rules of the logs function (include/exclude regexes, status, recovery, samples, redaction).",
    details:
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
];
