/** SQS messages as the stand-in stores them, the event record Lambda builds from one, and SQS's MD5s. */
import { createHash } from "node:crypto";

export const SQS_ACCOUNT_ID = "123456789012";
export const SQS_REGION = "us-east-1";
export const MAX_MESSAGE_BYTES = 256 * 1024;
export const DEDUP_WINDOW_MS = 5 * 60 * 1000;
export const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

export interface LocalQueueOptions {
  /** Default visibility timeout in seconds (SQS default 30). */
  visibilityTimeoutSeconds?: number;
  /** Redrive to another local queue (by name) after `maxReceiveCount` receives. */
  redrive?: { deadLetterQueue: string; maxReceiveCount: number };
}

export type MessageAttributeValue = { DataType: string; StringValue?: string; BinaryValue?: string };

/** A message as the stub stores it (exposed read-only for assertions). */
export interface StoredMessage {
  messageId: string;
  body: string;
  messageAttributes: Record<string, MessageAttributeValue>;
  sentAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  /** Epoch ms from which it can be received. */
  visibleAt: number;
  /** The latest receipt handle (older ones no longer work). */
  receiptHandle?: string;
  groupId?: string;
  deduplicationId?: string;
  sequence: number;
  /** The queue it was moved from by redrive. */
  movedFrom?: string;
}

/** One queue and its messages. */
export interface Queue {
  name: string;
  fifo: boolean;
  options: LocalQueueOptions;
  messages: StoredMessage[];
  dedup: Map<string, { messageId: string; at: number }>;
}

/** One record of the SQS event Lambda gives a function. */
export interface SqsEventRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, unknown>;
  md5OfBody: string;
  eventSource: "aws:sqs";
  eventSourceARN: string;
  awsRegion: string;
}

export const md5 = (data: string | Buffer): string => createHash("md5").update(data).digest("hex");

/** SQS's MD5 of message attributes: names sorted, each field length-prefixed (big-endian 32-bit). */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const parts: Buffer[] = [];
  const field = (data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    parts.push(length, data);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name]!;
    field(Buffer.from(name, "utf8"));
    field(Buffer.from(value.DataType, "utf8"));
    if (value.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      field(Buffer.from(value.BinaryValue, "base64"));
    } else {
      parts.push(Buffer.from([1]));
      field(Buffer.from(value.StringValue ?? "", "utf8"));
    }
  }
  return md5(Buffer.concat(parts));
}

/** What message attributes count towards the 256 KiB limit. */
export function attributesSize(attributes: Record<string, MessageAttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    size +=
      value.BinaryValue !== undefined
        ? Buffer.from(value.BinaryValue, "base64").length
        : Buffer.byteLength(value.StringValue ?? "");
  }
  return size;
}
