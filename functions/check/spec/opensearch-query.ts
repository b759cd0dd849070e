/** The `opensearch_query` check's input: a count (or per-group counts) of matching documents in a window. */
import * as z from "zod/mini";
import {
  commonFields,
  commonSpec,
  type CommonSpec,
  type Direction,
  directedThresholdFields,
  fail,
  httpUrl,
  opt,
  parseFields,
  queryText,
  queryWindowFields,
  requireOrderedThresholds,
} from "./common.js";

/** The user's query: query DSL (one query clause) or a query_string text. */
export type OpenSearchQuery = { kind: "dsl"; clause: Record<string, unknown> } | { kind: "query_string"; text: string };

export interface OpenSearchQuerySpec extends CommonSpec {
  kind: "opensearch_query";
  /** The endpoint's origin and base path, no trailing slash. */
  endpoint: string;
  index: string;
  query: OpenSearchQuery;
  /** SigV4 service name: es (managed domains) or aoss (serverless collections). */
  service: "es" | "aoss";
  /** The signing region when the endpoint names one (`<...>.<region>.es.amazonaws.com`). */
  region?: string;
  timeField: string;
  windowMinutes: number;
  offsetMinutes: number;
  groupBy?: string;
  warning?: number;
  critical?: number;
  direction: Direction;
  dashboardsUrl?: string;
}

export const OPENSEARCH_DEFAULTS = {
  timeField: "@timestamp",
  windowMinutes: 5,
  offsetMinutes: 0,
  direction: "above" as const,
} as const;

/** Index names and patterns as OpenSearch takes them in a path: lowercase, `*` and `,` for patterns. */
export const OPENSEARCH_INDEX = /^[a-z0-9*.][a-z0-9*._+,:-]{0,511}$/;
export const OPENSEARCH_FIELD = /^[A-Za-z0-9@_.-]{1,256}$/;
/** `<...>.<region>.es.amazonaws.com` (domains, VPC domains) and `<id>.<region>.aoss.amazonaws.com`. */
const AWS_SEARCH_HOST = /\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.(es|aoss)\.amazonaws\.com(?:\.cn)?$/;

const fieldName = z.string().check(z.regex(OPENSEARCH_FIELD, "must be a field name (A-Za-z0-9 @ _ . -)"));

const schema = z.strictObject({
  kind: z.literal("opensearch_query"),
  ...commonFields,
  endpoint: httpUrl,
  index: z
    .string({ error: "is required" })
    .check(z.regex(OPENSEARCH_INDEX, "must be an index name or pattern (lowercase a-z 0-9 * . _ + , : -)")),
  query: queryText,
  service: opt(z.enum(["es", "aoss"], { error: "must be es or aoss" })),
  time_field: opt(fieldName),
  ...queryWindowFields,
  group_by: opt(fieldName),
  ...directedThresholdFields,
  dashboards_url: opt(httpUrl),
});

/** Query DSL when the text is a JSON object (`{"match": ...}` or `{"query": {...}}`), else a query_string. */
export function parseOpenSearchQuery(text: string): OpenSearchQuery | string {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) return { kind: "query_string", text: trimmed };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    return `is not valid JSON query DSL (${(error as Error).message})`;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return "must be a JSON object";
  let clause = parsed as Record<string, unknown>;
  const keys = Object.keys(clause);
  if (keys.length === 1 && keys[0] === "query") clause = clause.query as Record<string, unknown>;
  if (clause === null || typeof clause !== "object" || Array.isArray(clause) || Object.keys(clause).length !== 1) {
    return 'must hold exactly one query clause, e.g. {"match": {"level": "ERROR"}}';
  }
  return { kind: "dsl", clause };
}

/** The SigV4 service and region an endpoint implies (`*.aoss.amazonaws.com` is serverless). */
export function searchEndpointFacts(endpoint: string): { service: "es" | "aoss"; region?: string } {
  const match = AWS_SEARCH_HOST.exec(new URL(endpoint).hostname);
  return { service: match?.[2] === "aoss" ? "aoss" : "es", ...(match ? { region: match[1] } : {}) };
}

/** Validates an `opensearch_query` check and applies its defaults. */
export function parseOpenSearchQuerySpec(
  raw: Record<string, unknown>,
  checkName: string | undefined,
): OpenSearchQuerySpec {
  const data = parseFields(schema, raw, checkName);
  const query = parseOpenSearchQuery(data.query);
  if (typeof query === "string") fail([`check.query: ${query}`], checkName);
  const dir = data.direction ?? OPENSEARCH_DEFAULTS.direction;
  requireOrderedThresholds(data, dir, checkName);
  const facts = searchEndpointFacts(data.endpoint);
  return {
    ...commonSpec(data),
    kind: "opensearch_query",
    endpoint: data.endpoint.replace(/\/+$/, ""),
    index: data.index,
    query,
    service: data.service ?? facts.service,
    ...(facts.region ? { region: facts.region } : {}),
    timeField: data.time_field ?? OPENSEARCH_DEFAULTS.timeField,
    windowMinutes: data.window_minutes ?? OPENSEARCH_DEFAULTS.windowMinutes,
    offsetMinutes: data.offset_minutes ?? OPENSEARCH_DEFAULTS.offsetMinutes,
    groupBy: data.group_by,
    warning: data.warning,
    critical: data.critical,
    direction: dir,
    dashboardsUrl: data.dashboards_url,
  };
}
