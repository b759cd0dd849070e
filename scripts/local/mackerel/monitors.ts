/**
 * Monitor definitions as Mackerel's monitors API documents them (the file `mkr monitors pull` writes and
 * `mkr monitors push` reads), for the module's `mackerel_monitors` output. Written from the
 * documentation, not from the construct that generates them.
 */
import { SERVICE_METRIC_NAME_PATTERN, SERVICE_NAME_PATTERN, show } from "./rules.js";

/** Service metric monitor operators (monitors API: "the comparison operator, `>` or `<`"). */
export const MONITOR_OPERATORS = [">", "<"] as const;
/** Alert status of a connectivity monitor when a host is gone (monitors API). */
export const ALERT_STATUSES_ON_GONE = ["CRITICAL", "WARNING"] as const;
/** Fields the monitors API documents for each type this project generates, besides the common ones. */
const MONITOR_COMMON_FIELDS = ["id", "type", "name", "memo", "notificationInterval", "isMute"];
const MONITOR_TYPE_FIELDS: Record<string, string[]> = {
  service: [
    "service",
    "metric",
    "operator",
    "warning",
    "critical",
    "duration",
    "maxCheckAttempts",
    "missingDurationWarning",
    "missingDurationCritical",
  ],
  connectivity: ["scopes", "excludeScopes", "alertStatusOnGone"],
};

/**
 * Checks a monitors file (`{"monitors": [...]}`) against the documented fields of Mackerel's monitors
 * API, for the types this project generates (service metric and connectivity monitors; any other type
 * is reported as not checked rather than passed). Returns the problems, each naming the monitor and the
 * field; an empty list means every definition is valid. Choices where the documentation is silent: a
 * service metric monitor needs at least one of warning/critical, and `duration` is a whole number >= 1.
 */
export function validateMonitorDefinitions(file: unknown): string[] {
  const problems: string[] = [];
  if (file === null || typeof file !== "object" || Array.isArray(file)) return ["the file must be a JSON object"];
  const top = file as Record<string, unknown>;
  for (const key of Object.keys(top)) if (key !== "monitors") problems.push(`unknown top-level field "${key}"`);
  if (!Array.isArray(top.monitors)) return [...problems, "monitors must be an array"];
  const names = new Map<string, number>();
  top.monitors.forEach((value, i) => {
    const at = `monitors[${i}]`;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      problems.push(`${at} must be an object`);
      return;
    }
    const m = value as Record<string, unknown>;
    const type = typeof m.type === "string" ? m.type : undefined;
    const allowed = type === undefined ? undefined : MONITOR_TYPE_FIELDS[type];
    if (!allowed) {
      problems.push(`${at}.type ${show(m.type)} is not a type this stand-in checks (service, connectivity)`);
      return;
    }
    for (const key of Object.keys(m)) {
      if (!MONITOR_COMMON_FIELDS.includes(key) && !allowed.includes(key)) {
        problems.push(`${at}: field "${key}" is not documented for ${type} monitors`);
      }
    }
    if (typeof m.name !== "string" || m.name === "") problems.push(`${at}.name must be a non-empty string`);
    else {
      if (names.has(m.name)) problems.push(`${at}.name ${show(m.name)} repeats monitors[${names.get(m.name)}]`);
      names.set(m.name, i);
    }
    if (m.memo !== undefined && typeof m.memo !== "string") problems.push(`${at}.memo must be a string`);
    if (m.isMute !== undefined && typeof m.isMute !== "boolean") problems.push(`${at}.isMute must be a boolean`);
    if (
      m.notificationInterval !== undefined &&
      !(Number.isInteger(m.notificationInterval) && (m.notificationInterval as number) >= 10)
    ) {
      problems.push(`${at}.notificationInterval must be a whole number of minutes, at least 10`);
    }
    const scopes = (field: string) => {
      const v = m[field];
      if (v === undefined) return;
      if (!Array.isArray(v)) return problems.push(`${at}.${field} must be an array`);
      v.forEach((scope, j) => {
        const [service, role, extra] = typeof scope === "string" ? scope.split(":") : [];
        const ok =
          typeof scope === "string" &&
          extra === undefined &&
          SERVICE_NAME_PATTERN.test(service ?? "") &&
          (role === undefined || SERVICE_NAME_PATTERN.test(role));
        if (!ok) problems.push(`${at}.${field}[${j}] ${show(scope)} must be <service> or <service>:<role>`);
      });
    };
    if (type === "connectivity") {
      scopes("scopes");
      scopes("excludeScopes");
      if (m.alertStatusOnGone !== undefined && !ALERT_STATUSES_ON_GONE.includes(m.alertStatusOnGone as never)) {
        problems.push(`${at}.alertStatusOnGone must be CRITICAL or WARNING`);
      }
      return;
    }
    if (typeof m.service !== "string" || !SERVICE_NAME_PATTERN.test(m.service)) {
      problems.push(`${at}.service must be a service name`);
    }
    if (typeof m.metric !== "string" || !SERVICE_METRIC_NAME_PATTERN.test(m.metric)) {
      problems.push(`${at}.metric must be a service metric name ([a-zA-Z0-9._-]+)`);
    }
    if (!MONITOR_OPERATORS.includes(m.operator as never)) problems.push(`${at}.operator must be > or <`);
    const threshold = (field: string) => {
      const v = m[field];
      if (v !== undefined && v !== null && (typeof v !== "number" || !Number.isFinite(v))) {
        problems.push(`${at}.${field} must be a number or null`);
      }
      return typeof v === "number";
    };
    const hasWarning = threshold("warning");
    const hasCritical = threshold("critical");
    if (!hasWarning && !hasCritical) problems.push(`${at}: warning or critical must be set`);
    if (!(Number.isInteger(m.duration) && (m.duration as number) >= 1)) {
      problems.push(`${at}.duration must be a whole number of points, at least 1`);
    }
    if (
      m.maxCheckAttempts !== undefined &&
      !(
        Number.isInteger(m.maxCheckAttempts) &&
        (m.maxCheckAttempts as number) >= 1 &&
        (m.maxCheckAttempts as number) <= 10
      )
    ) {
      problems.push(`${at}.maxCheckAttempts must be a whole number from 1 to 10`);
    }
    for (const field of ["missingDurationWarning", "missingDurationCritical"]) {
      const v = m[field];
      if (
        v !== undefined &&
        v !== null &&
        !(Number.isInteger(v) && (v as number) >= 10 && (v as number) % 10 === 0 && (v as number) <= 10080)
      ) {
        problems.push(`${at}.${field} must be minutes in multiples of 10, from 10 to 10080`);
      }
    }
  });
  return problems;
}
