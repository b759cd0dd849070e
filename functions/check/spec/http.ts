/** The `http` check's input: one HTTP request, its status, body and latency. */
import * as z from "zod/mini";
import { compileUserPattern, type UserPattern } from "../../shared/user-regexp.js";
import {
  commonFields,
  commonSpec,
  type CommonSpec,
  fail,
  httpUrl,
  nonEmpty,
  opt,
  parseFields,
  threshold,
  thresholdsOrdered,
  wholeNumber,
} from "./common.js";

export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

export interface HttpSpec extends CommonSpec {
  kind: "http";
  url: string;
  method: (typeof HTTP_METHODS)[number];
  headers: Record<string, string>;
  expectedStatus: number[];
  bodyContains?: string;
  /** RE2, like Terraform's validation: linear time on the whole (1 MiB) body. */
  bodyRegex?: UserPattern;
  timeoutSeconds: number;
  warningLatencyMs?: number;
  criticalLatencyMs?: number;
  followRedirects: boolean;
  /** Secrets Manager secret with more headers and/or basic auth, read by the function (functions/check/http-auth.ts). */
  headersSecretArn?: string;
}

/** Documented defaults (README, variable descriptions). */
export const HTTP_DEFAULTS = {
  method: "GET" as const,
  expectedStatus: [200],
  timeoutSeconds: 10,
  followRedirects: true,
} as const;

/** How an HTTP check authenticates (the README's "HTTP checks that need credentials"). */
export const HTTP_AUTH_HINT =
  // Worded without `"password": …` pairs: error messages are redacted, and a pair would be masked.
  "put the credentials in a Secrets Manager secret (JSON with username and password for basic auth, or with headers) and set headers_secret_arn";

const schema = z.strictObject({
  kind: z.literal("http"),
  ...commonFields,
  url: httpUrl,
  method: opt(z.enum(HTTP_METHODS, { error: `must be one of ${HTTP_METHODS.join(", ")}` })),
  headers: opt(z.record(z.string(), z.string({ error: "header values must be strings" }))),
  expected_status: opt(
    z.array(wholeNumber(100, 599, "(an HTTP status code)")).check(z.minLength(1, "must list at least one status code")),
  ),
  body_contains: opt(nonEmpty),
  body_regex: opt(nonEmpty),
  timeout_seconds: opt(wholeNumber(1, 60, "seconds")),
  warning_latency_ms: opt(threshold),
  critical_latency_ms: opt(threshold),
  follow_redirects: opt(z.boolean({ error: "must be true or false" })),
  headers_secret_arn: opt(
    z
      .string({ error: "must be a string" })
      .check(
        z.regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, "must be a Secrets Manager secret ARN"),
      ),
  ),
  // The secret's key, for the role's kms:Decrypt (the module's policy): Secrets Manager decrypts, not the function.
  headers_secret_kms_key_arn: opt(
    z
      .string({ error: "must be a string" })
      .check(z.regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/.+$/, "must be a KMS key ARN")),
  ),
});

/**
 * Compiles `body_regex` with the engine of the log rules: RE2 syntax and semantics, exactly what Terraform's
 * `regex()` validated, in time linear in the body whatever the pattern.
 *
 * @throws `UserRegExpError` naming the rule broken.
 */
export function compileRegex(pattern: string): UserPattern {
  return compileUserPattern(pattern);
}

/** Validates an `http` check and applies its defaults. */
export function parseHttpSpec(raw: Record<string, unknown>, checkName: string | undefined): HttpSpec {
  const data = parseFields(schema, raw, checkName);
  let bodyRegex: UserPattern | undefined;
  if (data.body_regex !== undefined) {
    try {
      bodyRegex = compileRegex(data.body_regex);
    } catch (error) {
      fail([`check.body_regex: does not compile (${(error as Error).message})`], checkName);
    }
  }
  if (!thresholdsOrdered(data.warning_latency_ms, data.critical_latency_ms, "above")) {
    fail(["check.warning_latency_ms: must be at most critical_latency_ms"], checkName);
  }
  if (URL.canParse(data.url) && (new URL(data.url).username !== "" || new URL(data.url).password !== "")) {
    // fetch refuses such a URL on every run; say how to authenticate instead.
    fail([`check.url: must not hold user info (user:password@); ${HTTP_AUTH_HINT}`], checkName);
  }
  if (data.headers_secret_kms_key_arn && !data.headers_secret_arn) {
    fail(
      ["check.headers_secret_kms_key_arn: is set without headers_secret_arn (it names that secret's key)"],
      checkName,
    );
  }
  return {
    ...commonSpec(data),
    kind: "http",
    url: data.url,
    method: data.method ?? HTTP_DEFAULTS.method,
    headers: data.headers ?? {},
    expectedStatus: data.expected_status ?? [...HTTP_DEFAULTS.expectedStatus],
    bodyContains: data.body_contains,
    bodyRegex,
    timeoutSeconds: data.timeout_seconds ?? HTTP_DEFAULTS.timeoutSeconds,
    warningLatencyMs: data.warning_latency_ms,
    criticalLatencyMs: data.critical_latency_ms,
    followRedirects: data.follow_redirects ?? HTTP_DEFAULTS.followRedirects,
    ...(data.headers_secret_arn ? { headersSecretArn: data.headers_secret_arn } : {}),
  };
}
