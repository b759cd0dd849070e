/**
 * A local stand-in for the two S3 REST operations the S3 freshness checks use, as the S3 API reference
 * describes them: ListObjectsV2 (`GET /<bucket>?list-type=2&prefix=&continuation-token=`, XML answer,
 * at most `pageSize` keys per page in key order, NextContinuationToken while IsTruncated) and GetObject
 * (`GET /<bucket>/<key>`, honouring `Range: bytes=a-b` with 206). Path-style addressing (the SDK uses it
 * for an IP endpoint). Strict: a request without a SigV4 Authorization header, X-Amz-Date or
 * x-amz-content-sha256 answers 403; other operations 501; errors are S3's XML error documents
 * (NoSuchBucket, NoSuchKey, AccessDenied). Node built-ins only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StoredObject {
  body: string;
  lastModifiedMs: number;
}

export interface S3Request {
  method: string;
  bucket: string;
  key?: string;
  query: Record<string, string>;
  range?: string;
  status: number;
}

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/[a-z0-9-]+\/s3\/aws4_request, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$/;

const xmlEscape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A local S3 with buckets of objects. */
export class S3Stub {
  readonly requests: S3Request[] = [];
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  /** Keys per ListObjectsV2 page (S3: up to 1000; fewer is allowed and makes paging testable). */
  pageSize = 1000;
  /** Bucket names whose GetObject answers AccessDenied (a role without s3:GetObject). */
  readonly denyGetObject = new Set<string>();
  private server?: Server;
  url = "";

  addBucket(name: string, objects: Record<string, StoredObject> = {}): void {
    this.buckets.set(name, new Map(Object.entries(objects)));
  }

  putObject(bucket: string, key: string, object: StoredObject): void {
    const b = this.buckets.get(bucket);
    if (!b) throw new Error(`no bucket ${bucket}`);
    b.set(key, object);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const url = new URL(req.url ?? "/", "http://local");
    const [, bucket = "", ...rest] = url.pathname.split("/");
    // `/<bucket>` and `/<bucket>/` are the bucket (the SDK sends the latter for ListObjectsV2).
    const key = rest.join("/") === "" ? undefined : decodeURIComponent(rest.join("/"));
    const query = Object.fromEntries(url.searchParams);
    const record: S3Request = {
      method: req.method ?? "",
      bucket: decodeURIComponent(bucket),
      ...(key ? { key } : {}),
      query,
      ...(req.headers.range ? { range: String(req.headers.range) } : {}),
      status: 0,
    };
    this.requests.push(record);
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { "content-type": "application/xml", ...headers });
      res.end(body);
    };
    const error = (status: number, code: string, message: string) =>
      send(
        status,
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`,
      );

    const auth = String(req.headers.authorization ?? "");
    if (!SIGV4.test(auth) || !/^\d{8}T\d{6}Z$/.test(String(req.headers["x-amz-date"] ?? ""))) {
      return error(403, "AccessDenied", "missing or malformed SigV4 Authorization / X-Amz-Date");
    }
    if (!req.headers["x-amz-content-sha256"]) return error(403, "AccessDenied", "missing x-amz-content-sha256");
    if (req.method !== "GET") return error(501, "NotImplemented", `${req.method} is not implemented by this stand-in`);
    const objects = this.buckets.get(record.bucket);
    if (!objects) return error(404, "NoSuchBucket", "The specified bucket does not exist");

    if (key === undefined) {
      if (query["list-type"] !== "2") return error(501, "NotImplemented", "only ListObjectsV2 (list-type=2)");
      const prefix = query.prefix ?? "";
      const maxKeys = Math.min(this.pageSize, Number(query["max-keys"] ?? 1000));
      const after = query["continuation-token"] ? Buffer.from(query["continuation-token"], "base64").toString() : "";
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = keys.slice(0, maxKeys);
      const truncated = keys.length > page.length;
      const contents = page
        .map((k) => {
          const o = objects.get(k)!;
          return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${new Date(o.lastModifiedMs).toISOString()}</LastModified><Size>${Buffer.byteLength(o.body)}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
        })
        .join("");
      const token = truncated ? Buffer.from(page.at(-1)!).toString("base64") : undefined;
      return send(
        200,
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(record.bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${token ? `<NextContinuationToken>${token}</NextContinuationToken>` : ""}</ListBucketResult>`,
      );
    }

    if (this.denyGetObject.has(record.bucket)) return error(403, "AccessDenied", "Access Denied");
    const object = objects.get(key);
    if (!object) return error(404, "NoSuchKey", "The specified key does not exist.");
    const bytes = Buffer.from(object.body);
    const range = /^bytes=(\d+)-(\d*)$/.exec(record.range ?? "");
    const common = { "last-modified": new Date(object.lastModifiedMs).toUTCString(), "content-type": "text/plain" };
    // No range, or an empty object (S3 answers it whole): 200 with the body.
    if (!range || bytes.length === 0)
      return send(200, object.body, { ...common, "content-length": String(bytes.length) });
    const start = Number(range[1]);
    const end = Math.min(bytes.length - 1, range[2] ? Number(range[2]) : bytes.length - 1);
    record.status = 206;
    res.writeHead(206, { ...common, "content-range": `bytes ${start}-${end}/${bytes.length}` });
    res.end(bytes.subarray(start, end + 1));
  }
}
