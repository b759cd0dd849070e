/**
 * The check kinds and what is checked of the items before the check function runs: literal items (CDKTF
 * users) at synth, names across the lists and the log rules at plan (a precondition). The check function
 * validates the rest of each spec when it runs.
 */
import { Fn, type IResolvable, propertyAccess, Token } from "cdktf";
import { camelCase } from "./props";
import { TF_CHECK_NAME, TF_SCHEDULE } from "./variables";

/** One check as in the Terraform variables (snake_case), passed verbatim to the function. */
export type CheckItem = { name: string } & Record<string, unknown>;
/** A Terraform list (e.g. `var.http_checks`) or literal items. */
export type CheckList = CheckItem[] | IResolvable;

/** The four kinds: the `kind` the function dispatches on, the variable, the default schedule. */
export const CHECK_KINDS = [
  { kind: "logs_insights", variable: "logs_insights_checks", defaultSchedule: "rate(5 minutes)" },
  { kind: "http", variable: "http_checks", defaultSchedule: "rate(1 minute)" },
  { kind: "sfn_execution", variable: "sfn_execution_checks", defaultSchedule: "rate(5 minutes)" },
  { kind: "log_freshness", variable: "log_freshness_checks", defaultSchedule: "rate(5 minutes)" },
  { kind: "s3_freshness", variable: "s3_freshness_checks", defaultSchedule: "rate(5 minutes)" },
  { kind: "opensearch_query", variable: "opensearch_query_checks", defaultSchedule: "rate(5 minutes)" },
] as const;
export type Kind = (typeof CHECK_KINDS)[number];

/** One attribute of every item, in order (a splat: `list[*].<attr>`). */
export function attribute(list: CheckList, attr: string): string[] | IResolvable {
  if (Array.isArray(list)) return list.map((item) => item[attr] as string);
  return propertyAccess(list, ["*", attr]);
}

/** The variables whose items name Mackerel checks: the check lists, then log_rules. */
const NAMING_VARIABLES = [...CHECK_KINDS.map((kind) => kind.variable), "log_rules"].join(", ");
/** The same, as the construct's props (literal items are checked at synth, naming the props). */
const NAMING_PROPS = [...CHECK_KINDS.map((kind) => camelCase(kind.variable)), "logRules"].join(", ");

/**
 * Literal items get no Terraform variable validation: their names and schedules are checked at synth
 * (the check function validates the rest of each spec when it runs, and reports UNKNOWN if it is bad).
 * Names are unique across the check lists and the log rules, which name Mackerel checks too.
 */
export function assertValidItems(lists: Record<Kind["kind"], CheckItem[]>, logRules: CheckItem[]): void {
  const seen = new Map<string, string>();
  for (const rule of logRules) if (typeof rule.name === "string") seen.set(rule.name, "logRules");
  for (const kind of CHECK_KINDS) {
    const prop = camelCase(kind.variable);
    for (const item of lists[kind.kind]) {
      if (typeof item.name !== "string" || !new RegExp(TF_CHECK_NAME).test(item.name)) {
        throw new Error(`${prop}: name ${JSON.stringify(item.name)} must be 1-64 characters of a-zA-Z0-9_-.`);
      }
      if (item.schedule != null && !new RegExp(TF_SCHEDULE).test(String(item.schedule))) {
        throw new Error(
          `${prop}: schedule ${JSON.stringify(item.schedule)} of ${item.name} must be rate(...) or cron(...) as EventBridge takes them.`,
        );
      }
      if (kind.kind === "http") assertHttpCredentialsElsewhere(item);
      const first = seen.get(item.name);
      if (first !== undefined) {
        throw new Error(
          `Check names must be unique across ${NAMING_PROPS}: "${item.name}" is in ${first} and ${prop}.`,
        );
      }
      seen.set(item.name, prop);
    }
  }
}

/** Literal HTTP items: credentials in the URL or in `headers` are refused at synth, as the variables refuse them at plan. */
function assertHttpCredentialsElsewhere(item: CheckItem): void {
  const how =
    'Put the credentials in a Secrets Manager secret ({"username": "...", "password": "..."} or {"headers": {"Authorization": "..."}}) and set headers_secret_arn on the check.';
  if (typeof item.url === "string" && /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/.test(item.url)) {
    throw new Error(`httpChecks: the url of ${item.name} holds user info (user:password@), which is refused. ${how}`);
  }
  const headers = (item.headers ?? {}) as Record<string, unknown>;
  if (Object.keys(headers).some((k) => ["authorization", "proxy-authorization", "cookie"].includes(k.toLowerCase()))) {
    throw new Error(`httpChecks: headers of ${item.name} set Authorization, Proxy-Authorization or Cookie. ${how}`);
  }
}

/**
 * A check name must be unique across the check lists and log_rules: each names one Mackerel check (and the
 * checks' the metrics `checks.<name>.*`). A variable validation cannot see the other variables (before
 * Terraform 1.9), so a precondition of the function checks it at plan, naming the duplicates and the variables.
 */
export function uniqueNamesPrecondition(
  lists: Record<Kind["kind"], CheckList>,
  logRules: CheckList,
): Record<string, unknown> {
  const names = Token.asString(
    Fn.concat([...CHECK_KINDS.map((kind) => attribute(lists[kind.kind], "name")), attribute(logRules, "name")]),
  );
  return {
    condition: `\${length(distinct(${names})) == length(${names})}`,
    error_message: `Check names must be unique across ${NAMING_VARIABLES} (each names one Mackerel check; a check's also names the metrics checks.<name>.*); repeated: \${join(", ", [for n in distinct(${names}) : n if length([for m in ${names} : m if m == n]) > 1])}.`,
  };
}
