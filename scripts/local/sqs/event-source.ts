/** Lambda's SQS event source mapping, played locally over {@link LocalSqs}. */
import { md5, SQS_REGION, type SqsEventRecord, type StoredMessage } from "./messages";
import type { LocalSqs } from "./queues";

/** What one poll of the event source did. */
export interface PollResult {
  received: number;
  deleted: number;
  failed: number;
  /** Set when the invocation itself failed (nothing deleted). */
  error?: string;
}

/** Lambda's SQS event source mapping, played locally: receive, invoke, delete the successes. */
export class SqsEventSource {
  constructor(
    private readonly sqs: LocalSqs,
    private readonly queueName: string,
    private readonly invoke: (event: {
      Records: SqsEventRecord[];
    }) => Promise<{ ok: true; result: unknown } | { ok: false; errorType: string; errorMessage: string }>,
    private readonly batchSize = 10,
  ) {}

  /** One batch: receive up to batchSize visible messages and hand them to the function. */
  async pollOnce(): Promise<PollResult> {
    const messages = this.sqs.receive(this.queueName, this.batchSize);
    if (messages.length === 0) return { received: 0, deleted: 0, failed: 0 };
    const outcome = await this.invoke({ Records: messages.map((m) => this.record(m)) });
    if (!outcome.ok) {
      return {
        received: messages.length,
        deleted: 0,
        failed: messages.length,
        error: `${outcome.errorType}: ${outcome.errorMessage}`,
      };
    }
    const response = outcome.result as { batchItemFailures?: { itemIdentifier?: string }[] } | null;
    const ids = new Set(messages.map((m) => m.messageId));
    const failures = response?.batchItemFailures ?? [];
    // As Lambda does: a failure naming no message of the batch fails the whole batch.
    if (failures.some((f) => !f.itemIdentifier || !ids.has(f.itemIdentifier))) {
      return { received: messages.length, deleted: 0, failed: messages.length, error: "invalid batchItemFailures" };
    }
    const failed = new Set(failures.map((f) => f.itemIdentifier));
    let deleted = 0;
    for (const message of messages) {
      if (failed.has(message.messageId)) continue;
      if (this.sqs.delete(this.queueName, message.receiptHandle!)) deleted++;
    }
    return { received: messages.length, deleted, failed: failed.size };
  }

  /** Polls until a poll receives nothing (or `maxPolls`); returns the sum. */
  async drain(maxPolls = 1000): Promise<PollResult> {
    const total: PollResult = { received: 0, deleted: 0, failed: 0 };
    for (let i = 0; i < maxPolls; i++) {
      const result = await this.pollOnce();
      if (result.received === 0) break;
      total.received += result.received;
      total.deleted += result.deleted;
      total.failed += result.failed;
      if (result.error) total.error = result.error;
    }
    return total;
  }

  private record(message: StoredMessage): SqsEventRecord {
    return {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle!,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: "AIDALOCALSTUB",
        ApproximateFirstReceiveTimestamp: String(message.firstReceiveAt ?? message.sentAt),
        ...(message.groupId !== undefined
          ? {
              MessageGroupId: message.groupId,
              MessageDeduplicationId: message.deduplicationId ?? "",
              SequenceNumber: String(message.sequence),
            }
          : {}),
      },
      messageAttributes: {},
      md5OfBody: md5(message.body),
      eventSource: "aws:sqs",
      eventSourceARN: this.sqs.queueArn(this.queueName),
      awsRegion: SQS_REGION,
    };
  }
}
