/**
 * A local stand-in for the CloudWatch Logs operations the check function uses, served by
 * {@link LocalAwsJsonServer} (awsJson1_1, `X-Amz-Target: Logs_20140328.<Operation>`), following the API
 * reference:
 *
 * - StartQuery: exactly one of logGroupName / logGroupNames / logGroupIdentifiers (at most 50 groups),
 *   every group must exist (ResourceNotFoundException), startTime <= endTime in epoch SECONDS, at most
 *   30 queries running at once (LimitExceededException), returns `{queryId}`.
 * - GetQueryResults: `Scheduled` → `Running` (partial results) → `Complete`, one step per poll by
 *   default; `results` is an array of rows of `{field, value}` with a `@ptr`; `statistics`.
 * - StopQuery: `{success: true}` for a running query; an error for one that already ended.
 * - FilterLogEvents: startTime/endTime in MILLISECONDS, `limit`, `nextToken` paging; pages may be
 *   empty while a nextToken is still returned (as the documentation warns).
 *
 * Queries are answered by a responder: by default a tiny evaluator of the query language subset
 * `[fields ...] [| filter @message like /re/ | filter f = "v"] [| stats count(*) [as n] [by f, ...]]`
 * over the stored events (JSON messages provide fields), or any scripted answer a test gives.
 * Faults: any operation can be made to fail the next N times (ThrottlingException, ...).
 */
import { randomUUID } from "node:crypto";
import { AwsServiceError, type AwsJsonHandlers } from "./aws-json-server";

export const LOGS_TARGET = "Logs_20140328";

export interface StubLogEvent {
  logStreamName: string;
  /** Epoch ms. */
  timestamp: number;
  message: string;
  /** Epoch ms (default: timestamp). */
  ingestionTime?: number;
}

/** What a query answers once Complete (rows as field → value), and how it gets there. */
export interface QueryScript {
  rows: Record<string, string>[];
  statistics?: { recordsMatched?: number; recordsScanned?: number; bytesScanned?: number };
  /** GetQueryResults polls before the final status (default 2: one Scheduled, one Running). `Infinity`: never ends. */
  pollsBeforeDone?: number;
  /** Final status (default Complete). */
  finalStatus?: "Complete" | "Failed" | "Cancelled" | "Timeout";
}

export interface StartQueryInput {
  logGroupNames: string[];
  startTime: number;
  endTime: number;
  queryString: string;
  limit?: number;
}

export type QueryResponder = (
  input: StartQueryInput,
  events: (StubLogEvent & { logGroupName: string })[],
) => QueryScript;

interface QueryState {
  id: string;
  input: StartQueryInput;
  script: QueryScript;
  polls: number;
  status: "Scheduled" | "Running" | "Complete" | "Failed" | "Cancelled" | "Timeout";
  stopped: boolean;
}

interface Fault {
  type: string;
  message: string;
  status: number;
  remaining: number;
}

/** The largest number of concurrent Logs Insights queries per account. */
export const MAX_CONCURRENT_QUERIES = 30;

export class CloudWatchLogsStub {
  /** Log group name → its events. */
  readonly logGroups = new Map<string, StubLogEvent[]>();
  readonly queries = new Map<string, QueryState>();
  /** Answers StartQuery; replace it to script results. */
  responder: QueryResponder = evaluateQuery;
  /** FilterLogEvents answers this many empty pages (with a nextToken) before real results. */
  emptyPagesBeforeEvents = 0;
  private readonly faults = new Map<string, Fault[]>();

  addLogGroup(name: string, events: StubLogEvent[] = []): void {
    const existing = this.logGroups.get(name) ?? [];
    existing.push(...events);
    this.logGroups.set(name, existing);
  }

  /** The next `times` calls of `operation` (e.g. "StartQuery") fail with this error. */
  failNext(operation: string, type: string, options: { times?: number; status?: number; message?: string } = {}): void {
    const list = this.faults.get(operation) ?? [];
    list.push({
      type,
      status: options.status ?? (type === "ServiceUnavailableException" ? 500 : 400),
      message: options.message ?? (type === "ThrottlingException" ? "Rate exceeded" : `${type} injected by the test`),
      remaining: options.times ?? 1,
    });
    this.faults.set(operation, list);
  }

  /** Drops every pending fault. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Queries that are running (Scheduled or Running). */
  running(): QueryState[] {
    return [...this.queries.values()].filter((q) => q.status === "Scheduled" || q.status === "Running");
  }

  handlers(): AwsJsonHandlers {
    const op = (name: string, fn: (input: Record<string, unknown>) => unknown) => [
      `${LOGS_TARGET}.${name}`,
      (input: Record<string, unknown>) => {
        this.injectFault(name);
        return fn(input);
      },
    ];
    return Object.fromEntries([
      op("StartQuery", (i) => this.startQuery(i)),
      op("GetQueryResults", (i) => this.getQueryResults(i)),
      op("StopQuery", (i) => this.stopQuery(i)),
      op("FilterLogEvents", (i) => this.filterLogEvents(i)),
    ]) as AwsJsonHandlers;
  }

  private injectFault(operation: string): void {
    const fault = this.faults.get(operation)?.find((f) => f.remaining > 0);
    if (!fault) return;
    fault.remaining--;
    throw new AwsServiceError(fault.type, fault.message, fault.status);
  }

  private startQuery(input: Record<string, unknown>): { queryId: string } {
    const given = ["logGroupName", "logGroupNames", "logGroupIdentifiers"].filter((k) => input[k] !== undefined);
    const queryString = input.queryString;
    if (typeof queryString !== "string" || queryString.trim() === "") {
      throw new AwsServiceError("MalformedQueryException", "queryString must not be empty");
    }
    if (given.length !== 1 && !/^\s*SOURCE\b/i.test(queryString)) {
      throw new AwsServiceError(
        "InvalidParameterException",
        "Exactly one of logGroupName, logGroupNames or logGroupIdentifiers must be given",
      );
    }
    const groups =
      input.logGroupName !== undefined
        ? [String(input.logGroupName)]
        : ((input.logGroupNames ?? input.logGroupIdentifiers ?? []) as string[]);
    if (groups.length > 50) throw new AwsServiceError("InvalidParameterException", "At most 50 log groups per query");
    for (const group of groups) {
      if (!this.logGroups.has(group)) {
        throw new AwsServiceError("ResourceNotFoundException", `Log group '${group}' does not exist`);
      }
    }
    const { startTime, endTime } = input;
    if (
      typeof startTime !== "number" ||
      typeof endTime !== "number" ||
      !Number.isInteger(startTime) ||
      !Number.isInteger(endTime)
    ) {
      throw new AwsServiceError("InvalidParameterException", "startTime and endTime are required epoch seconds");
    }
    if (startTime > 1e11 || endTime > 1e11) {
      throw new AwsServiceError(
        "InvalidParameterException",
        "startTime and endTime are epoch seconds, not milliseconds",
      );
    }
    if (endTime < startTime)
      throw new AwsServiceError("InvalidParameterException", "endTime must not be before startTime");
    if (this.running().length >= MAX_CONCURRENT_QUERIES) {
      throw new AwsServiceError("LimitExceededException", "Account maximum query concurrency limit of [30] reached.");
    }
    const parsed: StartQueryInput = {
      logGroupNames: groups,
      startTime,
      endTime,
      queryString,
      ...(typeof input.limit === "number" ? { limit: input.limit } : {}),
    };
    const events = groups.flatMap((g) => (this.logGroups.get(g) ?? []).map((e) => ({ ...e, logGroupName: g })));
    const script = this.responder(parsed, events);
    const id = randomUUID();
    this.queries.set(id, { id, input: parsed, script, polls: 0, status: "Scheduled", stopped: false });
    return { queryId: id };
  }

  private getQueryResults(input: Record<string, unknown>): unknown {
    const query = this.queries.get(String(input.queryId ?? ""));
    if (!query) throw new AwsServiceError("ResourceNotFoundException", "The specified query does not exist");
    if (query.status === "Scheduled" || query.status === "Running") {
      query.polls++;
      const before = query.script.pollsBeforeDone ?? 2;
      if (query.polls > before) query.status = query.script.finalStatus ?? "Complete";
      else query.status = query.polls === 1 && before > 1 ? "Scheduled" : "Running";
    }
    const rows = query.script.rows;
    // While Running, a growing part of the rows (partial results); Scheduled: none.
    const visible =
      query.status === "Complete"
        ? rows
        : query.status === "Running"
          ? rows.slice(0, Math.floor(rows.length / 2))
          : query.status === "Scheduled"
            ? []
            : rows.slice(0, Math.floor(rows.length / 2));
    const statistics = {
      recordsMatched: query.script.statistics?.recordsMatched ?? rows.length,
      recordsScanned: query.script.statistics?.recordsScanned ?? rows.length,
      bytesScanned: query.script.statistics?.bytesScanned ?? rows.length * 100,
      ...(query.status === "Complete" ? { resultCount: rows.length } : {}),
    };
    return {
      status: query.status,
      results: visible.map((row, index) => [
        ...Object.entries(row).map(([field, value]) => ({ field, value })),
        { field: "@ptr", value: `ptr-${query.id}-${index}` },
      ]),
      statistics,
    };
  }

  private stopQuery(input: Record<string, unknown>): { success: boolean } {
    const query = this.queries.get(String(input.queryId ?? ""));
    if (!query) throw new AwsServiceError("ResourceNotFoundException", "The specified query does not exist");
    if (query.status !== "Scheduled" && query.status !== "Running") {
      throw new AwsServiceError(
        "InvalidParameterException",
        `Query ${query.id} is not running (status ${query.status})`,
      );
    }
    query.status = "Cancelled";
    query.stopped = true;
    return { success: true };
  }

  private filterLogEvents(input: Record<string, unknown>): unknown {
    const group = String(input.logGroupName ?? input.logGroupIdentifier ?? "");
    const events = this.logGroups.get(group);
    if (!events) throw new AwsServiceError("ResourceNotFoundException", "The specified log group does not exist.");
    const limit = input.limit === undefined ? 10_000 : Number(input.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new AwsServiceError("InvalidParameterException", "limit must be between 1 and 10000");
    }
    const start = typeof input.startTime === "number" ? input.startTime : 0;
    const end = typeof input.endTime === "number" ? input.endTime : Number.POSITIVE_INFINITY;
    if (start < 1e11 && start !== 0) {
      throw new AwsServiceError("InvalidParameterException", "startTime is epoch milliseconds");
    }
    const pattern = typeof input.filterPattern === "string" ? input.filterPattern.trim() : "";
    const matching = events
      .filter((e) => e.timestamp >= start && e.timestamp <= end)
      .filter((e) => pattern === "" || e.message.includes(pattern.replace(/^"|"$/g, "")))
      .sort((a, b) => a.timestamp - b.timestamp);
    // Token: "<empty pages served>:<offset>".
    const token = typeof input.nextToken === "string" ? input.nextToken : undefined;
    let emptyServed = 0;
    let offset = 0;
    if (token !== undefined) {
      const m = /^tok-(\d+)-(\d+)$/.exec(token);
      if (!m) throw new AwsServiceError("InvalidParameterException", "The specified nextToken is invalid.");
      emptyServed = Number(m[1]);
      offset = Number(m[2]);
    }
    if (emptyServed < this.emptyPagesBeforeEvents) {
      return { events: [], searchedLogStreams: [], nextToken: `tok-${emptyServed + 1}-${offset}` };
    }
    const page = matching.slice(offset, offset + limit);
    const next = offset + page.length < matching.length ? `tok-${emptyServed}-${offset + page.length}` : undefined;
    return {
      events: page.map((e, i) => ({
        logStreamName: e.logStreamName,
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime: e.ingestionTime ?? e.timestamp,
        eventId: `${e.timestamp}-${offset + i}`,
      })),
      searchedLogStreams: [...new Set(page.map((e) => e.logStreamName))].map((name) => ({
        logStreamName: name,
        searchedCompletely: next === undefined,
      })),
      ...(next ? { nextToken: next } : {}),
    };
  }
}

/** Fields of an event: `@timestamp`, `@message`, `@logStream`, `@log`, plus the keys of a JSON message. */
function fieldsOf(event: StubLogEvent & { logGroupName: string }): Record<string, string> {
  const fields: Record<string, string> = {
    "@timestamp": new Date(event.timestamp).toISOString().replace("T", " ").replace("Z", ""),
    "@message": event.message,
    "@logStream": event.logStreamName,
    "@log": event.logGroupName,
  };
  try {
    const parsed = JSON.parse(event.message) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      for (const [k, v] of Object.entries(parsed)) if (v !== null && typeof v !== "object") fields[k] = String(v);
    }
  } catch {
    // A text message has the built-in fields only.
  }
  return fields;
}

/**
 * The default responder: evaluates a small subset of the query language over the events in
 * [startTime, endTime] (seconds, inclusive). Unsupported commands fail the query (status Failed).
 */
export function evaluateQuery(
  input: StartQueryInput,
  events: (StubLogEvent & { logGroupName: string })[],
): QueryScript {
  let rows = events
    .filter((e) => e.timestamp >= input.startTime * 1000 && e.timestamp < (input.endTime + 1) * 1000)
    .sort((a, b) => b.timestamp - a.timestamp)
    .map(fieldsOf);
  const scanned = rows.length;
  let output: Record<string, string>[] | undefined;
  for (const raw of input.queryString
    .split("|")
    .map((c) => c.trim())
    .filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^fields\s+(.+)$/i.exec(raw))) {
      const names = m[1]!.split(",").map((s) => s.trim());
      rows = rows.map(
        (r) => Object.fromEntries(names.filter((n) => n in r).map((n) => [n, r[n]!])) as Record<string, string>,
      );
    } else if ((m = /^filter\s+([@\w.]+)\s+like\s+\/(.*)\/$/i.exec(raw))) {
      const re = new RegExp(m[2]!);
      const field = m[1]!;
      rows = rows.filter((r) => re.test(r[field] ?? ""));
    } else if ((m = /^filter\s+([@\w.]+)\s*=\s*"([^"]*)"$/i.exec(raw))) {
      const [, field, value] = m;
      rows = rows.filter((r) => r[field!] === value);
    } else if ((m = /^stats\s+count\(\*\)(?:\s+as\s+(\w+))?(?:\s+by\s+(.+))?$/i.exec(raw))) {
      const countName = m[1] ?? "count(*)";
      const by = m[2] ? m[2].split(",").map((s) => s.trim()) : [];
      const groups = new Map<string, { keys: Record<string, string>; count: number }>();
      for (const r of rows) {
        const keys = Object.fromEntries(by.filter((f) => r[f] !== undefined).map((f) => [f, r[f]!]));
        const id = JSON.stringify(by.map((f) => r[f] ?? null));
        const g = groups.get(id) ?? { keys, count: 0 };
        g.count++;
        groups.set(id, g);
      }
      output =
        by.length === 0
          ? [{ [countName]: String(rows.length) }]
          : [...groups.values()].map((g) => ({ ...g.keys, [countName]: String(g.count) }));
    } else if ((m = /^sort\s+(.+?)\s+(asc|desc)$/i.exec(raw))) {
      const [, field, order] = m;
      const target = output ?? rows;
      target.sort((a, b) => {
        const x = Number(a[field!] ?? 0);
        const y = Number(b[field!] ?? 0);
        return order!.toLowerCase() === "asc" ? x - y : y - x;
      });
    } else if ((m = /^limit\s+(\d+)$/i.exec(raw))) {
      if (output) output = output.slice(0, Number(m[1]));
      else rows = rows.slice(0, Number(m[1]));
    } else {
      return { rows: [], finalStatus: "Failed" };
    }
  }
  const result = output ?? rows.slice(0, input.limit ?? 10_000);
  return {
    rows: result,
    statistics: { recordsMatched: rows.length, recordsScanned: scanned, bytesScanned: scanned * 120 },
  };
}
