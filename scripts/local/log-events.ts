/**
 * Realistic CloudWatch Logs subscription payloads for benchmarks and the demo: Lambda log lines in its
 * JSON and text formats (START/END/REPORT, INFO chatter, a share of errors), encoded as AWS delivers
 * them (`{"awslogs":{"data": base64(gzip(JSON))}}`).
 */
import { gzipSync } from "node:zlib";
import { mulberry32 } from "../testing";

export interface GeneratedPayloadOptions {
  events: number;
  logGroup?: string;
  /** Share of events that are errors (default 0.01). */
  errorRate?: number;
  /** First event's timestamp in ms (default: now minus one minute, whole minute). */
  startMs?: number;
  /** Milliseconds between events (default 5). */
  stepMs?: number;
  seed?: number;
}

const ERRORS = [
  "ERROR Unhandled rejection: Error: connect ECONNREFUSED 10.0.3.7:5432",
  'ERROR Invoke Error {"errorType":"TypeError","errorMessage":"Cannot read properties of undefined (reading \'id\')"}',
  "Task timed out after 30.03 seconds",
  "ERROR upstream responded status=503 for POST /v1/payments",
  "ERROR ThrottlingException: Rate exceeded",
  "ERROR AccessDeniedException: User is not authorized to perform dynamodb:PutItem (password=hunter2)",
];

const INFO = [
  "processed order batch size=25 duration=184ms",
  "cache hit ratio=0.93 keys=1200",
  "GET /health 200 3ms",
  "published 25 events to bus orders",
  "user alice@example.com logged in",
];

/** The decoded payload (what CloudWatch Logs gzips and base64-encodes). */
export function generatePayload(options: GeneratedPayloadOptions): Record<string, unknown> {
  const random = mulberry32(options.seed ?? 42);
  const errorRate = options.errorRate ?? 0.01;
  const stepMs = options.stepMs ?? 5;
  const startMs = options.startMs ?? Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  const logEvents = [];
  for (let i = 0; i < options.events; i++) {
    const timestamp = startMs + i * stepMs;
    const requestId = `${(i >> 4).toString(16).padStart(8, "0")}-4f1c-4b8e-9a7d-0c2e5b1d${(i % 10000).toString().padStart(4, "0")}`;
    const isError = random() < errorRate;
    const text = isError ? ERRORS[Math.floor(random() * ERRORS.length)]! : INFO[Math.floor(random() * INFO.length)]!;
    const message =
      i % 2 === 0
        ? `${JSON.stringify({ timestamp: new Date(timestamp).toISOString(), level: isError ? "ERROR" : "INFO", requestId, message: text })}\n`
        : `${new Date(timestamp).toISOString()}\t${requestId}\t${isError ? "ERROR" : "INFO"}\t${text}\n`;
    logEvents.push({ id: `${37_000_000_000_000_000n + BigInt(i)}`, timestamp, message });
  }
  return {
    messageType: "DATA_MESSAGE",
    owner: "123456789012",
    logGroup: options.logGroup ?? "/aws/lambda/orders",
    logStream: "2026/11/21/[$LATEST]0123456789abcdef0123456789abcdef",
    subscriptionFilters: ["mackerel-serverless"],
    logEvents,
  };
}

/** `{"awslogs":{"data": base64(gzip(JSON))}}`, as the Lambda receives it. */
export function encodeSubscriptionEvent(payload: Record<string, unknown>): { awslogs: { data: string } } {
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(payload))).toString("base64") } };
}

/** Ten rules with one include pattern each: the common shape (a word per rule). */
export const BENCH_RULES_SIMPLE = [
  { name: "errors", include: ["ERROR"], exclude: ["healthcheck"] },
  { name: "timeouts", include: ["Task timed out"] },
  { name: "throttling", include: ["ThrottlingException"] },
  { name: "upstream_5xx", include: ["status=503"] },
  { name: "oom", include: ["OutOfMemory"] },
  { name: "db_connect", include: ["ECONNREFUSED"] },
  { name: "access_denied", include: ["AccessDenied"], status: "WARNING" },
  { name: "type_errors", include: ["TypeError"] },
  { name: "panics", include: ["panic:"] },
  { name: "slow", include: ["duration=9"], status: "WARNING" },
];

/**
 * Ten heavier rules of the kind operators write: 16 patterns in all, with word boundaries, a
 * case-insensitive pattern, digit classes, a log-group glob and excludes.
 */
export const BENCH_RULES = [
  { name: "errors", include: ["\\bERROR\\b"], exclude: ["healthcheck"] },
  { name: "timeouts", include: ["Task timed out"] },
  { name: "throttling", include: ["(?i)throttl", "Rate exceeded"] },
  { name: "upstream_5xx", include: ["status=5\\d\\d"] },
  { name: "oom", include: ["Runtime\\.OutOfMemory", "JavaScript heap out of memory"] },
  { name: "db_connect", include: ["ECONNREFUSED", "ETIMEDOUT"], log_groups: ["/aws/lambda/*"] },
  { name: "access_denied", include: ["AccessDenied", "not authorized"], status: "WARNING" },
  { name: "type_errors", include: ["TypeError", "ReferenceError"] },
  { name: "panics", include: ["panic:", "Segmentation fault"] },
  { name: "slow", include: ["duration=\\d\\d\\d\\d+ms"], status: "WARNING" },
];
