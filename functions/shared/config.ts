/**
 * The environment contract: what the Terraform module sets for each function (modules/construct), as one zod
 * schema per function in which what that function requires is required. A handler parses its schema once per
 * container ({@link parseEnvironment}) and then trusts the values: nothing is re-checked later. The environment
 * carries the secret's ARN, never the key.
 *
 * | schema | function | requires besides the common ones |
 * |---|---|---|
 * | {@link metricEnvironment} | metric | — |
 * | {@link checkEnvironment} | check (a check event) | — |
 * | {@link tickEnvironment} | check (the per-minute tick) | `STATE_TABLE_NAME` |
 * | {@link logsEnvironment} | logs | `STATE_TABLE_NAME` |
 * | {@link senderEnvironment} | sender | `SPOOL_QUEUE_URL`, `DEAD_LETTER_QUEUE_URL` |
 *
 * Common to all: `MACKEREL_API_KEY_SECRET_ARN` and `MACKEREL_SERVICE_NAME` (required), `MACKEREL_API_BASE_URL`
 * and `MACKEREL_HOST_NAME` (defaulted), the optional host settings, `SPOOL_QUEUE_URL` and `STATE_TABLE_NAME`
 * (the shared host id). A blank optional value reads as unset.
 */
import * as z from "zod/mini";
import { ConfigurationError } from "./errors.js";
import { SERVICE_NAME } from "./names.js";

/** An optional variable, trimmed; unset when blank (Terraform sets `""` for an unset optional input). */
const optionalString = z.pipe(
  z.optional(z.string()),
  z.transform((value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim())),
);

/** A variable this function cannot run without; `rule` says who needs it and why (blank counts as unset). */
const requiredString = (rule: string) => z.pipe(optionalString, z.string({ error: rule }));

const commonFields = {
  MACKEREL_API_KEY_SECRET_ARN: requiredString("is required"),
  MACKEREL_API_BASE_URL: z._default(
    z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
    "https://api.mackerelio.com/",
  ),
  MACKEREL_SERVICE_NAME: z
    .string({ error: "is required" })
    .check(z.regex(SERVICE_NAME, "must be 2–63 characters of A-Za-z0-9_- not starting with - or _")),
  MACKEREL_HOST_NAME: z._default(z.string().check(z.minLength(1)), "mackerel-serverless"),
  MACKEREL_HOST_CUSTOM_IDENTIFIER: optionalString,
  MACKEREL_HOST_ID: optionalString,
  /** Role full names the host is registered with, comma-separated (`shop:serverless,shop:batch`). */
  MACKEREL_HOST_ROLES: optionalString,
  /** The spool: writes Mackerel could not take wait there for the sender. */
  SPOOL_QUEUE_URL: optionalString,
  /** With the state table, every container of every function agrees on one Mackerel host id. */
  STATE_TABLE_NAME: optionalString,
};

const logRulesFields = {
  /** JSON list of the log rules, for a function run without the module (which sets the digest below). */
  MACKEREL_LOG_RULES: optionalString,
  /** Set by the module: the rules are in the state table item config/log_rules, with this SHA-256 (hex). */
  MACKEREL_LOG_RULES_SHA256: optionalString,
};

const STATE_USE = "(per-minute counts and rule state)";

/** The metric function: Step Functions' metrics and check reports. */
export const metricEnvironment = z.object(commonFields);

/** The check function, for a check event (the tick has {@link tickEnvironment}). */
export const checkEnvironment = z.object(commonFields);

/** The tick (run by the check function): flushes the log rules' counts, closes alerts. */
export const tickEnvironment = z.object({
  ...commonFields,
  ...logRulesFields,
  STATE_TABLE_NAME: requiredString(`is required by the tick ${STATE_USE}`),
});

/** The logs function: log rules on CloudWatch Logs subscriptions. */
export const logsEnvironment = z.object({
  ...commonFields,
  ...logRulesFields,
  STATE_TABLE_NAME: requiredString(`is required by the logs function ${STATE_USE}`),
  /** JSON array of the module's own log group names: the loop guard (functions/logs/loop-guard.ts parses it). */
  MACKEREL_SERVERLESS_OWN_LOG_GROUPS: optionalString,
});

/** The sender: drains the spool into Mackerel. */
export const senderEnvironment = z.object({
  ...commonFields,
  SPOOL_QUEUE_URL: requiredString("is required by the sender (the queue it drains)"),
  /** The spool's dead-letter queue: permanent refusals go there with their reason. */
  DEAD_LETTER_QUEUE_URL: requiredString("is required by the sender (where permanent refusals go)"),
});

/** What every function reads (the runtime: API key, Mackerel client, host, spool). */
export type FunctionEnvironment = z.output<typeof metricEnvironment>;
export type CheckEnvironment = z.output<typeof checkEnvironment>;
export type TickEnvironment = z.output<typeof tickEnvironment>;
export type LogsEnvironment = z.output<typeof logsEnvironment>;
export type SenderEnvironment = z.output<typeof senderEnvironment>;
/** Where the log rules come from (functions/logs/rule-set.ts). */
export type LogRulesEnvironment = Pick<LogsEnvironment, keyof typeof logRulesFields>;

/**
 * Parses a function's environment with its schema; call once per container and keep the result.
 *
 * @throws ConfigurationError naming each bad variable and the rule it breaks (`VARIABLE: rule; ...`).
 */
export function parseEnvironment<S extends z.ZodMiniType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigurationError(
      result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "),
    );
  }
  return result.data;
}
