/**
 * The request bodies of the endpoints the functions call, checked field by field as the API
 * documentation describes them. Each parser throws a 400 naming the first bad field, before anything
 * is recorded: one bad item refuses the whole request.
 */
import {
  bad,
  CHECK_MESSAGE_MAX_CODE_POINTS,
  CHECK_REPORT_STATUSES,
  CHECK_REPORTS_MAX_PER_REQUEST,
  type CheckReportStatus,
  codePointLength,
  HOST_CHECK_NAME_PATTERN,
  HOST_METRIC_NAME_PATTERN,
  optionalString,
  requireArray,
  requireEpochSeconds,
  requireFiniteNumber,
  requireObject,
  requireString,
  SERVICE_METRIC_NAME_PATTERN,
  SERVICE_NAME_PATTERN,
  show,
} from "./rules.js";
import type { LocalHostSeed, RecordedCheckReport } from "./types.js";

/** Where a metric point's time falls: recorded, too old (dropped) or too far ahead (dropped). */
export type MetricWindow = "keep" | "old" | "future";

/** A metric point as posted, with its time window. */
export interface MetricPoint {
  name: string;
  time: number;
  value: number;
  window: MetricWindow;
}

/** `POST /api/v0/services/<service>/tsdb`: `[{name, time, value}]`. */
export function parseServiceMetrics(
  body: unknown,
  windowOf: (time: number, field: string) => MetricWindow,
): MetricPoint[] {
  return requireArray(body, "body").map((item, i) => {
    const field = `[${i}]`;
    const point = requireObject(item, field);
    const name = requireString(point.name, `${field}.name`);
    if (!SERVICE_METRIC_NAME_PATTERN.test(name)) {
      throw bad(`${field}.name ${show(name)} does not match [a-zA-Z0-9._-]+`);
    }
    const time = requireEpochSeconds(point.time, `${field}.time`);
    const value = requireFiniteNumber(point.value, `${field}.value`);
    return { name, time, value, window: windowOf(time, `${field}.time`) };
  });
}

/** `POST /api/v0/tsdb`: `[{hostId, name, time, value}]` with custom metric names. */
export function parseHostMetrics(
  body: unknown,
  windowOf: (time: number, field: string) => MetricWindow,
): (MetricPoint & { hostId: string })[] {
  return requireArray(body, "body").map((item, i) => {
    const field = `[${i}]`;
    const point = requireObject(item, field);
    const hostId = requireString(point.hostId, `${field}.hostId`);
    const name = requireString(point.name, `${field}.name`);
    if (!HOST_METRIC_NAME_PATTERN.test(name)) {
      throw bad(`${field}.name ${show(name)} does not match ^custom(\\.([-a-zA-Z0-9_]+|[*#]))+$`);
    }
    const time = requireEpochSeconds(point.time, `${field}.time`);
    const value = requireFiniteNumber(point.value, `${field}.value`);
    return { hostId, name, time, value, window: windowOf(time, `${field}.time`) };
  });
}

/** `POST /api/v0/monitoring/checks/report`: `{reports: [...]}`, 1 to 100 reports (receivedAt left 0). */
export function parseCheckReports(body: unknown): RecordedCheckReport[] {
  const input = requireObject(body, "body");
  const items = requireArray(input.reports, "reports");
  if (items.length === 0) throw bad("reports must hold at least one report");
  if (items.length > CHECK_REPORTS_MAX_PER_REQUEST) {
    throw bad(`reports holds ${items.length} reports; at most ${CHECK_REPORTS_MAX_PER_REQUEST} are accepted`);
  }
  return items.map((item, i) => {
    const field = `reports[${i}]`;
    const report = requireObject(item, field);
    const source = requireObject(report.source, `${field}.source`);
    if (source.type !== "host") throw bad(`${field}.source.type must be "host" (got ${show(source.type)})`);
    const hostId = requireString(source.hostId, `${field}.source.hostId`);
    const name = requireString(report.name, `${field}.name`);
    if (name === "") throw bad(`${field}.name must not be empty`);
    const status = report.status;
    if (typeof status !== "string" || !(CHECK_REPORT_STATUSES as readonly string[]).includes(status)) {
      throw bad(`${field}.status must be one of ${CHECK_REPORT_STATUSES.join(", ")} (got ${show(status)})`);
    }
    const message = requireString(report.message, `${field}.message`);
    const length = codePointLength(message);
    if (length > CHECK_MESSAGE_MAX_CODE_POINTS) {
      throw bad(`${field}.message has ${length} characters; at most ${CHECK_MESSAGE_MAX_CODE_POINTS} are accepted`);
    }
    const occurredAt = requireEpochSeconds(report.occurredAt, `${field}.occurredAt`);
    const recorded: RecordedCheckReport = {
      hostId,
      name,
      status: status as CheckReportStatus,
      message,
      occurredAt,
      receivedAt: 0,
    };
    if (report.notificationInterval !== undefined) {
      const interval = report.notificationInterval;
      if (typeof interval !== "number" || !Number.isInteger(interval) || interval < 10) {
        throw bad(`${field}.notificationInterval must be an integer number of minutes >= 10 (got ${show(interval)})`);
      }
      recorded.notificationInterval = interval;
    }
    if (report.maxCheckAttempts !== undefined) {
      const attempts = report.maxCheckAttempts;
      if (typeof attempts !== "number" || !Number.isInteger(attempts) || attempts < 1 || attempts > 10) {
        throw bad(`${field}.maxCheckAttempts must be an integer from 1 to 10 (got ${show(attempts)})`);
      }
      recorded.maxCheckAttempts = attempts;
    }
    return recorded;
  });
}

/** `POST /api/v0/hosts`: a registration (name and meta required; roles and checks checked). */
export function parseHostRegistration(body: unknown): LocalHostSeed {
  const input = requireObject(body, "body");
  const name = requireString(input.name, "name");
  if (name === "") throw bad("name must not be empty");
  const displayName = optionalString(input.displayName, "displayName");
  const customIdentifier = optionalString(input.customIdentifier, "customIdentifier");
  const memo = optionalString(input.memo, "memo");
  const meta = requireObject(input.meta, "meta");
  let roleFullnames: string[] | undefined;
  if (input.roleFullnames !== undefined) {
    roleFullnames = requireArray(input.roleFullnames, "roleFullnames").map((value, i) => {
      const fullname = requireString(value, `roleFullnames[${i}]`);
      const [service, role, extra] = fullname.split(":");
      if (
        extra !== undefined ||
        !service ||
        !role ||
        !SERVICE_NAME_PATTERN.test(service) ||
        !SERVICE_NAME_PATTERN.test(role)
      ) {
        throw bad(`roleFullnames[${i}] ${show(fullname)} must be <service>:<role> with valid names`);
      }
      return fullname;
    });
  }
  let checks: { name: string; memo?: string }[] | undefined;
  if (input.checks !== undefined) {
    checks = requireArray(input.checks, "checks").map((value, i) => {
      const check = requireObject(value, `checks[${i}]`);
      const checkName = requireString(check.name, `checks[${i}].name`);
      if (!HOST_CHECK_NAME_PATTERN.test(checkName)) {
        throw bad(`checks[${i}].name ${show(checkName)} does not match [a-zA-Z0-9_-]+`);
      }
      const checkMemo = optionalString(check.memo, `checks[${i}].memo`);
      return checkMemo === undefined ? { name: checkName } : { name: checkName, memo: checkMemo };
    });
  }
  return { name, displayName, customIdentifier, meta, memo, roleFullnames, checks };
}
