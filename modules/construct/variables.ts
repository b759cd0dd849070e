/**
 * The module's input variables: one table that the module stack turns into Terraform variables (with
 * their validation blocks) and the README generator turns into the inputs table, in the module's order.
 * The definitions live by concern in `variables/`: general (core.ts), the log pipeline (logs.ts), the
 * scheduled checks (checks.ts, new-kinds.ts); what they share is in rules.ts.
 *
 * Optional object attributes carry their defaults in the type (`optional(type, default)`), so a plan shows
 * what will run; the functions keep the same defaults only as a guard (CDKTF literal items leave them
 * out). Attributes whose absence is the default (no threshold, no body check, Mackerel's own notification
 * interval) stay `optional(type)`: null.
 */
import { CHECK_VARIABLES } from "./variables/checks";
import { MODULE_VARIABLES, RUNTIME_VARIABLES } from "./variables/core";
import { LOG_VARIABLES } from "./variables/logs";
import { OPENSEARCH_QUERY_CHECKS, S3_FRESHNESS_CHECKS } from "./variables/new-kinds";
import type { VariableDefinition } from "./variables/rules";

export { LOG_RULES_MAX_JSON } from "./variables/logs";
export { TF_AOSS_ENDPOINT, TF_ES_ENDPOINT } from "./variables/new-kinds";
export {
  TF_CHECK_NAME,
  TF_ROLE_FULLNAME,
  TF_SCHEDULE,
  TF_SERVICE_NAME,
  type VariableDefinition,
  type VariableValidation,
} from "./variables/rules";

export const VARIABLES: VariableDefinition[] = [
  ...MODULE_VARIABLES,
  ...LOG_VARIABLES,
  ...CHECK_VARIABLES,
  S3_FRESHNESS_CHECKS,
  OPENSEARCH_QUERY_CHECKS,
  ...RUNTIME_VARIABLES,
];
