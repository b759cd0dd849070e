/** The wire side of the SQS JSON protocol the stand-in shares among operations: batches and received messages. */
import { AwsServiceError } from "../aws-json-server";
import { md5, md5OfMessageAttributes, type Queue, type StoredMessage } from "./messages";

/** A received message as ReceiveMessage answers it, with the attributes the request asked for. */
export function messageView(queue: Queue, message: StoredMessage, input: Record<string, unknown>, now: number) {
  const wanted = [
    ...((input.AttributeNames as string[] | undefined) ?? []),
    ...((input.MessageSystemAttributeNames as string[] | undefined) ?? []),
  ];
  const all = wanted.includes("All");
  const system: Record<string, string> = {
    ApproximateReceiveCount: String(message.receiveCount),
    SentTimestamp: String(message.sentAt),
    ApproximateFirstReceiveTimestamp: String(message.firstReceiveAt ?? now),
    SenderId: "AIDALOCALSTUB",
    ...(queue.fifo
      ? {
          MessageGroupId: message.groupId ?? "",
          MessageDeduplicationId: message.deduplicationId ?? "",
          SequenceNumber: String(message.sequence),
        }
      : {}),
  };
  const attributes = Object.fromEntries(Object.entries(system).filter(([k]) => all || wanted.includes(k)));
  const names = (input.MessageAttributeNames as string[] | undefined) ?? [];
  const messageAttributes = Object.fromEntries(
    Object.entries(message.messageAttributes).filter(([k]) => names.includes("All") || names.includes(k)),
  );
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: md5(message.body),
    Body: message.body,
    ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
    ...(Object.keys(messageAttributes).length > 0
      ? { MessageAttributes: messageAttributes, MD5OfMessageAttributes: md5OfMessageAttributes(messageAttributes) }
      : {}),
  };
}

/** Runs a batch operation entry by entry: one entry's failure is reported in `Failed`, not thrown. */
export function batch<T>(
  input: Record<string, unknown>,
  run: (entry: Record<string, unknown>) => T,
): {
  Successful: (T & { Id: string })[];
  Failed: { Id: string; Code: string; Message: string; SenderFault: boolean }[];
} {
  const entries = input.Entries as Record<string, unknown>[] | undefined;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new AwsServiceError("EmptyBatchRequest", "There should be at least one entry in the request.");
  }
  if (entries.length > 10) {
    throw new AwsServiceError("TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10.");
  }
  const ids = new Set(entries.map((e) => e.Id));
  if (ids.size !== entries.length) throw new AwsServiceError("BatchEntryIdsNotDistinct", "Ids must be distinct.");
  const Successful: (T & { Id: string })[] = [];
  const Failed: { Id: string; Code: string; Message: string; SenderFault: boolean }[] = [];
  for (const entry of entries) {
    const id = String(entry.Id);
    try {
      Successful.push({ Id: id, ...run(entry) });
    } catch (error) {
      if (!(error instanceof AwsServiceError)) throw error;
      Failed.push({ Id: id, Code: error.type, Message: error.message, SenderFault: true });
    }
  }
  return { Successful, Failed };
}
