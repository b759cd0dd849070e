/** The local SQS stand-in: import it from here. */
export { SqsEventSource, type PollResult } from "./event-source";
export {
  type LocalQueueOptions,
  md5OfMessageAttributes,
  SQS_ACCOUNT_ID,
  SQS_REGION,
  type SqsEventRecord,
  type StoredMessage,
} from "./messages";
export { LocalSqs } from "./queues";
