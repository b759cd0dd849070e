/**
 * Logs Insights checks: run the query over [now − offset − window, now − offset), poll until Complete
 * within the time the invocation has, and turn the result into a value (rows, a numeric field, or
 * per-group values of a `stats ... by` query) compared with thresholds. A query that cannot finish is
 * stopped and reported UNKNOWN with the reason.
 */
import { distinctMetricSegments } from "../shared/names.js";
import { awsErrorName, describeAwsError, type LogsApi, type QueryStatistics, type ResultField } from "./aws.js";
import {
  type CheckOutcome,
  describeThresholds,
  evaluateThreshold,
  formatDuration,
  formatNumber,
  isoSeconds,
  unknown,
} from "./outcome.js";
import { logsInsightsConsoleUrl, MAX_LINK_LENGTH } from "./console-links.js";
import { excerpt } from "./redact.js";
import { callTimeout, type RunContext } from "./run-context.js";
import type { LogsInsightsSpec } from "./spec.js";

/** Groups beyond this many are summed into the value but not posted as metrics of their own. */
export const MAX_GROUP_METRICS = 100;
/** Rows shown in the message. */
const ROWS_IN_MESSAGE = 5;
/** Polling: first wait, growth, cap (ms). */
const POLL_FIRST_MS = 300;
const POLL_GROWTH = 1.5;
const POLL_CAP_MS = 5000;
/** Time kept to stop the query when giving up. */
const STOP_RESERVE_MS = 1500;
/** Per AWS call. */
const CALL_TIMEOUT_MS = 10_000;

export interface QueryWindow {
  /** Epoch seconds, inclusive. */
  start: number;
  /** Epoch seconds, exclusive (the query's endTime is end − 1: Logs Insights' endTime is inclusive). */
  end: number;
}

/** [now − offset − window, now − offset), `now` floored to the minute so scheduled windows tile exactly. */
export function queryWindow(nowMs: number, windowMinutes: number, offsetMinutes: number): QueryWindow {
  const minute = Math.floor(nowMs / 60_000) * 60;
  const end = minute - offsetMinutes * 60;
  return { start: end - windowMinutes * 60, end };
}

// --- the query's group-by fields ------------------------------------------------------------------

/** Replaces quoted strings, regex literals and comments with spaces of the same length (indexes stay valid). */
function maskLiterals(query: string): string {
  const blank = (m: string) => m.replace(/[^\n]/g, " ");
  return (
    query
      // Quoted strings: "..." '...' `...` with backslash escapes.
      .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\\n]|\\.)*`/g, blank)
      // Regex literals where a regex can stand: after like, =~, parse <field>, an opening parenthesis or comma.
      .replace(/(?<=(?:\blike|=~|\bparse\s+@?[\w.]+|[(,])\s*)\/(?:[^/\\\n]|\\.)*\//gi, blank)
      // Comments: # to the end of the line.
      .replace(/#[^\n]*/g, blank)
  );
}

/** Splits `text` at `separator` characters outside parentheses, returning [start, end) ranges. */
function splitTopLevel(masked: string, separator: string, from = 0, to = masked.length): [number, number][] {
  const ranges: [number, number][] = [];
  let depth = 0;
  let start = from;
  for (let i = from; i < to; i++) {
    const ch = masked[i];
    if (ch === "(" || ch === "[") depth++;
    else if ((ch === ")" || ch === "]") && depth > 0) depth--;
    else if (ch === separator && depth === 0) {
      ranges.push([start, i]);
      start = i + 1;
    }
  }
  ranges.push([start, to]);
  return ranges;
}

/**
 * The result fields that identify a group in the query's last `stats ... by ...` command (aliases when
 * given, else the expression as written), or [] when the query does not group. A heuristic reading of
 * the query language: quoted strings, regex literals and comments are ignored.
 */
export function parseGroupFields(query: string): string[] {
  const masked = maskLiterals(query);
  const commands = splitTopLevel(masked, "|");
  for (let c = commands.length - 1; c >= 0; c--) {
    const [start, end] = commands[c]!;
    const command = masked.slice(start, end);
    const head = /^\s*stats\b/i.exec(command);
    if (!head) continue;
    // The top-level " by " of this stats command.
    let depth = 0;
    let byAt = -1;
    for (let i = head[0].length; i < command.length; i++) {
      const ch = command[i];
      if (ch === "(" || ch === "[") depth++;
      else if ((ch === ")" || ch === "]") && depth > 0) depth--;
      else if (depth === 0 && /\s/.test(command[i - 1] ?? "") && /^by\s/i.test(command.slice(i, i + 3))) {
        byAt = i;
        break;
      }
    }
    if (byAt < 0) return [];
    const from = start + byAt + 2;
    return splitTopLevel(masked, ",", from, end)
      .map(([a, b]) => query.slice(a, b).trim())
      .filter((expr) => expr !== "")
      .map((expr) => {
        const alias = /^(.*?)\s+as\s+([@\w.]+)$/is.exec(expr);
        return alias ? alias[2]! : expr;
      });
  }
  return [];
}

// --- summarizing results --------------------------------------------------------------------------

type Row = Map<string, string>;

function toRows(results: ResultField[][] | undefined): Row[] {
  return (results ?? []).map((fields) => {
    const row: Row = new Map();
    for (const { field, value } of fields) {
      if (field === undefined || field === "@ptr") continue;
      row.set(field, value ?? "");
    }
    return row;
  });
}

const squeeze = (s: string) => s.replace(/\s+/g, "");

/** The row's value of `field`, matching whitespace-insensitively (`bin(5m)` vs `bin( 5m )`). */
function fieldOf(row: Row, field: string): string | undefined {
  if (row.has(field)) return row.get(field);
  const wanted = squeeze(field);
  for (const [key, value] of row) if (squeeze(key) === wanted) return value;
  return undefined;
}

function numeric(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

function describeRow(row: Row): string {
  return [...row].map(([k, v]) => `${k}=${v}`).join(" ");
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * Turns a completed query's results into the check's outcome.
 *
 * - `stats ... by <fields>`: one value per group (value_field, else the first non-group column), the
 *   value is their total; metrics `groups → checks.<name>.<group>` plus `checks.<name>.value`.
 * - value_field without grouping: the field of the first row (0 when there are no rows).
 * - otherwise: the number of result rows (the statistics' resultCount when given).
 */
export function summarizeLogsInsights(
  spec: LogsInsightsSpec,
  results: ResultField[][] | undefined,
  statistics: QueryStatistics | undefined,
  window: QueryWindow,
  /** The region of the log groups: adds a link to the same query in the CloudWatch console. */
  consoleRegion?: string,
): CheckOutcome {
  const rows = toRows(results);
  const groupFields = parseGroupFields(spec.query);
  const metrics: Record<string, number> = {};
  let value: number;
  let label: string;
  let groupsLine = "";

  if (groupFields.length > 0 && rows.length > 0) {
    const groups: { key: string; value: number }[] = [];
    for (const [index, row] of rows.entries()) {
      const key = groupFields.map((f) => fieldOf(row, f) ?? "null").join(".");
      const valueField =
        spec.valueField ?? [...row.keys()].find((k) => !groupFields.some((g) => squeeze(g) === squeeze(k)));
      if (valueField === undefined)
        return unknown(
          `row ${index + 1} of the result has no value column besides the group fields ${groupFields.join(", ")}`,
        );
      const v = numeric(fieldOf(row, valueField));
      if (v === undefined) {
        return unknown(
          `${spec.valueField ? "value_field" : "the value column"} "${valueField}" is not a number in row ${index + 1} (${excerpt(describeRow(row), 150)})`,
        );
      }
      groups.push({ key, value: v });
    }
    value = groups.reduce((sum, g) => sum + g.value, 0);
    label = "total";
    const segments = distinctMetricSegments(
      groups.map((g) => g.key),
      "value",
    );
    groups.forEach((g, i) => {
      if (i < MAX_GROUP_METRICS) metrics[segments[i]!] = g.value;
    });
    const sorted = [...groups].sort((a, b) => b.value - a.value);
    groupsLine = `by ${groupFields.join(", ")}: ${sorted.map((g) => `${excerpt(g.key, 60)}=${formatNumber(g.value)}`).join(", ")}`;
    if (groups.length > MAX_GROUP_METRICS) {
      groupsLine += ` (${groups.length} groups; metrics posted for the first ${MAX_GROUP_METRICS})`;
    }
  } else if (spec.valueField !== undefined) {
    label = spec.valueField;
    if (rows.length === 0) value = 0;
    else {
      const text = fieldOf(rows[0]!, spec.valueField);
      if (text === undefined) {
        return unknown(
          `value_field "${spec.valueField}" is not in the result (fields: ${[...rows[0]!.keys()].join(", ") || "none"})`,
        );
      }
      const v = numeric(text);
      if (v === undefined) return unknown(`value_field "${spec.valueField}" is not a number: "${excerpt(text, 60)}"`);
      value = v;
    }
  } else {
    label = "rows";
    value = statistics?.resultCount ?? rows.length;
  }
  metrics.value = value;

  const thresholds = { warning: spec.warning, critical: spec.critical, direction: spec.direction };
  const verdict = evaluateThreshold(value, thresholds);
  const lines = [
    `${verdict.status}: ${label} ${formatNumber(value)}${verdict.breached ? ` (${verdict.breached})` : ""} in ${isoSeconds(window.start)} – ${isoSeconds(window.end)} (${formatDuration(window.end - window.start)}), ${spec.logGroupNames.join(", ")}`,
  ];
  if (groupsLine) lines.push(groupsLine);
  if (consoleRegion) {
    const url = logsInsightsConsoleUrl({
      region: consoleRegion,
      logGroupNames: spec.logGroupNames,
      query: spec.query,
      start: window.start,
      end: window.end,
    });
    // Before the rows, so that cutting the message to 1024 characters never cuts the link.
    lines.push(url.length <= MAX_LINK_LENGTH ? `console: ${url}` : "console: (link omitted: the query is too long)");
  }
  if (rows.length > 0) {
    lines.push(`first rows:`);
    for (const row of rows.slice(0, ROWS_IN_MESSAGE)) lines.push(`  ${excerpt(describeRow(row), 180)}`);
    if (rows.length > ROWS_IN_MESSAGE) lines.push(`  … ${rows.length - ROWS_IN_MESSAGE} more rows`);
  } else lines.push("no result rows");
  const stats: string[] = [];
  if (statistics?.recordsMatched !== undefined)
    stats.push(`${formatNumber(statistics.recordsMatched)} records matched`);
  if (statistics?.recordsScanned !== undefined) stats.push(`${formatNumber(statistics.recordsScanned)} scanned`);
  if (statistics?.bytesScanned !== undefined) stats.push(formatBytes(statistics.bytesScanned));
  if (stats.length > 0) lines.push(stats.join(", "));
  const described = describeThresholds(thresholds);
  if (described) lines.push(`thresholds: ${described}`);
  return { status: verdict.status, message: lines.join("\n"), metrics };
}

// --- running the query ----------------------------------------------------------------------------

const TERMINAL_FAILURES = new Set(["Failed", "Cancelled", "Timeout", "Unknown"]);

/** Runs a Logs Insights check; never throws for AWS failures (they become UNKNOWN). */
export async function runLogsInsightsCheck(
  spec: LogsInsightsSpec,
  logs: LogsApi,
  context: RunContext,
): Promise<CheckOutcome> {
  const window = queryWindow(context.nowMs, spec.windowMinutes, spec.offsetMinutes);
  let queryId: string | undefined;
  try {
    const started = await logs.startQuery(
      { logGroupNames: spec.logGroupNames, startTime: window.start, endTime: window.end - 1, queryString: spec.query },
      { timeoutMs: callTimeout(context, CALL_TIMEOUT_MS) },
    );
    queryId = started.queryId;
  } catch (error) {
    const hint =
      awsErrorName(error) === "LimitExceededException"
        ? " (Logs Insights runs at most 30 concurrent queries per account)"
        : awsErrorName(error) === "MalformedQueryException"
          ? " (check the query syntax)"
          : "";
    return unknown(`StartQuery failed: ${describeAwsError(error)}${hint}`);
  }
  if (!queryId) return unknown("StartQuery answered without a queryId");

  const began = context.clock();
  let delay = POLL_FIRST_MS;
  let lastStatus = "Scheduled";
  let partialRows = 0;
  for (;;) {
    // Give up while there is still time to stop the query and post the report.
    if (context.remainingMs() - delay < STOP_RESERVE_MS) {
      const stopped = await stopQuietly(logs, queryId, context);
      return unknown(
        `query did not complete within ${formatDuration((context.clock() - began) / 1000)} (status ${lastStatus}${partialRows ? `, ${partialRows} partial rows` : ""}); ${stopped}. Narrow the window or the log groups, or raise the function's time.`,
      );
    }
    await context.sleep(delay);
    delay = Math.min(POLL_CAP_MS, Math.round(delay * POLL_GROWTH));
    let response;
    try {
      response = await logs.getQueryResults({ queryId }, { timeoutMs: callTimeout(context, CALL_TIMEOUT_MS) });
    } catch (error) {
      const stopped = await stopQuietly(logs, queryId, context);
      return unknown(`GetQueryResults failed: ${describeAwsError(error)}; ${stopped}`);
    }
    lastStatus = response.status ?? "Unknown";
    if (lastStatus === "Complete") {
      return summarizeLogsInsights(spec, response.results, response.statistics, window, process.env.AWS_REGION);
    }
    if (TERMINAL_FAILURES.has(lastStatus)) {
      return unknown(
        `the query ended with status ${lastStatus}${lastStatus === "Timeout" ? " (Logs Insights stops queries after 60 minutes)" : ""}`,
      );
    }
    partialRows = response.results?.length ?? 0;
  }
}

/** StopQuery, reporting what happened; never throws (the query may have just finished). */
async function stopQuietly(logs: LogsApi, queryId: string, context: RunContext): Promise<string> {
  try {
    const result = await logs.stopQuery({ queryId }, { timeoutMs: callTimeout(context, 3000) });
    return result.success === false ? "StopQuery did not stop it" : "the query was stopped";
  } catch (error) {
    return `StopQuery failed: ${describeAwsError(error)}`;
  }
}
