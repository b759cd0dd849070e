/**
 * What the module's variable definitions share: their shape, the helpers that write validation
 * conditions as Terraform expressions, the patterns more than one variable (or the construct) uses, and
 * the validations every check list has.
 *
 * Conditions are Terraform expressions (Go RE2 regexes, Terraform >= 1.5). Patterns are written as RE2
 * reads them (`String.raw`, one backslash per backslash) and become HCL string literals through
 * {@link hclString}, which adds HCL's escapes; nothing here is escaped by hand.
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
  /** One line: the variable's `description` in the module. */
  description: string;
  /** The whole description (defaults, attributes, what the role gets): the README's inputs table. @default description */
  details?: string;
  /** Omitted: required. */
  default?: unknown;
  nullable?: boolean;
  validations?: VariableValidation[];
}

/** `text` as an HCL string literal: quotes and backslashes escaped, `${` and `%{` kept literal. */
export function hclString(text: string): string {
  const escaped = text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$\{/g, "$${").replace(/%\{/g, "%%{");
  return `"${escaped}"`;
}

/** `can(regex("<pattern>", <expr>))`: whether `expr` matches the RE2 `pattern`. */
export const matches = (pattern: string, expr: string) => `can(regex(${hclString(pattern)}, ${expr}))`;

/** `alltrue([for item in var.<list> : <expr>])`, null-safe. */
export const every = (list: string, expr: string) => `alltrue([for item in var.${list} : ${expr}])`;
/** An optional attribute that is null or satisfies `expr` (conditional expressions are lazy, `||` is not). */
export const nullOr = (attr: string, expr: string) => `item.${attr} == null ? true : (${expr})`;

/** Mackerel's service name rule. */
export const TF_SERVICE_NAME = "^[A-Za-z0-9][A-Za-z0-9_-]{1,62}$";
/** A role full name `<service>:<role>` (host registration's roleFullnames). */
export const TF_ROLE_FULLNAME = "^[A-Za-z0-9][A-Za-z0-9_-]{1,62}:[A-Za-z0-9][A-Za-z0-9_-]{1,62}$";
/** Check and log rule names: also a metric name segment (`checks.<name>.*`, `logs.<rule>.count`). */
export const TF_CHECK_NAME = "^[a-zA-Z0-9_-]{1,64}$";
/** EventBridge schedule expressions. */
export const TF_SCHEDULE =
  "^(rate[(](1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))[)]|cron[(][^ ]+ [^ ]+ ([?] [^ ]+ [^ ]+|[^ ]+ [^ ]+ [?]) [^ ]+[)])$";
/** The start of an ARN of `service` (any partition), up to the resource. */
export const TF_ARN = (service: string) => `^arn:aws[a-zA-Z-]*:${service}:[a-z0-9-]+:[0-9]{12}:`;
/** CloudWatch Logs log group names. */
export const TF_LOG_GROUP_NAME = String.raw`^[\.\-_/#A-Za-z0-9]{1,512}$`;
/** Alert settings every check item takes. */
export const CHECK_ALERT_ATTRIBUTES = "notification_interval = optional(number), max_check_attempts = optional(number)";

export const checkNameValidation = (list: string): VariableValidation => ({
  condition: every(list, matches(TF_CHECK_NAME, "item.name")),
  errorMessage: `${list}: every name must be 1-64 characters of a-zA-Z0-9_- (it names a Mackerel check and the metrics checks.<name>.*).`,
});
const scheduleValidation = (list: string): VariableValidation => ({
  condition: every(list, nullOr("schedule", matches(TF_SCHEDULE, "item.schedule"))),
  errorMessage: `${list}: schedule must be an EventBridge expression: rate(1 minute|hour|day), rate(N minutes|hours|days) with N >= 2, or cron(minutes hours day-of-month month day-of-week year) with ? as day-of-month or day-of-week (UTC).`,
});
export const thresholdValidation = (list: string, attrs: string[]): VariableValidation => ({
  condition: every(list, attrs.map((a) => `(${nullOr(a, `item.${a} >= 0`)})`).join(" && ")),
  errorMessage: `${list}: ${attrs.join(", ")} must be zero or more.`,
});
export const positiveInt = (list: string, attr: string, max: number, what: string): VariableValidation => ({
  condition: every(
    list,
    nullOr(attr, `item.${attr} >= 1 && item.${attr} <= ${max} && floor(item.${attr}) == item.${attr}`),
  ),
  errorMessage: `${list}: ${attr} must be a whole number of ${what} from 1 to ${max}.`,
});
export const uniqueNames = (list: string): VariableValidation => ({
  condition: `length(distinct([for item in var.${list} : item.name])) == length(var.${list})`,
  errorMessage: `${list}: names must be unique.`,
});
/**
 * `warning` comes before `critical` in the direction of the alert (thresholds are reached at >= / <=).
 * `critical` and `direction` are Terraform expressions (they may apply defaults).
 */
export const thresholdOrder = (
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
export const checkListValidations = (list: string): VariableValidation[] => [
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
/** `offset_minutes`: a whole number of minutes from 0 to 10080 (a week). */
export const OFFSET_MINUTES_RULE =
  "item.offset_minutes >= 0 && item.offset_minutes <= 10080 && floor(item.offset_minutes) == item.offset_minutes";
