/**
 * The metric function's input: three accepted forms, validated with zod, normalized to what Mackerel
 * takes. Every problem is reported as `<field>: <rule>` in one {@link MackerelValidationError}.
 */
import * as z from "zod/mini";
import { MackerelValidationError } from "../shared/errors.js";
import type { CheckReportDraft } from "../shared/mackerel-client.js";
import {
  CHECK_MESSAGE_MAX_CODE_POINTS,
  CHECK_NAME,
  CHECK_REPORTS_PER_REQUEST,
  CHECK_STATUSES,
  HOST_METRIC_NAME,
  METRIC_RETENTION_SECONDS,
  SERVICE_METRIC_NAME,
  SERVICE_NAME,
  truncateCodePoints,
} from "../shared/names.js";

/** At most this many points of each kind per invocation: bounds the work one Task can ask for. */
export const MAX_POINTS_PER_INVOCATION = 1000;

/** Epoch seconds beyond this are milliseconds passed by mistake (1e11 s is the year 5138). */
const MILLISECONDS_THRESHOLD = 1e11;

export interface MetricPayload {
  service: string;
  serviceMetrics: { name: string; value: number; time: number }[];
  hostMetrics: { name: string; value: number; time: number }[];
  /** The reports, before the host is attached. */
  checks: CheckReportDraft[];
  /** Check messages cut to Mackerel's 1024 code points (logged by the handler). */
  truncatedMessages: string[];
}

const finiteNumber = z.number({
  // zod refuses NaN and ±Infinity at the type check already, so the rules are told apart here.
  error: (issue) =>
    issue.input === undefined
      ? "is required (a number)"
      : typeof issue.input === "number"
        ? "must be a finite number"
        : "must be a number",
});

/** A zod error option: `expected <what>` when the value has the wrong type ("is required" when absent). */
const expected = (what: string) => ({
  error: (issue: { code?: string; input?: unknown }) =>
    issue.code !== "invalid_type" ? undefined : issue.input === undefined ? "is required" : `expected ${what}`,
});

const ITEM = "an object {name, value, time?}";
const CHECK_ITEM = "an object {name, status, message?, notificationInterval?, maxCheckAttempts?}";

/** Epoch seconds as an integer, or an ISO 8601 timestamp such as Step Functions' `$$.State.EnteredTime`. */
const time = z.optional(z.union([z.number(), z.string()], { error: "must be epoch seconds or an ISO 8601 string" }));

const metricItem = (nameRule: RegExp, ruleText: string) =>
  z.strictObject(
    {
      name: z.string(expected("a string")).check(z.regex(nameRule, ruleText)),
      value: finiteNumber,
      time,
    },
    expected(ITEM),
  );

const SERVICE_METRIC_RULE = "must match [a-zA-Z0-9._-]+ (Mackerel's service metric name rule)";
const HOST_METRIC_RULE = "must match ^custom(\\.([-a-zA-Z0-9_]+|[*#]))+$ (Mackerel's custom host metric name rule)";
const SERVICE_RULE = "must be 2–63 characters of A-Za-z0-9_- not starting with - or _ (Mackerel's service name rule)";

const serviceField = z.optional(z.string(expected("a string")).check(z.regex(SERVICE_NAME, SERVICE_RULE)));
const pointsLimit = z.maxLength(
  MAX_POINTS_PER_INVOCATION,
  `at most ${MAX_POINTS_PER_INVOCATION} points per invocation`,
);

const canonicalSchema = z.strictObject({
  service: serviceField,
  metrics: z.optional(
    z.array(metricItem(SERVICE_METRIC_NAME, SERVICE_METRIC_RULE), expected("an array")).check(pointsLimit),
  ),
  hostMetrics: z.optional(
    z.array(metricItem(HOST_METRIC_NAME, HOST_METRIC_RULE), expected("an array")).check(pointsLimit),
  ),
  checks: z.optional(
    z
      .array(
        z.strictObject(
          {
            name: z.string(expected("a string")).check(z.regex(CHECK_NAME, "must be 1–64 characters of a-zA-Z0-9_-")),
            status: z.enum(CHECK_STATUSES, { error: `must be one of ${CHECK_STATUSES.join(", ")}` }),
            message: z.optional(z.string(expected("a string"))),
            notificationInterval: z.optional(
              z.int("must be whole minutes").check(z.minimum(10, "must be at least 10 minutes")),
            ),
            maxCheckAttempts: z.optional(
              z.int("must be an integer").check(z.minimum(1, "must be 1 to 10"), z.maximum(10, "must be 1 to 10")),
            ),
          },
          expected(CHECK_ITEM),
        ),
        expected("an array"),
      )
      .check(
        z.maxLength(CHECK_REPORTS_PER_REQUEST, `at most ${CHECK_REPORTS_PER_REQUEST} check reports per invocation`),
      ),
  ),
});

const singleMetricSchema = z.strictObject({
  "service-name": serviceField,
  "metric-name": z.string(expected("a string")).check(z.regex(SERVICE_METRIC_NAME, SERVICE_METRIC_RULE)),
  "metric-value": finiteNumber,
  time,
});

const shorthandSchema = z.strictObject({
  service: serviceField,
  name: z.string(expected("a string")).check(z.regex(SERVICE_METRIC_NAME, SERVICE_METRIC_RULE)),
  value: finiteNumber,
  time,
});

const FORMS =
  'expected {"metrics"|"hostMetrics"|"checks": [...]}, {"service-name","metric-name","metric-value"} or {"name","value"}';

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    out += typeof segment === "number" ? `[${segment}]` : out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out === "" ? "payload" : out;
}

function fail(issues: string[]): never {
  throw new MackerelValidationError(`invalid metric payload: ${issues.join("; ")}`, issues);
}

function parseWith<T>(schema: z.ZodMiniType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  fail(
    result.error.issues.map((issue) => {
      if (issue.code === "unrecognized_keys") {
        return `${formatPath(issue.path)}: unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")} (${FORMS})`;
      }
      return `${formatPath(issue.path)}: ${issue.message}`;
    }),
  );
}

/** `2026-01-31T12:34:56.789Z`, `2026-01-31T12:34Z`, `2026-01-31T21:34:56+09:00` (date, time, zone required). */
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))$/i;

/**
 * Epoch ms of an ISO 8601 timestamp; `"format"` when it is not one, `"date"` when its fields name no real
 * date or time (Date.parse would read 2026-02-30 as 2 March).
 */
export function parseIsoTimestamp(text: string): number | "format" | "date" {
  const m = ISO_TIMESTAMP.exec(text);
  if (!m) return "format";
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const zoneOk = m[7]!.toUpperCase() === "Z" || (Number(m[8]) <= 23 && Number(m[9]) <= 59);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 || !zoneOk) {
    return "date";
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? "format" : parsed;
}

/** Resolves a `time` field to whole epoch seconds, or explains what is wrong with it. */
function resolveTime(raw: number | string | undefined, nowSeconds: number, field: string, issues: string[]): number {
  if (raw === undefined) return nowSeconds;
  let seconds: number;
  if (typeof raw === "string") {
    const parsed = parseIsoTimestamp(raw);
    if (parsed === "format") {
      issues.push(`${field}: must be epoch seconds or an ISO 8601 timestamp, got "${raw.slice(0, 40)}"`);
      return nowSeconds;
    }
    if (parsed === "date") {
      issues.push(`${field}: is not a valid date or time of day, got "${raw.slice(0, 40)}"`);
      return nowSeconds;
    }
    seconds = Math.floor(parsed / 1000);
  } else {
    if (!Number.isInteger(raw)) {
      issues.push(`${field}: must be whole epoch seconds, got ${raw}`);
      return nowSeconds;
    }
    if (raw > MILLISECONDS_THRESHOLD) {
      issues.push(`${field}: must be epoch seconds, got ${raw} which looks like milliseconds`);
      return nowSeconds;
    }
    seconds = raw;
  }
  if (seconds <= nowSeconds - METRIC_RETENTION_SECONDS) {
    issues.push(`${field}: is more than 24 h in the past; Mackerel would silently drop it`);
  } else if (seconds >= nowSeconds + METRIC_RETENTION_SECONDS) {
    issues.push(`${field}: is more than 24 h in the future; Mackerel refuses it`);
  }
  return seconds;
}

/** Flags two points with the same (name, time): Mackerel would keep only one of them. */
function checkDuplicates(points: { name: string; time: number }[], field: string, issues: string[]): void {
  const seen = new Map<string, number>();
  points.forEach((point, index) => {
    const key = `${point.name}\u0000${point.time}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else
      issues.push(
        `${field}[${index}]: same name and time as ${field}[${first}]; Mackerel keeps one value per timestamp, sum them first`,
      );
  });
}

/**
 * Validates and normalizes a metric function event.
 *
 * @param event - the state input Step Functions passes, or a direct invocation's payload
 * @param defaultService - the module's `service_name`
 * @param nowSeconds - the current time in epoch seconds
 * @throws MackerelValidationError naming every bad field and the rule it breaks
 */
export function parseMetricPayload(event: unknown, defaultService: string, nowSeconds: number): MetricPayload {
  if (event === null || typeof event !== "object" || Array.isArray(event)) {
    fail([`payload: must be a JSON object (${FORMS})`]);
  }
  const record = event as Record<string, unknown>;
  const issues: string[] = [];
  let service = defaultService;
  let serviceMetrics: { name: string; value: number; time: number }[] = [];
  let hostMetrics: { name: string; value: number; time: number }[] = [];
  let checks: MetricPayload["checks"] = [];
  const truncatedMessages: string[] = [];

  if ("metric-name" in record || "metric-value" in record || "service-name" in record) {
    const single = parseWith(singleMetricSchema, record);
    service = single["service-name"] ?? defaultService;
    serviceMetrics = [
      {
        name: single["metric-name"],
        value: single["metric-value"],
        time: resolveTime(single.time, nowSeconds, "time", issues),
      },
    ];
  } else if ("name" in record || "value" in record) {
    const shorthand = parseWith(shorthandSchema, record);
    service = shorthand.service ?? defaultService;
    serviceMetrics = [
      { name: shorthand.name, value: shorthand.value, time: resolveTime(shorthand.time, nowSeconds, "time", issues) },
    ];
  } else if ("metrics" in record || "hostMetrics" in record || "checks" in record) {
    const canonical = parseWith(canonicalSchema, record);
    service = canonical.service ?? defaultService;
    serviceMetrics = (canonical.metrics ?? []).map((m, i) => ({
      name: m.name,
      value: m.value,
      time: resolveTime(m.time, nowSeconds, `metrics[${i}].time`, issues),
    }));
    hostMetrics = (canonical.hostMetrics ?? []).map((m, i) => ({
      name: m.name,
      value: m.value,
      time: resolveTime(m.time, nowSeconds, `hostMetrics[${i}].time`, issues),
    }));
    const names = new Map<string, number>();
    checks = (canonical.checks ?? []).map((check, i) => {
      const first = names.get(check.name);
      if (first !== undefined) {
        // Mackerel ignores a second report with the same (host, name, occurredAt).
        issues.push(`checks[${i}].name: "${check.name}" repeats checks[${first}]; one report per check per invocation`);
      } else names.set(check.name, i);
      const raw = check.message ?? "";
      const message = truncateCodePoints(raw, CHECK_MESSAGE_MAX_CODE_POINTS);
      if (message !== raw) truncatedMessages.push(check.name);
      return {
        name: check.name,
        status: check.status,
        message,
        occurredAt: nowSeconds,
        ...(check.notificationInterval === undefined ? {} : { notificationInterval: check.notificationInterval }),
        ...(check.maxCheckAttempts === undefined ? {} : { maxCheckAttempts: check.maxCheckAttempts }),
      };
    });
  } else {
    const problems = [`payload: nothing to post; ${FORMS}`];
    if ("service" in record && typeof record.service !== "string") problems.unshift("service: expected a string");
    fail(problems);
  }

  checkDuplicates(serviceMetrics, "metrics", issues);
  checkDuplicates(hostMetrics, "hostMetrics", issues);
  if (serviceMetrics.length + hostMetrics.length + checks.length === 0) {
    issues.push("payload: nothing to post; metrics, hostMetrics and checks are all empty");
  }
  if (issues.length > 0) fail(issues);
  return { service, serviceMetrics, hostMetrics, checks, truncatedMessages };
}
