/**
 * The SQS stand-in under the real AWS SDK v3 client: the SDK speaks JSON (awsJson1_0,
 * `X-Amz-Target: AmazonSQS.<Operation>`) to it, its MD5 checks pass, and the stub keeps SQS's semantics
 * the spool relies on (visibility, receive counts, redrive, FIFO order and dedup, duplicates).
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { ManualClock } from "../../../scripts/testing";
import { LocalSqs, md5OfMessageAttributes, SqsEventSource } from "../../../scripts/local/sqs";
import { LOCAL_AWS_CLIENT_CONFIG } from "../../../scripts/local/aws-json-server";

describe("LocalSqs (SQS stand-in) under @aws-sdk/client-sqs", () => {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  let sqs: LocalSqs;
  let client: SQSClient;
  let spool: string;
  let dlq: string;
  let standard: string;

  beforeAll(async () => {
    sqs = await LocalSqs.start({ now: clock.now });
    client = new SQSClient({ ...LOCAL_AWS_CLIENT_CONFIG, endpoint: sqs.url });
  });
  beforeEach(() => {
    dlq = sqs.createQueue("t-dlq.fifo");
    spool = sqs.createQueue("t-spool.fifo", {
      visibilityTimeoutSeconds: 60,
      redrive: { deadLetterQueue: "t-dlq.fifo", maxReceiveCount: 2 },
    });
    standard = sqs.createQueue("t-standard", { visibilityTimeoutSeconds: 30 });
  });
  afterAll(async () => {
    client.destroy();
    await sqs.close();
  });

  test("the SDK talks awsJson1_0 with X-Amz-Target AmazonSQS.<Operation>, and its MD5 checks pass", async () => {
    const before = sqs.calls.length;
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: standard,
        MessageBody: "héllo",
        MessageAttributes: { reason: { DataType: "String", StringValue: "because" } },
      }),
    );
    expect(sent.MessageId).toBeDefined();
    expect(sent.MD5OfMessageAttributes).toBe(
      md5OfMessageAttributes({ reason: { DataType: "String", StringValue: "because" } }),
    );
    const received = await client.send(
      new ReceiveMessageCommand({ QueueUrl: standard, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
    );
    expect(received.Messages?.[0]?.Body).toBe("héllo");
    expect(received.Messages?.[0]?.MessageAttributes?.reason?.StringValue).toBe("because");
    expect(sqs.calls.slice(before).map((c) => c.target)).toEqual(["AmazonSQS.SendMessage", "AmazonSQS.ReceiveMessage"]);
  });

  test("visibility timeout hides a received message until the clock passes it; receive counts grow", async () => {
    await client.send(new SendMessageCommand({ QueueUrl: standard, MessageBody: "a" }));
    const first = await client.send(
      new ReceiveMessageCommand({ QueueUrl: standard, MessageSystemAttributeNames: ["ApproximateReceiveCount"] }),
    );
    expect(first.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe("1");
    expect((await client.send(new ReceiveMessageCommand({ QueueUrl: standard }))).Messages ?? []).toEqual([]);
    clock.advance(30_000);
    const second = await client.send(
      new ReceiveMessageCommand({ QueueUrl: standard, MessageSystemAttributeNames: ["All"] }),
    );
    expect(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe("2");
    // The old receipt handle no longer deletes (SQS: succeeds, message stays).
    await client.send(
      new DeleteMessageCommand({ QueueUrl: standard, ReceiptHandle: first.Messages![0]!.ReceiptHandle }),
    );
    expect(sqs.depth("t-standard")).toBe(1);
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: standard,
        ReceiptHandle: second.Messages![0]!.ReceiptHandle,
        VisibilityTimeout: 600,
      }),
    );
    clock.advance(599_000);
    expect(sqs.visibleCount("t-standard")).toBe(0);
    clock.advance(1_000);
    expect(sqs.visibleCount("t-standard")).toBe(1);
    const third = await client.send(new ReceiveMessageCommand({ QueueUrl: standard }));
    await client.send(
      new DeleteMessageCommand({ QueueUrl: standard, ReceiptHandle: third.Messages![0]!.ReceiptHandle }),
    );
    expect(sqs.depth("t-standard")).toBe(0);
  });

  test("FIFO: one group is served in order and blocked while a message is in flight; dedup within 5 minutes", async () => {
    const entries = ["1", "2", "3"].map((body) => ({
      Id: body,
      MessageBody: body,
      MessageGroupId: "g",
      MessageDeduplicationId: `d${body}`,
    }));
    const sent = await client.send(new SendMessageBatchCommand({ QueueUrl: spool, Entries: entries }));
    expect(sent.Successful).toHaveLength(3);
    // The same dedup id again: accepted, not queued twice.
    await client.send(new SendMessageBatchCommand({ QueueUrl: spool, Entries: entries.slice(0, 1) }));
    expect(sqs.depth("t-spool.fifo")).toBe(3);

    const head = await client.send(new ReceiveMessageCommand({ QueueUrl: spool, MaxNumberOfMessages: 1 }));
    expect(head.Messages?.map((m) => m.Body)).toEqual(["1"]);
    // "2" is visible, but its group is blocked by "1" in flight.
    expect(
      (await client.send(new ReceiveMessageCommand({ QueueUrl: spool, MaxNumberOfMessages: 10 }))).Messages ?? [],
    ).toEqual([]);
    await client.send(new DeleteMessageCommand({ QueueUrl: spool, ReceiptHandle: head.Messages![0]!.ReceiptHandle }));
    const rest = await client.send(new ReceiveMessageCommand({ QueueUrl: spool, MaxNumberOfMessages: 10 }));
    expect(rest.Messages?.map((m) => m.Body)).toEqual(["2", "3"]);
    const changed = await client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: spool,
        Entries: rest.Messages!.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
    expect(changed.Failed ?? []).toEqual([]);
    const again = await client.send(new ReceiveMessageCommand({ QueueUrl: spool, MaxNumberOfMessages: 10 }));
    expect(again.Messages?.map((m) => m.Body)).toEqual(["2", "3"]);
    const deleted = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: spool,
        Entries: again.Messages!.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    expect(deleted.Successful).toHaveLength(2);
    expect(sqs.depth("t-spool.fifo")).toBe(0);
  });

  test("redrive: a message received more than maxReceiveCount times moves to the dead-letter queue", async () => {
    await client.send(
      new SendMessageCommand({
        QueueUrl: spool,
        MessageBody: "poison",
        MessageGroupId: "g",
        MessageDeduplicationId: "p",
      }),
    );
    for (let i = 0; i < 2; i++) {
      expect(sqs.receive("t-spool.fifo", 10)).toHaveLength(1);
      clock.advance(60_000);
    }
    expect(sqs.receive("t-spool.fifo", 10)).toHaveLength(0);
    expect(sqs.messages("t-dlq.fifo").map((m) => [m.body, m.movedFrom])).toEqual([["poison", "t-spool.fifo"]]);
    const attributes = await client.send(new GetQueueAttributesCommand({ QueueUrl: spool, AttributeNames: ["All"] }));
    expect(JSON.parse(attributes.Attributes!.RedrivePolicy!)).toEqual({
      deadLetterTargetArn: sqs.queueArn("t-dlq.fifo"),
      maxReceiveCount: 2,
    });
    expect(dlq).toContain("t-dlq.fifo");
  });

  test("refuses what SQS refuses: oversize messages, FIFO sends without a group, bad visibility", async () => {
    await expect(
      client.send(new SendMessageCommand({ QueueUrl: standard, MessageBody: "x".repeat(256 * 1024 + 1) })),
    ).rejects.toThrow(/shorter than/);
    await expect(client.send(new SendMessageCommand({ QueueUrl: spool, MessageBody: "x" }))).rejects.toThrow(
      /MessageGroupId/,
    );
    await expect(
      client.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: standard, ReceiptHandle: "nope", VisibilityTimeout: 1 }),
      ),
    ).rejects.toMatchObject({ name: "ReceiptHandleIsInvalid" });
  });

  test("duplicate() delivers a message twice; the event source deletes only what the function did not fail", async () => {
    sqs.send("t-spool.fifo", { MessageBody: "once", MessageGroupId: "g", MessageDeduplicationId: "o" });
    sqs.send("t-spool.fifo", { MessageBody: "fails", MessageGroupId: "g", MessageDeduplicationId: "f" });
    const [first] = sqs.messages("t-spool.fifo");
    sqs.duplicate("t-spool.fifo", first!.messageId);
    const seen: string[] = [];
    const source = new SqsEventSource(sqs, "t-spool.fifo", async (event) => {
      seen.push(...event.Records.map((r) => r.body));
      return {
        ok: true,
        result: {
          batchItemFailures: event.Records.filter((r) => r.body === "fails").map((r) => ({
            itemIdentifier: r.messageId,
          })),
        },
      };
    });
    expect(await source.pollOnce()).toEqual({ received: 3, deleted: 2, failed: 1 });
    expect(seen).toEqual(["once", "once", "fails"]);
    expect(sqs.messages("t-spool.fifo").map((m) => m.body)).toEqual(["fails"]);
  });
});
