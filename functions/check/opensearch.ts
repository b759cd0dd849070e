/**
 * OpenSearch / Elasticsearch query checks (the daily error summary): count the documents that match the
 * query over [now − offset − window, now − offset) on `time_field`, with `_count`, or with `_search` and
 * a terms aggregation (size 0) when `group_by` is given; compare the total with thresholds; post
 * `checks.<name>.total` and one `checks.<name>.<bucket>` per bucket. A request that fails is UNKNOWN
 * with the reason OpenSearch (or IAM) gave.
 */
import { distinctMetricSegments } from "../shared/names.js";
import { describeAwsError } from "./aws.js";
import { queryWindow, type QueryWindow } from "./logs-insights.js";
import type { SearchApi } from "./opensearch-client.js";
import {
  type CheckOutcome,
  describeThresholds,
  evaluateThreshold,
  formatDuration,
  formatNumber,
  isoSeconds,
  unknown,
} from "./outcome.js";
import { excerpt } from "./redact.js";
import { callTimeout, type RunContext } from "./run-context.js";
import type { OpenSearchQuerySpec } from "./spec.js";

/** Terms aggregation size: buckets beyond it are counted in the total, not posted. */
export const MAX_BUCKETS = 50;
/** Windows of at least this many minutes show each bucket's average per hour. */
export const DAILY_WINDOW_MINUTES = 1440;
const CALL_TIMEOUT_MS = 20_000;
/** The aggregation's name in the request and the response. */
const AGG = "groups";

export interface SearchCall {
  path: string;
  body: Record<string, unknown>;
}

/** Index names and patterns go in the path: each comma-separated part URI-encoded, `*` and `,` kept. */
export function indexPath(index: string): string {
  return index
    .split(",")
    .map((part) => encodeURIComponent(part).replace(/%2A/g, "*"))
    .join(",");
}

/** The request: the user's query AND the time range, as `_count` or an aggregating `_search`. */
export function buildSearchCall(spec: OpenSearchQuerySpec, window: QueryWindow): SearchCall {
  const userQuery = spec.query.kind === "dsl" ? spec.query.clause : { query_string: { query: spec.query.text } };
  const query = {
    bool: {
      filter: [
        userQuery,
        { range: { [spec.timeField]: { gte: window.start * 1000, lt: window.end * 1000, format: "epoch_millis" } } },
      ],
    },
  };
  if (spec.groupBy === undefined) return { path: `/${indexPath(spec.index)}/_count`, body: { query } };
  return {
    path: `/${indexPath(spec.index)}/_search`,
    body: {
      size: 0,
      track_total_hits: true,
      query,
      aggs: { [AGG]: { terms: { field: spec.groupBy, size: MAX_BUCKETS } } },
    },
  };
}

interface Bucket {
  key: string;
  count: number;
}

export interface SearchResult {
  total: number;
  buckets?: Bucket[];
  /** Documents in buckets beyond the aggregation's size. */
  otherCount?: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** Reads a `_count` or `_search` answer; a string is the reason it cannot be used. */
export function readSearchResult(spec: OpenSearchQuerySpec, body: unknown): SearchResult | string {
  if (!isObject(body)) return "the answer is not a JSON object";
  const shards = body._shards;
  if (isObject(shards) && typeof shards.failed === "number" && shards.failed > 0) {
    const failures = Array.isArray(shards.failures) ? shards.failures : [];
    const reason = failures
      .map((f) => (isObject(f) && isObject(f.reason) ? String(f.reason.reason ?? f.reason.type ?? "") : ""))
      .find((r) => r !== "");
    return `${shards.failed} of ${String(shards.total ?? "?")} shards failed${reason ? `: ${excerpt(reason, 200)}` : ""}`;
  }
  if (body.timed_out === true) return "the search timed out in OpenSearch (the counts would be partial)";
  if (spec.groupBy === undefined) {
    return typeof body.count === "number" ? { total: body.count } : "the _count answer has no count";
  }
  const hits = body.hits;
  const total = isObject(hits) ? (isObject(hits.total) ? hits.total.value : hits.total) : undefined;
  if (typeof total !== "number") return "the _search answer has no hits.total";
  const agg = isObject(body.aggregations) ? body.aggregations[AGG] : undefined;
  if (!isObject(agg) || !Array.isArray(agg.buckets)) return `the _search answer has no aggregations.${AGG}.buckets`;
  const buckets: Bucket[] = [];
  for (const b of agg.buckets) {
    if (!isObject(b) || typeof b.doc_count !== "number") return "a bucket of the answer has no doc_count";
    const key = typeof b.key_as_string === "string" ? b.key_as_string : String(b.key);
    buckets.push({ key, count: b.doc_count });
  }
  const otherCount = typeof agg.sum_other_doc_count === "number" ? agg.sum_other_doc_count : 0;
  return { total, buckets, otherCount };
}

/** Turns the counts into the check's outcome. Pure. */
export function summarizeOpenSearch(
  spec: OpenSearchQuerySpec,
  result: SearchResult,
  window: QueryWindow,
): CheckOutcome {
  const metrics: Record<string, number> = { total: result.total };
  const thresholds = { warning: spec.warning, critical: spec.critical, direction: spec.direction };
  const verdict = evaluateThreshold(result.total, thresholds);
  const hours = (window.end - window.start) / 3600;
  const daily = spec.windowMinutes >= DAILY_WINDOW_MINUTES;
  const lines = [
    `${verdict.status}: total ${formatNumber(result.total)}${verdict.breached ? ` (${verdict.breached})` : ""} in ${isoSeconds(window.start)} – ${isoSeconds(window.end)} (${formatDuration(window.end - window.start)}), ${spec.index} on ${new URL(spec.endpoint).host}`,
  ];
  if (result.buckets) {
    const segments = distinctMetricSegments(
      result.buckets.map((b) => b.key),
      "total",
    );
    result.buckets.forEach((b, i) => (metrics[segments[i]!] = b.count));
    if (result.buckets.length === 0) lines.push(`by ${spec.groupBy}: no documents`);
    else {
      const parts = result.buckets.map(
        (b) => `${excerpt(b.key, 60)}=${formatNumber(b.count)}${daily ? ` (${formatNumber(b.count / hours)}/h)` : ""}`,
      );
      lines.push(`by ${spec.groupBy}: ${parts.join(", ")}`);
    }
    if (result.otherCount)
      lines.push(`${formatNumber(result.otherCount)} more in groups beyond the top ${MAX_BUCKETS}`);
  }
  if (daily && !result.buckets) lines.push(`average ${formatNumber(result.total / hours)}/h`);
  const described = describeThresholds(thresholds);
  if (described) lines.push(`thresholds: ${described}`);
  if (spec.dashboardsUrl) lines.push(`dashboards: ${spec.dashboardsUrl}`);
  return { status: verdict.status, message: lines.join("\n"), metrics };
}

/** Why a non-2xx answer failed: OpenSearch's `error.reason`, or the AWS (IAM) `message`. */
export function describeSearchError(status: number, text: string): string {
  let reason = "";
  try {
    const body: unknown = JSON.parse(text);
    if (isObject(body)) {
      const error = body.error;
      if (isObject(error)) {
        const root = Array.isArray(error.root_cause) && isObject(error.root_cause[0]) ? error.root_cause[0] : error;
        reason = [root.type, root.reason].filter((v) => typeof v === "string").join(": ");
      } else if (typeof error === "string") reason = error;
      else if (typeof body.message === "string") reason = body.message;
      else if (typeof body.Message === "string") reason = body.Message;
    }
  } catch {
    reason = text;
  }
  const hint =
    status === 403
      ? " (the check function's role needs es:ESHttpPost on the domain, or aoss:APIAccessAll and a data access policy on the collection)"
      : "";
  return `answered ${status}${reason ? `: ${excerpt(reason, 300)}` : ""}${hint}`;
}

/** Runs an OpenSearch query check; never throws for request failures (they become UNKNOWN). */
export async function runOpenSearchCheck(
  spec: OpenSearchQuerySpec,
  api: SearchApi,
  context: RunContext,
): Promise<CheckOutcome> {
  const window = queryWindow(context.nowMs, spec.windowMinutes, spec.offsetMinutes);
  const call = buildSearchCall(spec, window);
  const what = `POST ${call.path}`;
  let response;
  try {
    response = await api.post(
      {
        endpoint: spec.endpoint,
        path: call.path,
        body: JSON.stringify(call.body),
        service: spec.service,
        ...(spec.region ? { region: spec.region } : {}),
      },
      { timeoutMs: callTimeout(context, CALL_TIMEOUT_MS) },
    );
  } catch (error) {
    // fetch's own error says only "fetch failed": the reason is its cause (ECONNREFUSED, ENOTFOUND, ...).
    const detail = (error as { cause?: { code?: string; message?: string } }).cause;
    const cause = detail?.code ?? detail?.message;
    return unknown(`${what} failed: ${describeAwsError(error)}${cause ? ` (${cause})` : ""}`);
  }
  if (response.status < 200 || response.status > 299) {
    return unknown(`${what} ${describeSearchError(response.status, response.body)}`);
  }
  if (response.truncated) return unknown(`${what}: the answer is larger than 1 MiB`);
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return unknown(`${what}: the answer is not JSON (${excerpt(response.body, 120)})`);
  }
  const result = readSearchResult(spec, body);
  if (typeof result === "string") return unknown(`${what}: ${result}`);
  return summarizeOpenSearch(spec, result, window);
}
