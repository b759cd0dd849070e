/** The `logs_insights` check's input: a Logs Insights query over log groups, compared with thresholds. */
import * as z from "zod/mini";
import {
  commonFields,
  commonSpec,
  type CommonSpec,
  type Direction,
  directedThresholdFields,
  LOG_GROUP_NAME,
  LOG_GROUP_RULE,
  nonEmpty,
  opt,
  parseFields,
  queryText,
  queryWindowFields,
  requireOrderedThresholds,
} from "./common.js";

export interface LogsInsightsSpec extends CommonSpec {
  kind: "logs_insights";
  logGroupNames: string[];
  query: string;
  windowMinutes: number;
  offsetMinutes: number;
  valueField?: string;
  warning?: number;
  critical?: number;
  direction: Direction;
}

/** Documented defaults (README, variable descriptions). */
export const LOGS_INSIGHTS_DEFAULTS = { windowMinutes: 5, offsetMinutes: 0, direction: "above" as const } as const;

const schema = z.strictObject({
  kind: z.literal("logs_insights"),
  ...commonFields,
  log_group_names: z
    .array(z.string().check(z.regex(LOG_GROUP_NAME, LOG_GROUP_RULE)), { error: "must be a list of log group names" })
    .check(
      z.minLength(1, "must list at least one log group"),
      z.maxLength(50, "must list at most 50 log groups (Logs Insights' limit)"),
    ),
  query: queryText,
  ...queryWindowFields,
  value_field: opt(nonEmpty),
  ...directedThresholdFields,
});

/** Validates a `logs_insights` check and applies its defaults. */
export function parseLogsInsightsSpec(raw: Record<string, unknown>, checkName: string | undefined): LogsInsightsSpec {
  const data = parseFields(schema, raw, checkName);
  const dir = data.direction ?? LOGS_INSIGHTS_DEFAULTS.direction;
  requireOrderedThresholds(data, dir, checkName);
  return {
    ...commonSpec(data),
    kind: "logs_insights",
    logGroupNames: data.log_group_names,
    query: data.query,
    windowMinutes: data.window_minutes ?? LOGS_INSIGHTS_DEFAULTS.windowMinutes,
    offsetMinutes: data.offset_minutes ?? LOGS_INSIGHTS_DEFAULTS.offsetMinutes,
    valueField: data.value_field,
    warning: data.warning,
    critical: data.critical,
    direction: dir,
  };
}
