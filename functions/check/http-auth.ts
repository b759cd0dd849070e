/**
 * Credentials of HTTP checks from Secrets Manager (`headers_secret_arn`): read by the check function at
 * run time, so header values never travel in the EventBridge rule's input nor sit in Terraform state.
 *
 * The secret is a JSON object with `headers` (header name → value) and/or `username` + `password`
 * (sent as `Authorization: Basic ...`):
 *
 *     {"headers": {"Authorization": "Bearer eyJ...", "X-Api-Key": "..."}}
 *     {"username": "monitor", "password": "..."}
 *
 * Values are registered with the logger's scrubber; errors name the secret's ARN and its shape, never
 * a value. A secret is read once per container and re-read after {@link SECRET_HEADERS_TTL_MS} (rotation).
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { classifySecretsManagerError } from "../shared/api-key.js";
import { deadlineSignal, sdkClientConfig } from "../shared/aws-sdk.js";
import { ConfigurationError } from "../shared/errors.js";
import { registerSecret } from "../shared/logger.js";

/** How long a read secret is used before it is read again (picks up rotations). */
export const SECRET_HEADERS_TTL_MS = 5 * 60 * 1000;

/** RFC 9110 token characters: what a header name may hold. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value: visible ASCII, spaces and tabs (no CR/LF: no header injection), not empty. */
const HEADER_VALUE = /^[\t\x20-\x7e]+$/;
/** Headers the function sets itself or that make no sense for a check. */
const RESERVED = new Set(["host", "content-length", "transfer-encoding", "connection"]);

/** Parses the secret string into headers (lower-case names); throws ConfigurationError naming the rule broken. */
export function parseHeadersSecret(secretString: string | undefined, secretArn: string): Record<string, string> {
  const fail = (rule: string): never => {
    throw new ConfigurationError(`the headers secret ${secretArn} ${rule}`);
  };
  if (!secretString?.trim()) return fail("is empty or binary; store a JSON object as SecretString");
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    return fail('is not JSON; expected {"headers": {...}} and/or {"username": "...", "password": "..."}');
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return fail('is not a JSON object; expected {"headers": {...}} and/or {"username": "...", "password": "..."}');
  }
  const record = parsed as Record<string, unknown>;
  const unknownKeys = Object.keys(record).filter((k) => !["headers", "username", "password"].includes(k));
  if (unknownKeys.length > 0) {
    fail(`has unknown fields ${unknownKeys.map((k) => `"${k}"`).join(", ")}; expected headers, username, password`);
  }
  const headers: Record<string, string> = {};
  if (record.headers !== undefined) {
    if (record.headers === null || typeof record.headers !== "object" || Array.isArray(record.headers)) {
      fail("field headers: expected an object of header name → string value");
    }
    for (const [name, value] of Object.entries(record.headers as Record<string, unknown>)) {
      if (!HEADER_NAME.test(name)) fail(`field headers: "${name.slice(0, 40)}" is not a valid header name`);
      if (RESERVED.has(name.toLowerCase())) fail(`field headers: ${name} is set by the check itself`);
      if (typeof value !== "string" || !HEADER_VALUE.test(value)) {
        fail(`field headers.${name}: expected a non-empty string of printable ASCII (no line breaks)`);
      }
      headers[name.toLowerCase()] = value as string;
    }
  }
  const hasUser = record.username !== undefined;
  const hasPassword = record.password !== undefined;
  if (hasUser !== hasPassword) fail("needs both username and password for basic auth");
  if (hasUser) {
    if (typeof record.username !== "string" || record.username === "" || record.username.includes(":")) {
      fail("field username: expected a non-empty string without ':'");
    }
    if (typeof record.password !== "string") fail("field password: expected a string");
    if (headers.authorization !== undefined) fail("sets both headers.Authorization and username/password");
    const token = Buffer.from(`${record.username as string}:${record.password as string}`, "utf8").toString("base64");
    headers.authorization = `Basic ${token}`;
    registerSecret(record.password as string);
  }
  if (Object.keys(headers).length === 0) fail("holds no headers and no username/password");
  for (const value of Object.values(headers)) registerSecret(value);
  return headers;
}

/** Reads and caches headers secrets (one read per secret in flight; failures are not cached). */
export class SecretHeaders {
  private readonly cache = new Map<string, { headers: Promise<Record<string, string>>; readAt: number }>();
  private client: Pick<SecretsManagerClient, "send"> | undefined;

  constructor(
    client?: Pick<SecretsManagerClient, "send">,
    private readonly now: () => number = Date.now,
  ) {
    this.client = client;
  }

  /**
   * The headers of `secretArn`.
   * @throws ConfigurationError (missing secret, no permission, bad shape) or MackerelUnavailableError
   * (Secrets Manager throttling, 5xx or no answer in time); the check reports it as UNKNOWN.
   */
  get(secretArn: string, remainingMs: number): Promise<Record<string, string>> {
    const cached = this.cache.get(secretArn);
    if (cached && this.now() - cached.readAt < SECRET_HEADERS_TTL_MS) return cached.headers;
    const headers = this.read(secretArn, remainingMs);
    this.cache.set(secretArn, { headers, readAt: this.now() });
    headers.catch(() => this.cache.delete(secretArn));
    return headers;
  }

  private async read(secretArn: string, remainingMs: number): Promise<Record<string, string>> {
    const sdk = await import("@aws-sdk/client-secrets-manager");
    this.client ??= new sdk.SecretsManagerClient(sdkClientConfig());
    let output;
    try {
      output = await this.client.send(new sdk.GetSecretValueCommand({ SecretId: secretArn }), {
        abortSignal: deadlineSignal(remainingMs, 10_000, 500),
      });
    } catch (error) {
      throw classifySecretsManagerError(error, secretArn, "the headers secret");
    }
    return parseHeadersSecret(output.SecretString, secretArn);
  }
}
