/**
 * A strict local stand-in for the two OpenSearch REST operations the OpenSearch query checks use, as
 * OpenSearch's documentation describes them: `POST /<index>/_count` (`{"query"}` → `{"count", "_shards"}`)
 * and `POST /<index>/_search` (`size`, `query`, `aggs` with a `terms` aggregation, `track_total_hits` →
 * `hits.total` and `aggregations.<name>.buckets`), over documents stored per index (patterns with `*` and
 * comma lists). Queries: bool (filter, must, should, must_not), range (gte/gt/lt/lte, epoch_millis),
 * match, term, match_all and a query_string subset (`field:value`, bare terms, `*`, AND/OR/NOT); anything
 * else is OpenSearch's 400 parsing_exception, an unknown field in a body a 400 too.
 *
 * Like Amazon OpenSearch Service, it refuses unsigned requests with 403: it requires a SigV4
 * `Authorization` header for the configured service (`es` or `aoss`) that signs `host` and `x-amz-date`,
 * an `X-Amz-Date`, and, for `aoss`, an `x-amz-content-sha256` that must equal the SHA-256 of the body.
 * It does not recompute signatures (it does not hold the secret). Node built-ins only.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Json = Record<string, unknown>;
export type Doc = Json;

export interface SearchStubRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
  status: number;
}

class SearchError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    reason: string,
  ) {
    super(reason);
  }
}
const parsing = (reason: string) => new SearchError(400, "parsing_exception", reason);

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** A document's value of `field`, dotted paths allowed; `x.keyword` reads `x` (the keyword sub-field). */
function fieldValue(doc: Doc, field: string): unknown {
  const read = (path: string) =>
    path.split(".").reduce<unknown>((v, k) => (isObject(v) ? v[k] : undefined), doc as unknown);
  const direct = read(field);
  if (direct !== undefined) return direct;
  return field.endsWith(".keyword") ? read(field.slice(0, -".keyword".length)) : undefined;
}

function timeOf(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function matchesValue(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(actual)) return actual.some((a) => matchesValue(a, expected));
  if (typeof actual === "string" && typeof expected === "string")
    return actual.toLowerCase() === expected.toLowerCase();
  return actual === expected;
}

/** The query_string subset: `a:b AND (c OR NOT d:e)`, bare terms match any field, `*` matches all. */
function queryStringMatcher(text: string): (doc: Doc) => boolean {
  const tokens = text.match(/\(|\)|"[^"]*"|[^\s()]+/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const term = (): ((doc: Doc) => boolean) => {
    const t = tokens[i++];
    if (t === undefined) throw parsing("query_string: unexpected end of the query");
    if (t === "(") {
      const inner = or();
      if (tokens[i++] !== ")") throw parsing("query_string: missing )");
      return inner;
    }
    if (t === "NOT") {
      const inner = term();
      return (d) => !inner(d);
    }
    if (t === "*") return () => true;
    const colon = t.indexOf(":");
    const unquote = (s: string) => s.replace(/^"(.*)"$/, "$1");
    if (colon > 0) {
      const field = t.slice(0, colon);
      const value = unquote(t.slice(colon + 1));
      return (d) => (value === "*" ? fieldValue(d, field) !== undefined : matchesValue(fieldValue(d, field), value));
    }
    const value = unquote(t);
    return (d) => Object.values(d).some((v) => matchesValue(v, value));
  };
  const and = () => {
    let left = term();
    while (peek() !== undefined && peek() !== ")" && peek() !== "OR") {
      if (peek() === "AND") i++;
      const right = term();
      const l = left;
      left = (d) => l(d) && right(d);
    }
    return left;
  };
  const or = (): ((doc: Doc) => boolean) => {
    let left = and();
    while (peek() === "OR") {
      i++;
      const right = and();
      const l = left;
      left = (d) => l(d) || right(d);
    }
    return left;
  };
  const matcher = or();
  if (i < tokens.length) throw parsing(`query_string: unexpected ${tokens[i]}`);
  return matcher;
}

/** Compiles one query clause (`{"<type>": {...}}`) into a predicate; unknown types are OpenSearch's 400. */
export function compileQuery(query: unknown): (doc: Doc) => boolean {
  if (!isObject(query) || Object.keys(query).length !== 1) {
    throw parsing("[_na] query malformed, must start with start_object and hold exactly one query");
  }
  const [type, spec] = Object.entries(query)[0]!;
  switch (type) {
    case "match_all":
      return () => true;
    case "bool": {
      if (!isObject(spec)) throw parsing("[bool] query malformed");
      const allowed = new Set(["filter", "must", "should", "must_not", "minimum_should_match"]);
      for (const k of Object.keys(spec)) if (!allowed.has(k)) throw parsing(`[bool] query does not support [${k}]`);
      const list = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]).map(compileQuery);
      const must = [...list(spec.filter), ...list(spec.must)];
      const should = list(spec.should);
      const mustNot = list(spec.must_not);
      return (d) =>
        must.every((q) => q(d)) && !mustNot.some((q) => q(d)) && (should.length === 0 || should.some((q) => q(d)));
    }
    case "range": {
      if (!isObject(spec) || Object.keys(spec).length !== 1) throw parsing("[range] query malformed");
      const [field, bounds] = Object.entries(spec)[0]!;
      if (!isObject(bounds)) throw parsing("[range] query malformed, no start_object after query name");
      for (const k of Object.keys(bounds)) {
        if (!["gte", "gt", "lte", "lt", "format"].includes(k)) throw parsing(`[range] query does not support [${k}]`);
      }
      if (bounds.format !== undefined && bounds.format !== "epoch_millis") {
        throw parsing(`this stand-in only implements format epoch_millis, not ${String(bounds.format)}`);
      }
      const num = (v: unknown) => (v === undefined ? undefined : Number(v));
      const [gte, gt, lte, lt] = [num(bounds.gte), num(bounds.gt), num(bounds.lte), num(bounds.lt)];
      return (d) => {
        const t = timeOf(fieldValue(d, field));
        if (t === undefined) return false;
        return (
          (gte === undefined || t >= gte) &&
          (gt === undefined || t > gt) &&
          (lte === undefined || t <= lte) &&
          (lt === undefined || t < lt)
        );
      };
    }
    case "match":
    case "term": {
      if (!isObject(spec) || Object.keys(spec).length !== 1) throw parsing(`[${type}] query malformed`);
      const [field, raw] = Object.entries(spec)[0]!;
      const value = isObject(raw) ? (type === "match" ? raw.query : raw.value) : raw;
      return (d) => matchesValue(fieldValue(d, field), value);
    }
    case "query_string": {
      if (!isObject(spec) || typeof spec.query !== "string") throw parsing("[query_string] requires a query");
      return queryStringMatcher(spec.query);
    }
    default:
      throw parsing(`unknown query [${type}]`);
  }
}

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=[0-9a-f]{64}$/;

/** A local OpenSearch endpoint for one service (`es` or `aoss`). */
export class OpenSearchStub {
  readonly requests: SearchStubRequest[] = [];
  private readonly indices = new Map<string, Doc[]>();
  /** Answer the next request with this instead (status and JSON body), e.g. IAM's 403. */
  failNext?: { status: number; body: unknown };
  private server?: Server;
  url = "";

  constructor(readonly service: "es" | "aoss" = "es") {}

  addIndex(name: string, docs: Doc[]): void {
    this.indices.set(name, docs);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private docsOf(pattern: string): Doc[] {
    const docs: Doc[] = [];
    for (const part of decodeURIComponent(pattern).split(",")) {
      if (part.includes("*")) {
        const re = new RegExp(
          `^${part
            .split("*")
            .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
            .join(".*")}$`,
        );
        for (const [name, list] of this.indices) if (re.test(name)) docs.push(...list);
      } else {
        const list = this.indices.get(part);
        if (!list) throw new SearchError(404, "index_not_found_exception", `no such index [${part}]`);
        docs.push(...list);
      }
    }
    return docs;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const record: SearchStubRequest = { method: req.method ?? "", path: req.url ?? "", headers, status: 0 };
    this.requests.push(record);
    const send = (status: number, body: unknown) => {
      record.status = status;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const forbidden = (message: string) => send(403, { message });
    try {
      const auth = SIGV4.exec(headers.authorization ?? "");
      if (!auth) return forbidden("Missing or malformed Authorization header (SigV4 expected)");
      if (auth[4] !== this.service) return forbidden(`Credential should be scoped to service '${this.service}'`);
      const signed = auth[5]!.split(";");
      if (!signed.includes("host") || !signed.includes("x-amz-date")) {
        return forbidden("SignedHeaders must include host and x-amz-date");
      }
      if (!/^\d{8}T\d{6}Z$/.test(headers["x-amz-date"] ?? "") || headers["x-amz-date"]!.slice(0, 8) !== auth[2]) {
        return forbidden("X-Amz-Date missing or not the credential's date");
      }
      const contentSha = headers["x-amz-content-sha256"];
      if (this.service === "aoss" && !contentSha) return forbidden("x-amz-content-sha256 is required by aoss");
      if (contentSha && contentSha !== createHash("sha256").update(raw).digest("hex")) {
        return forbidden("The x-amz-content-sha256 does not match the request body");
      }
      if (this.failNext) {
        const { status, body } = this.failNext;
        this.failNext = undefined;
        return send(status, body);
      }
      const match = /^\/([^/?]+)\/(_count|_search)(\?.*)?$/.exec(record.path);
      if (!match) throw new SearchError(400, "invalid_index_name_exception", `no handler for ${record.path}`);
      if (req.method !== "POST" && req.method !== "GET")
        throw new SearchError(405, "method_not_allowed", req.method ?? "");
      if (!/^application\/json/.test(headers["content-type"] ?? "")) {
        throw new SearchError(
          406,
          "content_type_exception",
          `Content-Type header [${headers["content-type"]}] is not supported`,
        );
      }
      let body: unknown;
      try {
        body = raw.length === 0 ? {} : JSON.parse(raw.toString("utf8"));
      } catch {
        throw parsing("request body is not JSON");
      }
      record.body = body;
      if (!isObject(body)) throw parsing("request body must be an object");
      const operation = match[2]!;
      const allowed =
        operation === "_count" ? ["query"] : ["query", "size", "from", "aggs", "aggregations", "track_total_hits"];
      for (const key of Object.keys(body)) {
        if (!allowed.includes(key)) throw parsing(`request does not support [${key}] for ${operation}`);
      }
      const predicate = body.query === undefined ? () => true : compileQuery(body.query);
      const docs = this.docsOf(match[1]!).filter(predicate);
      if (operation === "_count") {
        return send(200, { count: docs.length, _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } });
      }
      const size = body.size === undefined ? 10 : Number(body.size);
      const aggregations: Json = {};
      const aggs = body.aggs ?? body.aggregations;
      if (aggs !== undefined) {
        if (!isObject(aggs)) throw parsing("[aggs] must be an object");
        for (const [name, agg] of Object.entries(aggs)) {
          if (!isObject(agg) || !isObject(agg.terms) || Object.keys(agg).length !== 1) {
            throw parsing(`this stand-in implements terms aggregations only ([${name}])`);
          }
          const field = agg.terms.field;
          if (typeof field !== "string") throw parsing(`[terms] aggregation [${name}] requires a field`);
          const counts = new Map<string, number>();
          for (const d of docs) {
            const v = fieldValue(d, field);
            for (const value of Array.isArray(v) ? v : v === undefined ? [] : [v]) {
              counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
            }
          }
          const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
          const termsSize = agg.terms.size === undefined ? 10 : Number(agg.terms.size);
          const top = sorted.slice(0, termsSize);
          aggregations[name] = {
            doc_count_error_upper_bound: 0,
            sum_other_doc_count: sorted.slice(termsSize).reduce((s, [, c]) => s + c, 0),
            buckets: top.map(([key, doc_count]) => ({ key, doc_count })),
          };
        }
      }
      const total = body.track_total_hits === true ? docs.length : Math.min(docs.length, 10000);
      return send(200, {
        took: 1,
        timed_out: false,
        _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
        hits: {
          total: { value: total, relation: "eq" },
          max_score: null,
          hits: docs.slice(0, size).map((d) => ({ _source: d })),
        },
        ...(aggs === undefined ? {} : { aggregations }),
      });
    } catch (error) {
      if (error instanceof SearchError) {
        const cause = { type: error.type, reason: error.message };
        return send(error.status, { error: { root_cause: [cause], ...cause }, status: error.status });
      }
      return send(500, { error: { type: "exception", reason: String(error) }, status: 500 });
    }
  }
}
