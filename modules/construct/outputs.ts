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
    name: "own_log_group_names",
    description: "The module's own log groups. Never subscribe them to a log pipeline: they would loop.",
    value: (m) => m.ownLogGroupNames,
  },
];
