/**
 * The sender's own SQS calls: dead-lettering a message with its reason, and delaying the retries of the
 * messages that go back to the spool. Neither throws: a failure leaves the message to the queue's own
 * redelivery.
 */
import { createHash } from "node:crypto";
import { SPOOL_BODY_MAX_BYTES } from "../shared/delivery/envelope.js";
import { sqs } from "../shared/delivery/sqs.js";
import type { MackerelRejectedError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { retryDelaySeconds } from "./schedule.js";

/** Message group of the (FIFO) dead-letter queue. */
const DEAD_LETTER_GROUP_ID = "dead-letter";

/** The spool message being settled. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  receiveCount: number;
  /** The function that spooled it, when the envelope could be read. */
  origin?: string;
}

/** Why the sender stopped sending before the end of a batch. */
export type StopReason = "unavailable" | "time" | "deadLetter";

/**
 * Sends a message to the dead-letter queue with its reason (cut to fit SQS's size limit); false when that
 * failed (retry later).
 */
export async function deadLetter(
  queueUrl: string,
  message: ReceivedMessage,
  body: string,
  reason: string,
  log: Logger,
  refusal?: MackerelRejectedError,
): Promise<boolean> {
  const fits = Buffer.byteLength(body, "utf8") <= SPOOL_BODY_MAX_BYTES;
  const kept = fits ? body : Buffer.from(body, "utf8").subarray(0, SPOOL_BODY_MAX_BYTES).toString("utf8");
  const attributes: Record<string, { DataType: string; StringValue: string }> = {
    reason: { DataType: "String", StringValue: reason.slice(0, 1000) || "unknown" },
    sourceMessageId: { DataType: "String", StringValue: message.messageId },
    receiveCount: { DataType: "Number", StringValue: String(message.receiveCount) },
  };
  if (message.origin !== undefined) {
    attributes.origin = { DataType: "String", StringValue: message.origin || "unknown" };
  }
  if (refusal) attributes.status = { DataType: "Number", StringValue: String(refusal.status) };
  if (refusal?.mackerelMessage) {
    attributes.mackerelMessage = { DataType: "String", StringValue: refusal.mackerelMessage.slice(0, 1000) };
  }
  if (!fits) attributes.truncated = { DataType: "String", StringValue: "true" };
  try {
    const { sdk, client } = await sqs();
    await client.send(
      new sdk.SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: kept,
        MessageAttributes: attributes,
        MessageGroupId: DEAD_LETTER_GROUP_ID,
        // A redelivered spool message dead-letters the same content once.
        MessageDeduplicationId: createHash("sha256").update(message.messageId).update(kept).digest("hex"),
      }),
    );
    log.error("message sent to the dead-letter queue", { messageId: message.messageId, reason });
    return true;
  } catch (error) {
    log.error("could not send to the dead-letter queue; the message will be retried", {
      messageId: message.messageId,
      reason,
      error,
    });
    return false;
  }
}

/**
 * Hides the failed messages for the backoff delay. A FIFO group stays blocked while any of its messages
 * is in flight, so all of them get the same delay: that of the most-received one.
 */
export async function delayRetries(
  queueUrl: string,
  failures: readonly ReceivedMessage[],
  stopped: StopReason | undefined,
  log: Logger,
): Promise<void> {
  const receives = Math.max(...failures.map((f) => f.receiveCount));
  // Out of time is not Mackerel's fault: retry at once.
  const delay = stopped === "time" ? 0 : retryDelaySeconds(receives);
  try {
    const { sdk, client } = await sqs();
    for (let i = 0; i < failures.length; i += 10) {
      const output = await client.send(
        new sdk.ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: failures.slice(i, i + 10).map((f, j) => ({
            Id: String(i + j),
            ReceiptHandle: f.receiptHandle,
            VisibilityTimeout: delay,
          })),
        }),
      );
      if (output.Failed && output.Failed.length > 0) {
        log.warn("could not delay some retries; the queue's visibility timeout applies", { failed: output.Failed });
      }
    }
  } catch (error) {
    // The messages still come back, after the queue's visibility timeout.
    log.warn("could not delay the retries; the queue's visibility timeout applies", { error });
  }
}
