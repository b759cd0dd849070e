/**
 * A local SQS stand-in on {@link LocalAwsJsonServer}: the JSON protocol the AWS SDK v3 SQS client speaks
 * (awsJson1_0, `X-Amz-Target: AmazonSQS.<Operation>`), with the semantics the spool relies on:
 *
 * - visibility timeouts and ApproximateReceiveCount, on a controllable clock (`now`);
 * - redrive: a message received more than `maxReceiveCount` times moves to the dead-letter queue;
 * - FIFO queues (name ends in `.fifo`): one message group is served in order, and is blocked while any of
 *   its messages is in flight; MessageDeduplicationId dedupes sends within 5 minutes;
 * - at-least-once delivery on demand: {@link LocalSqs.duplicate} puts a second copy of a message in the
 *   queue, as SQS may;
 * - the SDK's MD5 checks (MD5OfMessageBody, MD5OfBody, MD5OfMessageAttributes) are answered correctly.
 *
 * `SqsEventSource` (event-source.ts) plays Lambda's event source mapping: receive a batch, invoke the function with
 * an SQS event, delete what it did not report in `batchItemFailures`.
 *
 * Operations: SendMessage, SendMessageBatch, ReceiveMessage, DeleteMessage, DeleteMessageBatch,
 * ChangeMessageVisibility, ChangeMessageVisibilityBatch, GetQueueAttributes, GetQueueUrl.
 */
import { randomUUID } from "node:crypto";
import { type AwsJsonHandlers, AwsServiceError, LocalAwsJsonServer } from "../aws-json-server";
import {
  attributesSize,
  DEDUP_WINDOW_MS,
  type LocalQueueOptions,
  MAX_MESSAGE_BYTES,
  MAX_VISIBILITY_SECONDS,
  md5,
  md5OfMessageAttributes,
  type MessageAttributeValue,
  type Queue,
  SQS_ACCOUNT_ID,
  SQS_REGION,
  type StoredMessage,
} from "./messages";
import { batch, messageView } from "./protocol";

const invalid = (message: string) => new AwsServiceError("InvalidParameterValue", message);

/** A local SQS endpoint holding any number of queues. */
export class LocalSqs {
  private readonly queues = new Map<string, Queue>();
  private sequence = 0;

  private constructor(
    readonly server: LocalAwsJsonServer,
    private readonly clock: () => number,
  ) {}

  /** Starts the endpoint; `now` is its clock in epoch ms (default Date.now). */
  static async start(options: { now?: () => number } = {}): Promise<LocalSqs> {
    const ref: { sqs?: LocalSqs } = {};
    const handlers: AwsJsonHandlers = {};
    const server = await LocalAwsJsonServer.start(
      new Proxy(handlers, {
        get: (_target, target: string) => {
          if (typeof target !== "string" || !target.startsWith("AmazonSQS.")) return undefined;
          const operation = target.slice("AmazonSQS.".length);
          return (input: Record<string, unknown>) => ref.sqs!.dispatch(operation, input);
        },
      }),
    );
    ref.sqs = new LocalSqs(server, options.now ?? Date.now);
    return ref.sqs;
  }

  /** Base URL: give it to functions as AWS_ENDPOINT_URL_SQS. */
  get url(): string {
    return this.server.url;
  }

  /** Creates a queue and returns its URL. */
  createQueue(name: string, options: LocalQueueOptions = {}): string {
    this.queues.set(name, { name, fifo: name.endsWith(".fifo"), options, messages: [], dedup: new Map() });
    return this.queueUrl(name);
  }

  queueUrl(name: string): string {
    return `${this.server.url}/${SQS_ACCOUNT_ID}/${name}`;
  }

  queueArn(name: string): string {
    return `arn:aws:sqs:${SQS_REGION}:${SQS_ACCOUNT_ID}:${name}`;
  }

  /** A copy of the messages a queue holds (in flight ones included), in queue order. */
  messages(name: string): StoredMessage[] {
    return this.queue(name).messages.map((m) => ({ ...m, messageAttributes: { ...m.messageAttributes } }));
  }

  /** Messages receivable now. */
  visibleCount(name: string): number {
    const now = this.clock();
    return this.queue(name).messages.filter((m) => m.visibleAt <= now).length;
  }

  /** Every message, visible or not. */
  depth(name: string): number {
    return this.queue(name).messages.length;
  }

  /** The smallest time (epoch ms) at which a message of the queue becomes visible, if any is hidden. */
  nextVisibleAt(name: string): number | undefined {
    const now = this.clock();
    const hidden = this.queue(name)
      .messages.filter((m) => m.visibleAt > now)
      .map((m) => m.visibleAt);
    return hidden.length > 0 ? Math.min(...hidden) : undefined;
  }

  /**
   * At-least-once delivery: puts a second copy of the message (same MessageId and body, its own receive
   * count and receipt handle) right after it, visible now.
   */
  duplicate(name: string, messageId: string): void {
    const queue = this.queue(name);
    const index = queue.messages.findIndex((m) => m.messageId === messageId);
    if (index < 0) throw new Error(`no message ${messageId} in ${name}`);
    const original = queue.messages[index]!;
    const copy: StoredMessage = {
      ...original,
      messageAttributes: { ...original.messageAttributes },
      receiveCount: 0,
      firstReceiveAt: undefined,
      receiptHandle: undefined,
      visibleAt: this.clock(),
      sequence: ++this.sequence,
    };
    queue.messages.splice(index + 1, 0, copy);
  }

  /** Calls received over HTTP (target, input, status). */
  get calls() {
    return this.server.calls;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  // ----- operations, also callable directly by the event source -----

  /** Receives up to `max` messages (SQS semantics: visibility, receive counts, redrive, FIFO order). */
  receive(name: string, max = 1, visibilityTimeoutSeconds?: number): StoredMessage[] {
    const queue = this.queue(name);
    const now = this.clock();
    const timeout = visibilityTimeoutSeconds ?? queue.options.visibilityTimeoutSeconds ?? 30;
    const blockedGroups = new Set<string>();
    if (queue.fifo) {
      for (const m of queue.messages) if (m.visibleAt > now && m.groupId !== undefined) blockedGroups.add(m.groupId);
    }
    const received: StoredMessage[] = [];
    for (const message of [...queue.messages]) {
      if (received.length >= max) break;
      if (message.visibleAt > now) continue;
      if (message.groupId !== undefined && blockedGroups.has(message.groupId)) continue;
      const redrive = queue.options.redrive;
      if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
        this.moveTo(queue, message, redrive.deadLetterQueue);
        continue;
      }
      message.receiveCount++;
      message.firstReceiveAt ??= now;
      message.visibleAt = now + timeout * 1000;
      message.receiptHandle = randomUUID();
      received.push(message);
    }
    return received.map((m) => ({ ...m }));
  }

  /** Deletes by receipt handle; a stale handle succeeds without deleting (as SQS does). */
  delete(name: string, receiptHandle: string): boolean {
    const queue = this.queue(name);
    const index = queue.messages.findIndex((m) => m.receiptHandle === receiptHandle);
    if (index < 0) return false;
    queue.messages.splice(index, 1);
    return true;
  }

  changeVisibility(name: string, receiptHandle: string, seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_VISIBILITY_SECONDS) {
      throw invalid(`VisibilityTimeout must be 0 to ${MAX_VISIBILITY_SECONDS} seconds`);
    }
    const message = this.queue(name).messages.find((m) => m.receiptHandle === receiptHandle);
    if (!message) throw new AwsServiceError("ReceiptHandleIsInvalid", "The receipt handle is not valid");
    if (message.visibleAt <= this.clock()) {
      throw new AwsServiceError("MessageNotInflight", "The message is not in flight");
    }
    message.visibleAt = this.clock() + seconds * 1000;
  }

  send(
    name: string,
    entry: {
      MessageBody?: unknown;
      DelaySeconds?: unknown;
      MessageAttributes?: unknown;
      MessageGroupId?: unknown;
      MessageDeduplicationId?: unknown;
    },
  ): { MessageId: string; MD5OfMessageBody: string; MD5OfMessageAttributes?: string; SequenceNumber?: string } {
    const queue = this.queue(name);
    const body = entry.MessageBody;
    if (typeof body !== "string" || body.length === 0) {
      throw new AwsServiceError("MissingParameter", "The request must contain the parameter MessageBody.");
    }
    const attributes = (entry.MessageAttributes ?? {}) as Record<string, MessageAttributeValue>;
    const size = Buffer.byteLength(body, "utf8") + attributesSize(attributes);
    if (size > MAX_MESSAGE_BYTES) {
      throw invalid(
        `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`,
      );
    }
    const now = this.clock();
    let groupId: string | undefined;
    let deduplicationId: string | undefined;
    if (queue.fifo) {
      if (typeof entry.MessageGroupId !== "string") {
        throw new AwsServiceError("MissingParameter", "The request must contain the parameter MessageGroupId.");
      }
      if (typeof entry.MessageDeduplicationId !== "string") {
        throw invalid(
          "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
        );
      }
      if (entry.DelaySeconds !== undefined && entry.DelaySeconds !== 0) {
        throw invalid("DelaySeconds is not supported per message on FIFO queues");
      }
      groupId = entry.MessageGroupId;
      deduplicationId = entry.MessageDeduplicationId;
      const seen = queue.dedup.get(deduplicationId);
      if (seen && now - seen.at < DEDUP_WINDOW_MS) {
        return this.sendResult(seen.messageId, body, attributes);
      }
    }
    const delay = typeof entry.DelaySeconds === "number" ? entry.DelaySeconds : 0;
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      messageAttributes: attributes,
      sentAt: now,
      receiveCount: 0,
      visibleAt: now + delay * 1000,
      groupId,
      deduplicationId,
      sequence: ++this.sequence,
    };
    queue.messages.push(message);
    if (deduplicationId !== undefined) queue.dedup.set(deduplicationId, { messageId: message.messageId, at: now });
    return this.sendResult(message.messageId, body, attributes, queue.fifo ? String(message.sequence) : undefined);
  }

  private sendResult(
    messageId: string,
    body: string,
    attributes: Record<string, MessageAttributeValue>,
    sequence?: string,
  ) {
    return {
      MessageId: messageId,
      MD5OfMessageBody: md5(body),
      ...(Object.keys(attributes).length > 0 ? { MD5OfMessageAttributes: md5OfMessageAttributes(attributes) } : {}),
      ...(sequence ? { SequenceNumber: sequence } : {}),
    };
  }

  private moveTo(from: Queue, message: StoredMessage, deadLetterQueue: string): void {
    const target = this.queue(deadLetterQueue);
    from.messages.splice(from.messages.indexOf(message), 1);
    target.messages.push({
      ...message,
      receiveCount: 0,
      firstReceiveAt: undefined,
      receiptHandle: undefined,
      visibleAt: this.clock(),
      movedFrom: from.name,
      sequence: ++this.sequence,
    });
  }

  private queue(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new AwsServiceError("QueueDoesNotExist", `The specified queue ${name} does not exist.`);
    return queue;
  }

  private queueFromUrl(input: Record<string, unknown>): Queue {
    const url = input.QueueUrl;
    if (typeof url !== "string") throw new AwsServiceError("MissingParameter", "The request must contain QueueUrl.");
    return this.queue(url.slice(url.lastIndexOf("/") + 1));
  }

  private dispatch(operation: string, input: Record<string, unknown>): unknown {
    const queue = this.queueFromUrl(input);
    switch (operation) {
      case "SendMessage":
        return this.send(queue.name, input);
      case "SendMessageBatch": {
        const entries = (input.Entries as { MessageBody?: unknown }[] | undefined) ?? [];
        const total = entries.reduce((sum, e) => sum + Buffer.byteLength(String(e.MessageBody ?? ""), "utf8"), 0);
        if (total > MAX_MESSAGE_BYTES) {
          throw new AwsServiceError(
            "BatchRequestTooLong",
            `Batch requests cannot be longer than ${MAX_MESSAGE_BYTES} bytes.`,
          );
        }
        return batch(input, (entry) => this.send(queue.name, entry));
      }
      case "ReceiveMessage": {
        const max = typeof input.MaxNumberOfMessages === "number" ? input.MaxNumberOfMessages : 1;
        if (max < 1 || max > 10) throw invalid("MaxNumberOfMessages must be 1 to 10");
        const timeout = typeof input.VisibilityTimeout === "number" ? input.VisibilityTimeout : undefined;
        const messages = this.receive(queue.name, max, timeout);
        return { Messages: messages.map((m) => messageView(queue, m, input, this.clock())) };
      }
      case "DeleteMessage":
        this.delete(queue.name, String(input.ReceiptHandle ?? ""));
        return {};
      case "DeleteMessageBatch":
        return batch(input, (entry) => {
          this.delete(queue.name, String(entry.ReceiptHandle ?? ""));
          return {};
        });
      case "ChangeMessageVisibility":
        this.changeVisibility(queue.name, String(input.ReceiptHandle ?? ""), Number(input.VisibilityTimeout));
        return {};
      case "ChangeMessageVisibilityBatch":
        return batch(input, (entry) => {
          this.changeVisibility(queue.name, String(entry.ReceiptHandle ?? ""), Number(entry.VisibilityTimeout));
          return {};
        });
      case "GetQueueAttributes":
        return { Attributes: this.attributes(queue, (input.AttributeNames as string[] | undefined) ?? ["All"]) };
      case "GetQueueUrl":
        return { QueueUrl: this.queueUrl(queue.name) };
      default:
        throw new AwsServiceError("UnsupportedOperation", `${operation} is not implemented by the local stub`);
    }
  }

  private attributes(queue: Queue, names: string[]): Record<string, string> {
    const now = this.clock();
    const inFlight = queue.messages.filter((m) => m.visibleAt > now && m.receiveCount > 0).length;
    const delayed = queue.messages.filter((m) => m.visibleAt > now && m.receiveCount === 0).length;
    const all: Record<string, string> = {
      QueueArn: this.queueArn(queue.name),
      ApproximateNumberOfMessages: String(queue.messages.length - inFlight - delayed),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
      VisibilityTimeout: String(queue.options.visibilityTimeoutSeconds ?? 30),
      FifoQueue: String(queue.fifo),
      ...(queue.options.redrive
        ? {
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: this.queueArn(queue.options.redrive.deadLetterQueue),
              maxReceiveCount: queue.options.redrive.maxReceiveCount,
            }),
          }
        : {}),
    };
    return names.includes("All") ? all : Object.fromEntries(Object.entries(all).filter(([k]) => names.includes(k)));
  }
}
