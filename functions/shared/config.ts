/**
 * The environment the Terraform module gives every function, validated once per container.
 * It carries the secret's ARN, never the key.
 */
import * as z from "zod/mini";
import { ConfigurationError } from "./errors.js";
import { SERVICE_NAME } from "./names.js";

const optionalString = z.pipe(
  z.optional(z.string()),
  z.transform((value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim())),
);

const environmentSchema = z.object({
  MACKEREL_API_KEY_SECRET_ARN: z.string({ error: "is required" }).check(z.minLength(1, "is required")),
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
  /** JSON array of the module's own log group names: the loop guard. */
  MACKEREL_SERVERLESS_OWN_LOG_GROUPS: optionalString,
  STATE_TABLE_NAME: optionalString,
  /** JSON list of the log rules, for the logs function and the tick run without the module (which sets the digest below). */
  MACKEREL_LOG_RULES: optionalString,
  /** Set by the module: the rules are in the state table item config/log_rules, with this SHA-256 (hex). */
  MACKEREL_LOG_RULES_SHA256: optionalString,
  SPOOL_QUEUE_URL: optionalString,
  /** The spool's dead-letter queue (the sender only: permanent refusals go there with their reason). */
  DEAD_LETTER_QUEUE_URL: optionalString,
});

export type FunctionEnvironment = z.output<typeof environmentSchema>;

/** Parses the function's environment; throws {@link ConfigurationError} naming each bad variable. */
export function loadEnvironment(env: NodeJS.ProcessEnv = process.env): FunctionEnvironment {
  const result = environmentSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigurationError(`invalid function environment: ${problems.join("; ")}`);
  }
  return result.data;
}

/** The names in `MACKEREL_SERVERLESS_OWN_LOG_GROUPS`. */
export function ownLogGroups(env: FunctionEnvironment): string[] {
  if (!env.MACKEREL_SERVERLESS_OWN_LOG_GROUPS) return [];
  const parsed: unknown = JSON.parse(env.MACKEREL_SERVERLESS_OWN_LOG_GROUPS);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === "string")) {
    throw new ConfigurationError("MACKEREL_SERVERLESS_OWN_LOG_GROUPS: must be a JSON array of strings");
  }
  return parsed;
}
