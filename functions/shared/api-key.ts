/**
 * The Mackerel API key, read from Secrets Manager once per container and re-read when Mackerel
 * refuses it (the secret was rotated). The key is registered with the logger so it never reaches a log.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { deadlineSignal, sdkClientConfig } from "./aws-sdk.js";
import { ConfigurationError, MackerelUnavailableError } from "./errors.js";
import { registerSecret } from "./logger.js";

/** Where the client gets the key from. */
export interface ApiKeySource {
  /**
   * The current key (cached).
   * @param remainingMs - time the invocation has left: a read from Secrets Manager gives up before it
   * @throws ConfigurationError when the secret is missing, unreadable or malformed (never retried)
   * @throws MackerelUnavailableError when Secrets Manager could not answer now (throttling, 5xx, timeout)
   */
  get(remainingMs?: number): Promise<string>;
  /** Re-reads the key, e.g. after a 401/403; concurrent callers share one read. */
  refresh(remainingMs?: number): Promise<string>;
}

/**
 * Secrets Manager errors that retrying cannot fix: the secret or the function's permissions are wrong.
 * Anything else (ThrottlingException, InternalServiceError, 5xx, timeouts, network) is "try again later".
 */
const CONFIGURATION_FAULTS = new Set([
  "AccessDeniedException",
  "ResourceNotFoundException",
  "DecryptionFailure",
  "InvalidRequestException",
  "InvalidParameterException",
  "UnrecognizedClientException",
]);

/** ASCII whitespace around a key is never part of it (a trailing newline from `echo`): it is trimmed. */
const SURROUNDING_ASCII_SPACE = /^[ \t\r\n]+|[ \t\r\n]+$/g;
/** A Mackerel API key is printable ASCII without spaces. */
const KEY_CHARACTER = /^[\x21-\x7e]$/;

/** The first character that cannot be part of a key, as `U+XXXX at character N` (never the key itself). */
function badCharacter(key: string): string | undefined {
  let index = 0;
  for (const ch of key) {
    index++;
    if (!KEY_CHARACTER.test(ch)) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      return `U+${code} at character ${index} of ${[...key].length}`;
    }
  }
  return undefined;
}

/** A fixed key: for local tools and tests. */
export class StaticApiKey implements ApiKeySource {
  constructor(private readonly key: string) {
    registerSecret(key);
  }
  async get(): Promise<string> {
    return this.key;
  }
  async refresh(): Promise<string> {
    return this.key;
  }
}

/**
 * Extracts the key from a secret string: either the raw key or JSON with `MACKEREL_API_KEY`.
 * Errors name the secret (its ARN, when given) and its shape, never its content. A key holding a
 * character that is not printable ASCII (a zero-width space pasted with it, a no-break space, a control
 * character) is refused here: Mackerel would refuse it on every request, and that must not look like an
 * outage to be spooled and retried for days.
 */
export function parseApiKeySecret(secretString: string | undefined, secretArn?: string): string {
  const secret = secretArn ? `the API key secret ${secretArn}` : "the API key secret";
  const text = secretString?.replace(SURROUNDING_ASCII_SPACE, "");
  if (!text) throw new ConfigurationError(`${secret} is empty or binary; store the key as SecretString`);
  let key = text;
  if (text.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ConfigurationError(`${secret} starts with '{' but is not valid JSON`);
    }
    const field = (parsed as Record<string, unknown>).MACKEREL_API_KEY;
    const trimmed = typeof field === "string" ? field.replace(SURROUNDING_ASCII_SPACE, "") : "";
    if (trimmed === "") {
      throw new ConfigurationError(`${secret} is JSON without a non-empty string field MACKEREL_API_KEY`);
    }
    key = trimmed;
  }
  if (/[ \t\r\n]/.test(key)) throw new ConfigurationError(`${secret} holds whitespace inside the key`);
  const bad = badCharacter(key);
  if (bad) {
    throw new ConfigurationError(
      `${secret} holds a character that cannot be part of an API key (${bad}); store the key alone, as printable ASCII`,
    );
  }
  return key;
}

/**
 * Reads the key from Secrets Manager (endpoint overridable with AWS_ENDPOINT_URL_SECRETS_MANAGER).
 *
 * The SDK client is loaded on the first read, not at import: it is most of a bundle's import time
 * (see the README's cold-start table), and paths that never need the key should not pay for it.
 */
export class SecretsManagerApiKey implements ApiKeySource {
  private current: Promise<string> | undefined;
  private client: Pick<SecretsManagerClient, "send"> | undefined;

  constructor(
    private readonly secretArn: string,
    client?: Pick<SecretsManagerClient, "send">,
  ) {
    this.client = client;
  }

  get(remainingMs?: number): Promise<string> {
    this.current ??= this.read(remainingMs);
    // A read started by a caller with more time (or none) must not hold this one past its deadline.
    return withinDeadline(this.current, remainingMs, this.secretArn);
  }

  refresh(remainingMs?: number): Promise<string> {
    // Callers that saw the same failure share one read instead of each asking Secrets Manager: a read
    // in flight started after their request was refused, so it already sees the rotated secret.
    if (this.refreshing) return this.refreshing;
    this.refreshing = this.read(remainingMs).finally(() => {
      this.refreshing = undefined;
    });
    this.current = this.refreshing;
    return this.refreshing;
  }

  private refreshing: Promise<string> | undefined;

  private async read(remainingMs = Number.POSITIVE_INFINITY): Promise<string> {
    try {
      const sdk = await import("@aws-sdk/client-secrets-manager");
      // Secrets Manager is regional: a secret shared from another region is read there.
      const region = this.secretArn.split(":")[3];
      this.client ??= new sdk.SecretsManagerClient({ ...sdkClientConfig(), ...(region ? { region } : {}) });
      let output;
      try {
        output = await this.client.send(new sdk.GetSecretValueCommand({ SecretId: this.secretArn }), {
          abortSignal: deadlineSignal(remainingMs, KEY_READ_CAP_MS),
        });
      } catch (error) {
        throw classifySecretsManagerError(error, this.secretArn);
      }
      const key = parseApiKeySecret(output.SecretString, this.secretArn);
      registerSecret(key);
      return key;
    } catch (error) {
      // A failed read must not stick: the next call tries again.
      this.current = undefined;
      throw error;
    }
  }
}

/** Longest one key read may take, the SDK's retries included: Secrets Manager answers in milliseconds when up. */
const KEY_READ_CAP_MS = 6000;

/** Time kept for what follows a key read that ran out of time (spooling, failing the invocation). */
const KEY_READ_RESERVE_MS = 1500;

/** `read`, or MackerelUnavailableError once `remainingMs` (less a reserve) has passed. */
async function withinDeadline(
  read: Promise<string>,
  remainingMs: number | undefined,
  secretArn: string,
): Promise<string> {
  if (remainingMs === undefined || !Number.isFinite(remainingMs)) return read;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new MackerelUnavailableError(
            `Secrets Manager unavailable reading the API key secret ${secretArn}: no answer in time`,
          ),
        ),
      Math.max(0, remainingMs - KEY_READ_RESERVE_MS),
    );
  });
  try {
    return await Promise.race([read, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A Secrets Manager failure as one of the module's error names: {@link ConfigurationError} when the secret
 * or the permissions are wrong, {@link MackerelUnavailableError} ("try again later") for the rest, after
 * the SDK's own bounded retries. The message names the secret and the error, never a value.
 */
export function classifySecretsManagerError(
  error: unknown,
  secretArn: string,
  what: string = "the API key secret",
): Error {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  const type = name ?? "Error";
  if (CONFIGURATION_FAULTS.has(type)) {
    return new ConfigurationError(`${what} ${secretArn} cannot be read: ${type}: ${message ?? ""}`.trim());
  }
  const failure = type === "AbortError" || type === "TimeoutError" ? "no answer in time" : `${type}: ${message ?? ""}`;
  return new MackerelUnavailableError(
    `Secrets Manager unavailable reading ${what} ${secretArn}: ${failure}`.trim(),
    undefined,
    error,
  );
}
