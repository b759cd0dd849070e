/**
 * Typed errors shared by every function.
 *
 * Each sets `name` explicitly: Lambda reports `error.name` as the `errorType` that Step Functions
 * matches in Retry/Catch, and minified bundles would otherwise rename the classes.
 */

/** Input that can never succeed: Step Functions must not retry it. The message names the field and the rule. */
export class MackerelValidationError extends Error {
  override readonly name = "MackerelValidationError";
  constructor(
    message: string,
    /** Each problem as `path: rule`, for logs and callers that want them one by one. */
    readonly issues: readonly string[] = [message],
  ) {
    super(message);
  }
}

/** Mackerel refused the request for good (4xx other than 429): retrying cannot help. */
export class MackerelRejectedError extends Error {
  override readonly name = "MackerelRejectedError";
  constructor(
    message: string,
    readonly status: number,
    /** Mackerel's own message from `{"error":{"message":...}}`, when it sent one. */
    readonly mackerelMessage?: string,
  ) {
    super(message);
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
    super(message);
  }
}

/** The function's own configuration (environment) is wrong: a deployment problem, not a data problem. */
export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}
