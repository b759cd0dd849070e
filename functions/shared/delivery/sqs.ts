/**
 * The SQS client of the spool and the sender. The AWS SDK for SQS is imported lazily: only failures need
 * it, so it costs nothing on the happy path's cold start.
 */
import { deadlineSignal, sdkClientConfig } from "../aws-sdk.js";

type SqsModule = typeof import("@aws-sdk/client-sqs");
let sqsModule: Promise<SqsModule> | undefined;
let sharedClient: InstanceType<SqsModule["SQSClient"]> | undefined;

/** The SQS SDK and one client per container, loaded on first use (honours AWS_ENDPOINT_URL_SQS). */
export async function sqs(): Promise<{ sdk: SqsModule; client: InstanceType<SqsModule["SQSClient"]> }> {
  sqsModule ??= import("@aws-sdk/client-sqs");
  const sdk = await sqsModule;
  sharedClient ??= new sdk.SQSClient(sdkClientConfig());
  return { sdk, client: sharedClient };
}

/** One entry of a SendMessageBatch call, as this module sends it. */
export interface SpoolBatchEntry {
  Id: string;
  MessageBody: string;
  MessageGroupId: string;
  MessageDeduplicationId: string;
}

/** Sends one batch; returns the ids of entries that failed with a retryable (server-side) cause, or throws. */
export type SendSpoolBatch = (
  queueUrl: string,
  entries: SpoolBatchEntry[],
  /** Time the invocation has left: the call gives up shortly before it. */
  remainingMs?: number,
) => Promise<{ failed: { id: string; senderFault: boolean; message?: string }[] }>;

/** Longest a spool write may take, its SDK retries included: SQS answers in milliseconds when it is up. */
const SPOOL_CALL_CAP_MS = 5000;
/** Time kept after a spool write for returning or failing the invocation. */
const SPOOL_RESERVE_MS = 300;

/** {@link SendSpoolBatch} with the AWS SDK. */
export const sendSpoolBatch: SendSpoolBatch = async (queueUrl, entries, remainingMs = Number.POSITIVE_INFINITY) => {
  const { sdk, client } = await sqs();
  const output = await client.send(new sdk.SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }), {
    abortSignal: deadlineSignal(remainingMs, SPOOL_CALL_CAP_MS, SPOOL_RESERVE_MS),
  });
  return {
    failed: (output.Failed ?? []).map((f) => ({
      id: f.Id ?? "",
      senderFault: f.SenderFault === true,
      message: f.Message,
    })),
  };
};
