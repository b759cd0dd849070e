/**
 * Every error class the functions throw, under one base, {@link MackerelServerlessError}.
 *
 * Each sets `name` explicitly: Lambda reports `error.name` as the `errorType` that Step Functions matches in
 * Retry/Catch (modules/construct/step-functions.ts `RETRYABLE_ERRORS`), and minified bundles would otherwise
 * rename the classes. Never rename one.
 *
 * The base cleans the message before `Error` captures it (and the stack that repeats it): a message leaves the
 * account in Step Functions' error output and the runtime's "Invoke Error" log line, so the API key and
 * whatever the redaction rules catch are masked in it. The error that caused one is passed to `Error` as its
 * standard `cause` (ES2022), which the logger follows (functions/shared/logger.ts).
 *
 * | class | `name` (errorType) | thrown when |
 * |---|---|---|
 * | {@link MackerelValidationError} | `MackerelValidationError` | input that can never succeed (not retried) |
 * | {@link CheckInputError} | `MackerelValidationError` | an invalid check input (the same errorType) |
 * | {@link MackerelRejectedError} | `MackerelRejectedError` | Mackerel refused a request for good (4xx) |
 * | {@link MackerelUnavailableError} | `MackerelUnavailableError` | Mackerel, the spool or the state table can be tried again later |
 * | {@link ConfigurationError} | `ConfigurationError` | the function's environment or secret is wrong |
 * | {@link LogRuleConfigError} | `LogRuleConfigError` | the `log_rules` configuration is invalid |
 * | {@link UserRegExpError} | `UserRegExpError` | a user pattern cannot be used |
 * | {@link ListingIncomplete} | `ListingIncomplete` | a Step Functions listing cannot finish (the check reports UNKNOWN) |
 */
import { redactBuiltIn } from "./redact.js";

/** An error message as it may leave the account: registered secrets and secret-looking values masked. */
export function cleanErrorMessage(message: string): string {
  return redactBuiltIn(message);
}

/** What an error may carry besides its message: the error that caused it. */
export interface ErrorDetails {
  cause?: unknown;
}

/** The base of every error the functions throw: a cleaned message and the standard `cause`. */
export abstract class MackerelServerlessError extends Error {
  abstract override readonly name: string;

  constructor(message: string, details: ErrorDetails = {}) {
    // No `cause` key at all when there is none: `"cause" in error` then says there is no cause.
    super(cleanErrorMessage(message), details.cause === undefined ? undefined : { cause: details.cause });
  }
}

/** Input that can never succeed: Step Functions must not retry it. The message names the field and the rule. */
export class MackerelValidationError extends MackerelServerlessError {
  override readonly name = "MackerelValidationError";
  /** Each problem as `path: rule`, for logs and callers that want them one by one. */
  readonly issues: readonly string[];

  constructor(message: string, issues: readonly string[] = [message], details?: ErrorDetails) {
    super(message, details);
    this.issues = issues.map(cleanErrorMessage);
  }
}

/** An invalid check input. `checkName` is set when the name itself is valid, so the check can still report. */
export class CheckInputError extends MackerelValidationError {
  constructor(
    message: string,
    issues: readonly string[],
    readonly checkName?: string,
  ) {
    super(message, issues);
  }
}

/** Mackerel refused the request for good (4xx other than 429): retrying cannot help. */
export class MackerelRejectedError extends MackerelServerlessError {
  override readonly name = "MackerelRejectedError";
  /** Mackerel's own message from `{"error":{"message":...}}`, when it sent one (redacted, bounded). */
  readonly mackerelMessage?: string;

  constructor(
    message: string,
    readonly status: number,
    mackerelMessage?: string,
  ) {
    super(message);
    if (mackerelMessage !== undefined) this.mackerelMessage = cleanErrorMessage(mackerelMessage);
  }
}

/** Mackerel could not be reached or kept failing (5xx, 429, timeout, network) after the in-call retries. */
export class MackerelUnavailableError extends MackerelServerlessError {
  override readonly name = "MackerelUnavailableError";

  constructor(
    message: string,
    readonly status?: number,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

/**
 * The state table did not answer within this invocation: an earlier call got no answer through all of the
 * SDK's attempts, or the invocation's time for the table is spent. Callers treat it as any failed call.
 */
export class StateTableUnavailableError extends MackerelServerlessError {
  override readonly name = "StateTableUnavailableError";
}

/** The function's own configuration (environment) is wrong: a deployment problem, not a data problem. */
export class ConfigurationError extends MackerelServerlessError {
  override readonly name = "ConfigurationError";
}

/** One problem of the rule configuration: which rule, which field, which rule of ours it breaks. */
export interface LogRuleIssue {
  /** Position in the `log_rules` list; absent for a problem of the list itself. */
  readonly index?: number;
  /** The rule's `name`, when it has a usable one. */
  readonly rule?: string;
  /** The field, with item positions: `include[1]`. */
  readonly field: string;
  readonly problem: string;
}

/** The `log_rules` configuration is invalid; the message lists every problem as `log_rules[i] ("name").field: rule`. */
export class LogRuleConfigError extends MackerelServerlessError {
  override readonly name = "LogRuleConfigError";

  /** Each problem, its text cleaned like the message. */
  readonly issues: readonly LogRuleIssue[];

  constructor(issues: readonly LogRuleIssue[]) {
    super(issues.map(formatLogRuleIssue).join("; "));
    this.issues = issues.map((issue) => ({ ...issue, problem: cleanErrorMessage(issue.problem) }));
  }
}

function formatLogRuleIssue(issue: LogRuleIssue): string {
  if (issue.index === undefined) return `log_rules: ${issue.problem}`;
  const rule = issue.rule !== undefined ? ` (${JSON.stringify(issue.rule)})` : "";
  const field = issue.field === "" ? "" : `.${issue.field}`;
  return `log_rules[${issue.index}]${rule}${field}: ${issue.problem}`;
}

/** Why a user pattern was refused. */
export type RegExpProblem = "empty" | "too-long" | "syntax";

/** A user pattern that cannot be used; `message` states the rule broken, for the caller to prefix with the field. */
export class UserRegExpError extends MackerelServerlessError {
  override readonly name = "UserRegExpError";

  constructor(
    message: string,
    readonly problem: RegExpProblem,
    readonly pattern: string,
  ) {
    super(message);
  }
}

/** A Step Functions listing cannot finish (too many executions, no time left); the check becomes UNKNOWN. */
export class ListingIncomplete extends MackerelServerlessError {
  override readonly name = "ListingIncomplete";
}
