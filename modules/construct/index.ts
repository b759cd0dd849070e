/**
 * Public API of the CDKTF construct (the `mackerel-serverless` package):
 * `import { MackerelServerless, jobStates } from "mackerel-serverless"`.
 */
export {
  type AccountLogSubscriptionProps,
  type LogSubscription,
  MackerelServerless,
  type MackerelServerlessProps,
} from "./mackerel-serverless";
export type {
  CheckAlertSettings,
  CheckBase,
  HostProps,
  HttpCheck,
  LogFreshnessCheck,
  LogRule,
  LogsInsightsCheck,
  SfnExecutionCheck,
  VpcConfigProps,
} from "./props";
export { PropValidationError } from "./validate-props";
export { FUNCTION_NAMES, type FunctionCode, type FunctionName, ModuleFunction } from "./module-function";
export { VARIABLES, type VariableDefinition } from "./variables";
export { OUTPUTS, type OutputDefinition } from "./outputs";
export {
  jobStates,
  type JobStatesProps,
  METRIC_TASK_RETRY,
  NEVER_RETRIED_ERRORS,
  RETRYABLE_ERRORS,
  retryProblems,
} from "./step-functions";
