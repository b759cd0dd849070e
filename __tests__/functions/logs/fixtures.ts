/**
 * Builders of real CloudWatch Logs subscription events (gzip + base64, as AWS delivers them) and of Lambda log
 * lines in its text and JSON formats.
 */
import { gzipSync } from "node:zlib";

/** An event to put in a payload: a message, or a message with its own timestamp/id. */
export type FixtureEvent = string | { message: string; timestamp?: number; id?: string };

export interface SubscriptionEventOptions {
  logGroup?: string;
  logStream?: string;
  owner?: string;
  events?: readonly FixtureEvent[];
  messageType?: "DATA_MESSAGE" | "CONTROL_MESSAGE";
  /** First event's timestamp (ms); events without one follow at 1 ms intervals. */
  startTime?: number;
  policyLevel?: string;
}

/** 2023-11-14T22:13:20.000Z: a whole minute, so minute-bucket expectations are easy to read. */
export const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);

/** The decoded payload (before gzip + base64) that {@link makeSubscriptionEvent} sends. */
export function makePayload(options: SubscriptionEventOptions = {}): Record<string, unknown> {
  const messageType = options.messageType ?? "DATA_MESSAGE";
  const start = options.startTime ?? T0;
  const events = (options.events ?? []).map((e, i) => {
    const event = typeof e === "string" ? { message: e } : e;
    return {
      id: event.id ?? `${37_000_000_000_000n * 10n ** 40n + BigInt(i)}`,
      timestamp: event.timestamp ?? start + i,
      message: event.message,
    };
  });
  if (messageType === "CONTROL_MESSAGE") {
    return {
      messageType,
      owner: "CloudwatchLogs",
      logGroup: "",
      logStream: "",
      subscriptionFilters: [],
      logEvents: [{ id: "", timestamp: start, message: "CWL CONTROL MESSAGE: Checking health of destination Lambda." }],
    };
  }
  return {
    messageType,
    owner: options.owner ?? "123456789012",
    logGroup: options.logGroup ?? "/aws/lambda/orders",
    logStream: options.logStream ?? "2023/11/14/[$LATEST]0123456789abcdef0123456789abcdef",
    subscriptionFilters: ["mackerel-serverless"],
    logEvents: events,
    ...(options.policyLevel !== undefined && { policyLevel: options.policyLevel }),
  };
}

/** A Lambda event as CloudWatch Logs delivers it: `{"awslogs":{"data": base64(gzip(JSON))}}`. */
export function makeSubscriptionEvent(options: SubscriptionEventOptions = {}): { awslogs: { data: string } } {
  return encodeAwslogs(JSON.stringify(makePayload(options)));
}

/** Wraps any text (valid JSON or not) the way CloudWatch does: gzip, then base64. */
export function encodeAwslogs(text: string | Buffer): { awslogs: { data: string } } {
  return { awslogs: { data: gzipSync(text).toString("base64") } };
}

/** A v4-looking request id, deterministic per seed. */
export function requestId(seed = 0): string {
  const hex = (seed * 2654435761 + 0x1234567).toString(16).padStart(8, "0").slice(-8);
  return `${hex}-89ab-4def-8123-456789abcdef`;
}

/** Lambda's text log format (Node.js): `<ISO time>\t<request id>\t<LEVEL>\t<message>\n`. */
export function textLine(level: string, message: string, seed = 0, time = T0): string {
  return `${new Date(time).toISOString()}\t${requestId(seed)}\t${level}\t${message}\n`;
}

/** Lambda's JSON log format (application log). */
export function jsonLine(level: string, message: unknown, seed = 0, time = T0): string {
  return JSON.stringify({ timestamp: new Date(time).toISOString(), level, requestId: requestId(seed), message });
}
