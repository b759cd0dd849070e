/**
 * The Mackerel API key, read from Secrets Manager once per container and re-read when Mackerel
 * refuses it (the secret was rotated). The key is registered with the logger so it never reaches a log.
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ConfigurationError } from "./errors.js";
import { registerSecret } from "./logger.js";

/** Where the client gets the key from. */
export interface ApiKeySource {
  /** The current key (cached). */
  get(): Promise<string>;
  /** Re-reads the key, e.g. after a 401/403; concurrent callers share one read. */
  refresh(): Promise<string>;
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
 * Errors name the secret's shape, never its content.
 */
export function parseApiKeySecret(secretString: string | undefined): string {
  const text = secretString?.trim();
  if (!text) throw new ConfigurationError("the API key secret is empty or binary; store the key as SecretString");
  if (text.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ConfigurationError("the API key secret starts with '{' but is not valid JSON");
    }
    const key = (parsed as Record<string, unknown>).MACKEREL_API_KEY;
    if (typeof key !== "string" || key.trim() === "") {
      throw new ConfigurationError("the API key secret is JSON without a non-empty string field MACKEREL_API_KEY");
    }
    return key.trim();
  }
  if (/\s/.test(text)) throw new ConfigurationError("the API key secret holds whitespace inside the key");
  return text;
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

  get(): Promise<string> {
    this.current ??= this.read();
    return this.current;
  }

  refresh(): Promise<string> {
    // Callers that saw the same failure share one read instead of each asking Secrets Manager: a read
    // in flight started after their request was refused, so it already sees the rotated secret.
    if (this.refreshing) return this.refreshing;
    this.refreshing = this.read().finally(() => {
      this.refreshing = undefined;
    });
    this.current = this.refreshing;
    return this.refreshing;
  }

  private refreshing: Promise<string> | undefined;

  private async read(): Promise<string> {
    try {
      const sdk = await import("@aws-sdk/client-secrets-manager");
      // Secrets Manager is regional: a secret shared from another region is read there.
      const region = this.secretArn.split(":")[3];
      this.client ??= new sdk.SecretsManagerClient(region ? { region } : {});
      const output = await this.client.send(new sdk.GetSecretValueCommand({ SecretId: this.secretArn }));
      const key = parseApiKeySecret(output.SecretString);
      registerSecret(key);
      return key;
    } catch (error) {
      // A failed read must not stick: the next call tries again.
      this.current = undefined;
      throw error;
    }
  }
}
