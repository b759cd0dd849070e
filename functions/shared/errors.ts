/**
 * Typed errors shared by every function.
 *
 * Each sets `name` explicitly: Lambda reports `error.name` as the `errorType` that Step Functions
 * matches in Retry/Catch, and minified bundles would otherwise rename the classes.
 *
 * Each also cleans its message before `Error` captures it (and the stack that repeats it): a message
 * leaves the account in Step Functions' error output and the runtime's "Invoke Error" log line, so the
 * API key and whatever the redaction rules catch are masked in it.
 */
import { redactBuiltIn } from "./redact.js";

/** An error message as it may leave the account: registered secrets and secret-looking values masked. */
export function cleanErrorMessage(message: string): string {
  return redactBuiltIn(message);
}

/** Input that can never succeed: Step Functions must not retry it. The message names the field and the rule. */
export class MackerelValidationError extends Error {
  override readonly name = "MackerelValidationError";
  constructor(
    message: string,
    /** Each problem as `path: rule`, for logs and callers that want them one by one. */
    readonly issues: readonly string[] = [message],
  ) {
    super(cleanErrorMessage(message));
    this.issues = issues.map(cleanErrorMessage);
  }
}

/** Mackerel refused the request for good (4xx other than 429): retrying cannot help. */
export class MackerelRejectedError extends Error {
  override readonly name = "MackerelRejectedError";
  constructor(
    message: string,
    readonly status: number,
    /** Mackerel's own message from `{"error":{"message":...}}`, when it sent one (redacted, bounded). */
    readonly mackerelMessage?: string,
  ) {
    super(cleanErrorMessage(message));
    if (mackerelMessage !== undefined) this.mackerelMessage = cleanErrorMessage(mackerelMessage);
  }
}

/** Mackerel could not be reached or kept failing (5xx, 429, timeout, network) after the in-call retries. */
export class MackerelUnavailableError extends Error {
  override readonly name = "MackerelUnavailableError";
  constructor(
    message: string,
    readonly status?: number,
    override readonly cause?: unknown,
  ) {
    super(cleanErrorMessage(message));
  }
}

/** The function's own configuration (environment) is wrong: a deployment problem, not a data problem. */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
  constructor(message: string) {
    super(cleanErrorMessage(message));
  }
}
