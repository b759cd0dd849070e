/** The module's outputs: the module stack creates them, the README generator lists them. */
import type { MackerelServerless } from "./mackerel-serverless";

export interface OutputDefinition {
  name: string;
  description: string;
  value: (module: MackerelServerless) => unknown;
}

export const OUTPUTS: OutputDefinition[] = [
  {
    name: "metric_function_arn",
    description: "ARN of the metric function: the Resource of Step Functions Task states that post to Mackerel.",
    value: (m) => m.metric.lambda.arn,
  },
  {
    name: "metric_function_name",
    description: "Name of the metric function (for arn:aws:states:::lambda:invoke FunctionName).",
    value: (m) => m.metric.lambda.functionName,
  },
  {
    name: "invoke_metric_policy_json",
    description:
      "IAM policy document allowing lambda:InvokeFunction on the metric function; attach it to state machine roles.",
    value: (m) => m.invokeMetricPolicyJson,
  },
  {
    name: "spool_queue_url",
    description:
      "URL of the spool (SQS FIFO, SSE): writes Mackerel could not take, waiting for the sender. Give it to your own functions as SPOOL_QUEUE_URL only with sqs:SendMessage.",
    value: (m) => m.spool.queue.url,
  },
  {
    name: "dead_letter_queue_url",
    description:
      "URL of the spool's dead-letter queue: writes Mackerel refused (reason in the message attributes) or that outlived spool_max_age_hours. It has an alarm.",
    value: (m) => m.spool.deadLetterQueue.url,
  },
  {
    name: "sender_function_arn",
    description: "ARN of the sender function, which drains the spool into Mackerel.",
    value: (m) => m.sender.lambda.arn,
  },
  {
    name: "logs_function_arn",
    description:
      "ARN of the logs function, the destination of the module's CloudWatch Logs subscriptions (log_subscriptions, account_log_subscription).",
    value: (m) => m.logs.function.lambda.arn,
  },
  {
    name: "state_table_name",
    description:
      "Name of the DynamoDB state table: per-minute log rule counts, log rule state, the Mackerel host id, the tick lease.",
    value: (m) => m.stateTable.table.name,
  },
  {
    name: "check_function_arn",
    description: "ARN of the check function, which runs the scheduled checks (one EventBridge rule per check).",
    value: (m) => m.checks.function.lambda.arn,
  },
  {
    name: "host_custom_identifier",
    description:
      "Custom identifier of the Mackerel host that check reports and the heartbeat attach to (find it in Mackerel by this).",
    value: (m) => m.hostCustomIdentifier,
  },
  {
    name: "mackerel_monitors",
    description:
      'Mackerel monitor definitions for the module\'s metrics, in the file layout of mkr monitors pull/push ({"monitors": [...]}): a service metric monitor per job_failure_metrics entry and per log rule (logs.<rule>.count above 0), and, when host.roles is set, a connectivity monitor scoped to those roles for the heartbeat. terraform output -json mackerel_monitors > monitors.json; mkr monitors diff -F monitors.json; mkr monitors push -F monitors.json.',
    value: (m) => m.mackerelMonitors,
  },
  {
    name: "own_log_group_names",
    description: "The module's own log groups. Never subscribe them to a log pipeline: they would loop.",
    value: (m) => m.ownLogGroupNames,
  },
];
