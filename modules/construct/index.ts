/** Public API of the CDKTF construct. */
export { MackerelServerless, type MackerelServerlessProps, type LogSubscription } from "./mackerel-serverless";
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
