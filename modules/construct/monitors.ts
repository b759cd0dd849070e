/**
 * The Mackerel side as code: the monitors that turn the module's metrics into alerts, as the JSON of
 * Mackerel's monitors API in the file layout `mkr monitors pull` writes and `mkr monitors push` reads
 * (`{"monitors": [...]}`), for the `mackerel_monitors` output:
 * - per declared job-failure metric (1 = failed, 0 = succeeded, e.g. the sfn-job-states metric): a
 *   service metric monitor, CRITICAL above 0 over the last point;
 * - per log rule: a service metric monitor on `logs.<rule>.count` above 0 (WARNING or CRITICAL as the
 *   rule's status), over the last point (the tick posts a zero-filled point every minute);
 * - with host roles: a connectivity monitor scoped to them, which watches the module's host (its
 *   per-minute heartbeat). Connectivity monitors are scoped by service or role, never by host, so
 *   without roles none is generated: Mackerel's default connectivity monitor (no scope) covers the host.
 * Check monitors need none: Mackerel creates them from the check reports.
 * Monitor names start with the module's name, so several modules in one organization do not collide.
 */
import { type IResolvable, ref, Token } from "cdktf";

export interface MonitorsInput {
  prefix: string;
  serviceName: string;
  /** Metric names (a list variable or literal names). */
  jobFailureMetrics?: string[] | IResolvable;
  /** Log rules (the variable or literal items with `name`, optional `status`, `notification_interval`). */
  logRules?: { name: string; status?: string | null; notification_interval?: number | null }[] | IResolvable;
  /** Role full names of the module's host. */
  hostRoles?: string[];
}

const JOB_MEMO = "mackerel-serverless: the job failed (its failure metric is 1; 0 when it succeeds).";
const RULE_MEMO =
  "mackerel-serverless: log events matched the log rule in the last minute (the check report of the rule has the samples).";
const HEARTBEAT_MEMO =
  "mackerel-serverless: the module's host stopped receiving its per-minute heartbeat (custom.mackerel_serverless.heartbeat): the pipeline itself is down.";

/** Literal monitors (every input literal): plain objects, absent fields left out. */
function literalMonitors(input: Required<Pick<MonitorsInput, "prefix" | "serviceName">> & MonitorsInput) {
  const monitors: Record<string, unknown>[] = [];
  for (const metric of (input.jobFailureMetrics as string[] | undefined) ?? []) {
    monitors.push({
      type: "service",
      name: `${input.prefix} job ${metric}`,
      memo: JOB_MEMO,
      service: input.serviceName,
      metric,
      operator: ">",
      critical: 0,
      duration: 1,
      maxCheckAttempts: 1,
    });
  }
  for (const rule of (input.logRules as Exclude<MonitorsInput["logRules"], IResolvable>) ?? []) {
    monitors.push({
      type: "service",
      name: `${input.prefix} log rule ${rule.name}`,
      memo: RULE_MEMO,
      service: input.serviceName,
      metric: `logs.${rule.name}.count`,
      operator: ">",
      ...(rule.status === "WARNING" ? { warning: 0 } : { critical: 0 }),
      duration: 1,
      maxCheckAttempts: 1,
      ...(rule.notification_interval == null ? {} : { notificationInterval: rule.notification_interval }),
    });
  }
  const roles = input.hostRoles ?? [];
  if (roles.length > 0) {
    monitors.push({
      type: "connectivity",
      name: `${input.prefix} heartbeat`,
      memo: HEARTBEAT_MEMO,
      scopes: roles,
      alertStatusOnGone: "CRITICAL",
    });
  }
  return { monitors };
}

/** The `{"monitors": [...]}` value: a literal object, or a Terraform expression over the variables. */
export function mackerelMonitors(input: MonitorsInput): unknown {
  const tokens = [input.prefix, input.serviceName, input.jobFailureMetrics, input.logRules, input.hostRoles];
  if (!tokens.some((t) => t !== undefined && Token.isUnresolved(t))) return literalMonitors(input);

  const s = (value: unknown) => (Token.isUnresolved(value) ? Token.asString(value) : JSON.stringify(value));
  const prefix = s(input.prefix);
  const service = s(input.serviceName);
  const metrics = input.jobFailureMetrics === undefined ? "[]" : s(input.jobFailureMetrics);
  const rules = input.logRules === undefined ? "[]" : s(input.logRules);
  const roles = input.hostRoles === undefined ? "[]" : s(input.hostRoles);
  // Optional fields through `{for k, v in {...} : k => v if cond}` maps: conditionals between objects of
  // different shapes do not type-check in Terraform, and merge() of maps leaves the field out.
  const expression = `{ monitors = concat(
    [for m in ${metrics} : { type = "service", name = format("%s job %s", ${prefix}, m), memo = ${JSON.stringify(JOB_MEMO)}, service = ${service}, metric = m, operator = ">", critical = 0, duration = 1, maxCheckAttempts = 1 }],
    [for r in ${rules} : merge(
      { type = "service", name = format("%s log rule %s", ${prefix}, r.name), memo = ${JSON.stringify(RULE_MEMO)}, service = ${service}, metric = format("logs.%s.count", r.name), operator = ">" },
      { for k, v in { warning = 0 } : k => v if try(r.status, null) == "WARNING" },
      { for k, v in { critical = 0 } : k => v if try(r.status, null) != "WARNING" },
      { duration = 1, maxCheckAttempts = 1 },
      { for k, v in { notificationInterval = try(r.notification_interval, null) } : k => v if v != null }
    )],
    [for rs in [${roles}] : { type = "connectivity", name = format("%s heartbeat", ${prefix}), memo = ${JSON.stringify(HEARTBEAT_MEMO)}, scopes = rs, alertStatusOnGone = "CRITICAL" } if length(rs) > 0]
  ) }`;
  return ref(expression.replace(/\n\s*/g, " "));
}
