/**
 * The spool feature: an encrypted SQS FIFO queue that keeps what Mackerel could not take, its
 * dead-letter queue, and the sender function that drains it into Mackerel.
 *
 * - FIFO with one message group: the sender sees spooled writes in the order they were spooled, and a
 *   Mackerel outage holds the whole queue back instead of reordering it (Mackerel ignores a check report
 *   older than the newest one it has for the same check).
 * - The sender retries with growing delays (functions/sender/schedule.ts); maxReceiveCount is computed
 *   from the same schedule to cover `spool_max_age_hours`, after which a message goes to the
 *   dead-letter queue. Refusals are dead-lettered by the sender with their reason.
 * - Roles: every Mackerel-writing function may only SendMessage to the spool (`sendStatement`); the sender
 *   may only receive/delete/change visibility/get attributes on the spool and send to the DLQ.
 */
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueueRedriveAllowPolicy } from "@cdktf/provider-aws/lib/sqs-queue-redrive-allow-policy";
import { Fn, Op, Token } from "cdktf";
import { Construct } from "constructs";
import {
  receiveCountOffset,
  receivesPerHour,
  SENDER_TIMEOUT_SECONDS,
  SPOOL_MAX_AGE_HOURS_DEFAULT,
  SPOOL_VISIBILITY_TIMEOUT_SECONDS,
  maxReceiveCountFor,
} from "../../functions/sender/schedule";
import { type AwsLocation, type FeatureContext, ownArn } from "./context";
import { ModuleFunction, type PolicyStatement } from "./module-function";

/** Spooled messages are kept 4 days: well past the 24 h after which their data is worthless to Mackerel. */
export const SPOOL_RETENTION_SECONDS = 4 * 24 * 60 * 60;
/** The dead-letter queue keeps messages 14 days (SQS's maximum) for inspection and redrive. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 60 * 60;
/** Messages per sender invocation (FIFO event sources take at most 10). */
export const SENDER_BATCH_SIZE = 10;

export interface SpoolProps {
  prefix: string;
  tags: Record<string, string>;
  aws: AwsLocation;
  /** Hours the sender keeps retrying a message before the dead-letter queue (literal or token). Default 24. */
  maxAgeHours?: number;
}

/** The spool queues; {@link Spool.addSender} adds the sender once the feature context exists. */
export class Spool extends Construct {
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;
  /** sqs:SendMessage on the spool only: for every function that writes to Mackerel. */
  readonly sendStatement: PolicyStatement;
  private readonly queueArn: string;
  private readonly deadLetterQueueArn: string;
  sender?: ModuleFunction;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: SpoolProps,
  ) {
    super(scope, id);
    const hours = props.maxAgeHours ?? SPOOL_MAX_AGE_HOURS_DEFAULT;
    const maxReceiveCount = Token.isUnresolved(hours)
      ? Token.asNumber(Op.add(Op.mul(hours, receivesPerHour), receiveCountOffset))
      : maxReceiveCountFor(hours);

    this.deadLetterQueue = new SqsQueue(this, "dead-letter", {
      name: `${props.prefix}-spool-dlq.fifo`,
      fifoQueue: true,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
      tags: props.tags,
    });
    this.deadLetterQueue.overrideLogicalId("spool_dead_letter");

    this.queue = new SqsQueue(this, "queue", {
      name: `${props.prefix}-spool.fifo`,
      fifoQueue: true,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: SPOOL_RETENTION_SECONDS,
      visibilityTimeoutSeconds: SPOOL_VISIBILITY_TIMEOUT_SECONDS,
      redrivePolicy: Fn.jsonencode({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount }),
      tags: props.tags,
    });
    this.queue.overrideLogicalId("spool");

    // Only the spool may redrive into the dead-letter queue (and the console's "start DLQ redrive" moves
    // messages back to it: both hold the same envelopes).
    new SqsQueueRedriveAllowPolicy(this, "redrive-allow", {
      queueUrl: this.deadLetterQueue.url,
      redriveAllowPolicy: Fn.jsonencode({ redrivePermission: "byQueue", sourceQueueArns: [this.queue.arn] }),
    }).overrideLogicalId("spool_dead_letter");

    // Composed from the names (known at plan, so the policies show in full).
    this.queueArn = ownArn(props.aws, "sqs", props.prefix, "-spool.fifo");
    this.deadLetterQueueArn = ownArn(props.aws, "sqs", props.prefix, "-spool-dlq.fifo");
    this.sendStatement = {
      Sid: "SpoolWritesMackerelCouldNotTake",
      Effect: "Allow",
      Action: ["sqs:SendMessage"],
      Resource: this.queueArn,
    };
  }

  /** The sender function and its event source mapping. */
  addSender(context: FeatureContext): ModuleFunction {
    const sender = new ModuleFunction(this, "sender", {
      ...context.common,
      function: "sender",
      description: "mackerel-serverless: delivers spooled writes to Mackerel once it is reachable again",
      code: context.code("sender"),
      memorySize: 256,
      timeout: SENDER_TIMEOUT_SECONDS,
      environment: { ...context.mackerelEnvironment, DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.url },
      statements: [
        context.readSecret,
        {
          Sid: "DrainSpool",
          Effect: "Allow",
          Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
          Resource: this.queueArn,
        },
        {
          Sid: "DeadLetterRefusals",
          Effect: "Allow",
          Action: ["sqs:SendMessage"],
          Resource: this.deadLetterQueueArn,
        },
      ],
      conditionalStatements: context.decryptSecret && [context.decryptSecret],
    });
    const mapping = new LambdaEventSourceMapping(this, "source", {
      eventSourceArn: this.queue.arn,
      functionName: sender.lambda.arn,
      batchSize: SENDER_BATCH_SIZE,
      functionResponseTypes: ["ReportBatchItemFailures"],
      tags: this.props.tags,
    });
    mapping.overrideLogicalId("sender_spool");
    this.sender = sender;
    return sender;
  }
}
