/**
 * The check function's input: `{"check": {"kind", ...spec}}` as an EventBridge rule's target input
 * carries it (the Terraform variable's item, snake_case, absent optional attributes as null), or
 * `{"tick": {}}`. Validated with zod; null means absent, and the documented defaults are applied where each
 * kind is parsed: one file per kind under `spec/` (schema, spec type, defaults), the shared fields in
 * `spec/common.ts`.
 */
import { CHECK_NAME } from "../shared/names.js";
import { fail } from "./spec/common.js";
import {
  parseS3FreshnessSpec,
  parseLogFreshnessSpec,
  type LogFreshnessSpec,
  type S3FreshnessSpec,
} from "./spec/freshness.js";
import { HTTP_DEFAULTS, parseHttpSpec, type HttpSpec } from "./spec/http.js";
import { LOGS_INSIGHTS_DEFAULTS, parseLogsInsightsSpec, type LogsInsightsSpec } from "./spec/logs-insights.js";
import { parseOpenSearchQuerySpec, type OpenSearchQuerySpec } from "./spec/opensearch-query.js";
import { parseSfnExecutionSpec, SFN_EXECUTION_DEFAULTS, type SfnExecutionSpec } from "./spec/sfn-execution.js";

export { type CommonSpec, type Direction, thresholdsOrdered } from "./spec/common.js";
export { type LogFreshnessSpec, type S3FreshnessSpec, S3_FRESHNESS_DEFAULTS } from "./spec/freshness.js";
export { compileRegex, HTTP_AUTH_HINT, HTTP_METHODS, type HttpSpec } from "./spec/http.js";
export type { LogsInsightsSpec } from "./spec/logs-insights.js";
export {
  OPENSEARCH_DEFAULTS,
  OPENSEARCH_FIELD,
  OPENSEARCH_INDEX,
  type OpenSearchQuery,
  type OpenSearchQuerySpec,
  parseOpenSearchQuery,
  searchEndpointFacts,
} from "./spec/opensearch-query.js";
export { SFN_STATUSES, type SfnExecutionSpec, type SfnStatus } from "./spec/sfn-execution.js";

export const CHECK_KINDS = [
  "logs_insights",
  "http",
  "sfn_execution",
  "log_freshness",
  "s3_freshness",
  "opensearch_query",
] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export type CheckSpec =
  LogsInsightsSpec | HttpSpec | SfnExecutionSpec | LogFreshnessSpec | S3FreshnessSpec | OpenSearchQuerySpec;

export type CheckEvent = { type: "check"; spec: CheckSpec } | { type: "tick" };

/** Documented defaults (README, variable descriptions). */
export const DEFAULTS = {
  logsInsights: LOGS_INSIGHTS_DEFAULTS,
  http: HTTP_DEFAULTS,
  sfnExecution: SFN_EXECUTION_DEFAULTS,
} as const;

/** Each kind's parser: validates the `check` object, applies the kind's defaults. */
const PARSERS: { [K in CheckKind]: (raw: Record<string, unknown>, checkName: string | undefined) => CheckSpec } = {
  logs_insights: parseLogsInsightsSpec,
  http: parseHttpSpec,
  sfn_execution: parseSfnExecutionSpec,
  log_freshness: parseLogFreshnessSpec,
  s3_freshness: parseS3FreshnessSpec,
  opensearch_query: parseOpenSearchQuerySpec,
};

const FORMS = `expected {"check": {"kind": ${CHECK_KINDS.map((k) => `"${k}"`).join("|")}, "name", ...}} or {"tick": {}}`;

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
  return PARSERS[kind as CheckKind](raw, name);
}
