/**
 * The module watching itself: CloudWatch alarms on every function's errors and throttles, on the
 * spool's dead-letter queue holding messages and on the spool's oldest message growing old (Mackerel
 * unreachable from the sender for an hour). Actions go to `alarm_sns_topic_arn` when it is given.
 *
 * The functions' own counts (posted, spooled, dropped by reason, rejected) are CloudWatch embedded metric
 * format lines in their logs (functions/shared/emf.ts), namespace `MackerelServerless`.
 */
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { isNullOrEmpty } from "./context";
import type { ModuleFunction } from "./module-function";
import type { Spool } from "./spool";

/** The spool's oldest message may be this old before the alarm fires (s). */
export const SPOOL_AGE_ALARM_SECONDS = 60 * 60;
const PERIOD_SECONDS = 300;

export interface AlarmsProps {
  prefix: string;
  tags: Record<string, string>;
  /** SNS topic for alarm and OK actions; may be a token that is null. */
  alarmSnsTopicArn?: string;
  functions: ModuleFunction[];
  spool?: Spool;
}

/** The alarm/OK action list: empty without a topic; a Terraform conditional for a token that may be null. */
export function alarmActions(topicArn: string | undefined): string[] {
  if (topicArn === undefined || topicArn === "") return [];
  if (!Token.isUnresolved(topicArn)) return [topicArn];
  return Token.asList(Fn.conditional(isNullOrEmpty(topicArn), [], [topicArn]));
}

/** Every alarm of the module. */
export class Alarms extends Construct {
  readonly alarms: CloudwatchMetricAlarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const actions = alarmActions(props.alarmSnsTopicArn);
    const common = {
      period: PERIOD_SECONDS,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching",
      alarmActions: actions,
      okActions: actions,
      tags: props.tags,
    };

    for (const fn of props.functions) {
      const name = fn.functionName.slice(props.prefix.length + 1);
      for (const [metric, what] of [
        ["Errors", "failed (function errors: the invocation threw or timed out)"],
        ["Throttles", "was throttled"],
      ] as const) {
        const alarm = new CloudwatchMetricAlarm(this, `${name}-${metric}`, {
          ...common,
          alarmName: `${fn.functionName}-${metric.toLowerCase()}`,
          alarmDescription: `mackerel-serverless: the ${name} function ${what} in the last 5 minutes.`,
          namespace: "AWS/Lambda",
          metricName: metric,
          dimensions: { FunctionName: fn.lambda.functionName },
          statistic: "Sum",
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          threshold: 1,
        });
        alarm.overrideLogicalId(`${name}_${metric.toLowerCase()}`);
        this.alarms.push(alarm);
      }
    }

    if (props.spool) {
      const deadLetters = new CloudwatchMetricAlarm(this, "dead-letters", {
        ...common,
        alarmName: `${props.prefix}-spool-dead-letters`,
        alarmDescription:
          "mackerel-serverless: the spool's dead-letter queue holds messages (writes Mackerel refused, or that could not be delivered in time). Read their reason attribute.",
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: props.spool.deadLetterQueue.name },
        statistic: "Maximum",
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
      });
      deadLetters.overrideLogicalId("spool_dead_letters");
      const age = new CloudwatchMetricAlarm(this, "spool-age", {
        ...common,
        alarmName: `${props.prefix}-spool-oldest-message`,
        alarmDescription:
          "mackerel-serverless: a spooled write has waited over an hour: Mackerel has been unreachable from the sender (or the sender fails).",
        namespace: "AWS/SQS",
        metricName: "ApproximateAgeOfOldestMessage",
        dimensions: { QueueName: props.spool.queue.name },
        statistic: "Maximum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: SPOOL_AGE_ALARM_SECONDS,
      });
      age.overrideLogicalId("spool_age");
      this.alarms.push(deadLetters, age);
    }
  }
}
