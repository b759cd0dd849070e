/**
 * Synth tests of the spool feature and the module's self-monitoring: the FIFO spool and its dead-letter
 * queue (SSE, redrive sized from the sender's retry schedule), the sender and its event source, the
 * least-privilege roles, the alarms, the outputs and the variable. No terraform binary needed.
 */
import { Testing } from "cdktf";
import { maxReceiveCountFor } from "../../../functions/sender/schedule";
import { MackerelServerless, type MackerelServerlessProps } from "../../../modules/construct";
import { MackerelServerlessModuleStack } from "../../../modules/construct/module-stack";
import { VARIABLES } from "../../../modules/construct/variables";
import { type Json, synthesized, userStack } from "../../support/construct";
import { statements as policyStatements } from "../../support/synth-text";

const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mackerel-api-key-AbCdEf";
const TOPIC = "arn:aws:sns:eu-west-1:123456789012:ops";

function synthModule(): Json {
  return synthesized(new MackerelServerlessModuleStack(Testing.app(), "mackerel-serverless"));
}

function synthConstruct(props: Partial<MackerelServerlessProps> = {}): { tf: Json; construct: MackerelServerless } {
  const { stack, construct } = userStack({ name: "ms", apiKeySecretArn: SECRET, serviceName: "orders", ...props });
  return { tf: synthesized(stack), construct };
}

/** The statements of a role policy, as {sid: {actions, resource}} (the policy is an HCL jsonencode expression). */
function statements(policy: string): Record<string, { actions: string[]; resource: string }> {
  return Object.fromEntries(
    policyStatements(policy).map((st) => [st.sid, { actions: st.actions, resource: st.resource }]),
  );
}

/** ARNs of the module's own resources: composed from the provider's location (local.aws) and the names. */
const ownArn = (service: string, suffix: string) =>
  `format("arn:%s:%s:%s:%s:%s%s", local.aws.partition, "${service}", local.aws.region, local.aws.account_id, var.name, "${suffix}")`;
const SPOOL_ARN = ownArn("sqs", "-spool.fifo");
const DLQ_ARN = ownArn("sqs", "-spool-dlq.fifo");
/** The secret as given when complete, else AWS's form for a partial ARN. */
const SECRET_RESOURCE =
  'can(regex("-[A-Za-z0-9]{6}$", var.api_key_secret_arn)) ? var.api_key_secret_arn : format("%s-??????", var.api_key_secret_arn)';

describe("the spool in the module", () => {
  const tf = synthModule();
  const queues = tf.resource.aws_sqs_queue as Json;

  test("an SSE-encrypted FIFO spool with a FIFO dead-letter queue and a redrive policy from var.spool_max_age_hours", () => {
    expect(queues.spool).toMatchObject({
      name: "${var.name}-spool.fifo",
      fifo_queue: true,
      sqs_managed_sse_enabled: true,
      message_retention_seconds: 4 * 86400,
      visibility_timeout_seconds: 360,
    });
    expect(queues.spool.redrive_policy).toBe(
      '${jsonencode({"deadLetterTargetArn" = aws_sqs_queue.spool_dead_letter.arn, "maxReceiveCount" = ((var.spool_max_age_hours * 4) + 9)})}',
    );
    expect(queues.spool_dead_letter).toMatchObject({
      name: "${var.name}-spool-dlq.fifo",
      fifo_queue: true,
      sqs_managed_sse_enabled: true,
      message_retention_seconds: 14 * 86400,
    });
    expect(tf.resource.aws_sqs_queue_redrive_allow_policy.spool_dead_letter.redrive_allow_policy).toContain(
      "aws_sqs_queue.spool.arn",
    );
  });

  test("the formula Terraform computes matches the sender's schedule (24 h -> 105 receives)", () => {
    for (const hours of [6, 12, 24]) expect(hours * 4 + 9).toBe(maxReceiveCountFor(hours));
  });

  test("the sender drains the spool with partial batch responses", () => {
    expect(tf.resource.aws_lambda_event_source_mapping.sender_spool).toEqual({
      event_source_arn: "${aws_sqs_queue.spool.arn}",
      function_name: "${aws_lambda_function.sender.arn}",
      batch_size: 10,
      function_response_types: ["ReportBatchItemFailures"],
      tags: "${var.tags}",
    });
    const sender = tf.resource.aws_lambda_function.sender;
    expect(sender).toMatchObject({ function_name: "${var.name}-sender", handler: "index.handler", timeout: 60 });
    expect(sender.environment.variables).toMatchObject({
      SPOOL_QUEUE_URL: "${aws_sqs_queue.spool.url}",
      DEAD_LETTER_QUEUE_URL: "${aws_sqs_queue.spool_dead_letter.url}",
    });
  });

  test("the sender's role: consume the spool, send to the DLQ, read the key; nothing else", () => {
    const policy = statements(tf.resource.aws_iam_role_policy.sender_function.policy);
    expect(policy).toEqual({
      WriteOwnLogs: expect.anything(),
      ReadMackerelApiKey: { actions: ["secretsmanager:GetSecretValue"], resource: SECRET_RESOURCE },
      DrainSpool: {
        actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
        resource: SPOOL_ARN,
      },
      DeadLetterRefusals: { actions: ["sqs:SendMessage"], resource: DLQ_ARN },
      DecryptMackerelApiKey: expect.anything(),
    });
  });

  test("every function that writes to Mackerel gets SPOOL_QUEUE_URL and SendMessage on the spool only", () => {
    const functions = tf.resource.aws_lambda_function as Json;
    const writers = Object.keys(functions).filter(
      (name) => functions[name].environment?.variables?.MACKEREL_API_KEY_SECRET_ARN,
    );
    expect(writers).toEqual(expect.arrayContaining(["metric", "sender"]));
    for (const name of writers.filter((n) => n !== "sender")) {
      expect(functions[name].environment.variables.SPOOL_QUEUE_URL).toBe("${aws_sqs_queue.spool.url}");
      const policy = statements(tf.resource.aws_iam_role_policy[`${name}_function`].policy);
      const sqsStatements = Object.values(policy).filter((s) => s.actions.some((a) => a.startsWith("sqs:")));
      expect(sqsStatements).toEqual([{ actions: ["sqs:SendMessage"], resource: SPOOL_ARN }]);
    }
  });

  test("alarms: errors and throttles of every function, the DLQ holding messages, the spool's oldest message", () => {
    const alarms = tf.resource.aws_cloudwatch_metric_alarm as Json;
    for (const fn of Object.keys(tf.resource.aws_lambda_function as Json)) {
      for (const metric of ["errors", "throttles"]) {
        expect(alarms[`${fn}_${metric}`]).toMatchObject({
          namespace: "AWS/Lambda",
          metric_name: metric === "errors" ? "Errors" : "Throttles",
          dimensions: { FunctionName: `\${aws_lambda_function.${fn}.function_name}` },
          threshold: 1,
        });
      }
    }
    expect(alarms.spool_dead_letters).toMatchObject({
      namespace: "AWS/SQS",
      metric_name: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: "${aws_sqs_queue.spool_dead_letter.name}" },
      comparison_operator: "GreaterThanThreshold",
      threshold: 0,
    });
    expect(alarms.spool_age).toMatchObject({
      metric_name: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: "${aws_sqs_queue.spool.name}" },
      threshold: 3600,
    });
    const actions = "${(length(compact([var.alarm_sns_topic_arn])) < 1) ? [] : [var.alarm_sns_topic_arn]}";
    for (const alarm of Object.values(alarms)) {
      expect(alarm).toMatchObject({ alarm_actions: actions, ok_actions: actions, treat_missing_data: "notBreaching" });
    }
  });

  test("outputs and the spool_max_age_hours variable (validated 6-24 whole hours)", () => {
    expect(tf.output.spool_queue_url.value).toBe("${aws_sqs_queue.spool.url}");
    expect(tf.output.dead_letter_queue_url.value).toBe("${aws_sqs_queue.spool_dead_letter.url}");
    expect(tf.output.sender_function_arn.value).toBe("${aws_lambda_function.sender.arn}");
    const variable = VARIABLES.find((v) => v.name === "spool_max_age_hours")!;
    expect(variable.default).toBe(24);
    expect(variable.validations?.[0]?.errorMessage).toMatch(/^spool_max_age_hours: /);
    expect(tf.variable.spool_max_age_hours.default).toBe(24);
  });
});

describe("the construct with literal props", () => {
  test("a literal topic becomes the actions; literal hours give a literal maxReceiveCount", () => {
    const { tf, construct } = synthConstruct({ alarmSnsTopicArn: TOPIC, spoolMaxAgeHours: 6 });
    const redrive = Object.values(tf.resource.aws_sqs_queue as Json).find(
      (q) => q.name === "ms-spool.fifo",
    ).redrive_policy;
    expect(redrive).toContain('"maxReceiveCount" = 33');
    for (const alarm of Object.values(tf.resource.aws_cloudwatch_metric_alarm as Json)) {
      expect(alarm.alarm_actions).toEqual([TOPIC]);
      expect(alarm.ok_actions).toEqual([TOPIC]);
    }
    expect(construct.alarms.alarms.length).toBe(2 * Object.keys(tf.resource.aws_lambda_function).length + 2);
  });

  test("without a topic the alarms have no actions", () => {
    const { tf } = synthConstruct();
    for (const alarm of Object.values(tf.resource.aws_cloudwatch_metric_alarm as Json))
      expect(alarm.alarm_actions).toEqual([]);
  });
});
