/**
 * The API key: parsing the secret (raw or JSON) with messages that never hold the secret, and reading
 * it from Secrets Manager through a real SDK client pointed at the local AWS JSON stand-in.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  classifySecretsManagerError,
  parseApiKeySecret,
  SecretsManagerApiKey,
  StaticApiKey,
} from "../../../functions/shared/api-key";
import { ConfigurationError } from "../../../functions/shared/errors";
import { scrubSecrets } from "../../../functions/shared/logger";
import { LocalAwsJsonServer } from "../../../scripts/local/aws-json-server";
import { startLocalSecretsManager, stopLocalSecretsManager } from "../../support/secrets-manager";

const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-api-key-AbCdEf";
const GET = "secretsmanager.GetSecretValue";

function parseError(secret: string | undefined): ConfigurationError {
  try {
    parseApiKeySecret(secret);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).name).toBe("ConfigurationError");
    return error as ConfigurationError;
  }
  throw new Error("expected the secret to be refused");
}

describe("parseApiKeySecret", () => {
  test.each([
    ["a raw key", "k3yRaw0123456789", "k3yRaw0123456789"],
    ["a raw key with surrounding whitespace", "  k3yRaw0123456789\n", "k3yRaw0123456789"],
    ["JSON with MACKEREL_API_KEY", '{"MACKEREL_API_KEY":"k3yJson0123"}', "k3yJson0123"],
    ["JSON with other fields too", '{"user":"ops","MACKEREL_API_KEY":" k3yJson0123 "}', "k3yJson0123"],
    ["pretty JSON", '{\n  "MACKEREL_API_KEY": "k3yJson0123"\n}\n', "k3yJson0123"],
  ])("accepts %s", (_what, secret, key) => {
    expect(parseApiKeySecret(secret)).toBe(key);
  });

  test.each([
    ["undefined (a binary secret)", undefined, "the API key secret is empty or binary"],
    ["an empty string", "", "the API key secret is empty or binary"],
    ["whitespace", "  \n ", "the API key secret is empty or binary"],
    ["broken JSON", '{"MACKEREL_API_KEY": "s3cr3t-broken', "starts with '{' but is not valid JSON"],
    ["JSON without the field", '{"API_KEY":"s3cr3t-other-field"}', "without a non-empty string field MACKEREL_API_KEY"],
    ["JSON with an empty key", '{"MACKEREL_API_KEY":"  "}', "without a non-empty string field MACKEREL_API_KEY"],
    ["JSON with a numeric key", '{"MACKEREL_API_KEY":12345678}', "without a non-empty string field MACKEREL_API_KEY"],
    ["a key with whitespace inside", "s3cr3t part two", "holds whitespace inside the key"],
    ["a trailing zero-width space (a copy-paste)", "s3cr3tKey0123\u200b", "(U+200B at character 14 of 14)"],
    ["a leading byte-order mark", "\ufeffs3cr3tKey0123", "(U+FEFF at character 1 of 14)"],
    ["a trailing no-break space", "s3cr3tKey0123\u00a0", "(U+00A0 at character 14 of 14)"],
    ["a control character", "s3cr3t\u0007Key0123", "(U+0007 at character 7 of 14)"],
    ["a zero-width space inside JSON", '{"MACKEREL_API_KEY":"s3cr3tKey0123\u200b"}', "(U+200B at character 14 of 14)"],
  ])("refuses %s with a message about the shape only", (_what, secret, message) => {
    const error = parseError(secret);
    expect(error.message).toContain(message);
    // Nothing of the secret's content leaks into the message.
    expect(error.message).not.toMatch(/s3cr3t|12345678/);
  });
});

describe("parseApiKeySecret with the secret's ARN", () => {
  test("names the secret by its ARN, never its value", () => {
    expect(() => parseApiKeySecret("s3cr3tKey0123\u200b", ARN)).toThrow(
      `the API key secret ${ARN} holds a character that cannot be part of an API key (U+200B at character 14 of 14); ` +
        "store the key alone, as printable ASCII",
    );
  });
});

describe("classifySecretsManagerError", () => {
  test.each([
    ["ThrottlingException", "MackerelUnavailableError"],
    ["InternalServiceError", "MackerelUnavailableError"],
    ["TimeoutError", "MackerelUnavailableError"],
    ["AbortError", "MackerelUnavailableError"],
    ["AccessDeniedException", "ConfigurationError"],
    ["ResourceNotFoundException", "ConfigurationError"],
    ["DecryptionFailure", "ConfigurationError"],
  ])("%s → %s", (name, expected) => {
    const error = Object.assign(new Error("m"), { name });
    const classified = classifySecretsManagerError(error, ARN);
    expect(classified.name).toBe(expected);
    expect(classified.message).toContain(ARN);
  });
});

describe("StaticApiKey", () => {
  test("returns its key and registers it as a secret", async () => {
    const key = new StaticApiKey("static-key-0123456789");
    expect(await key.get()).toBe("static-key-0123456789");
    expect(await key.refresh()).toBe("static-key-0123456789");
    expect(scrubSecrets("key=static-key-0123456789")).toBe("key=[secret]");
  });
});

describe("SecretsManagerApiKey against a local Secrets Manager", () => {
  let aws: LocalAwsJsonServer;
  const secrets = new Map<string, string>();
  let sdk: SecretsManagerClient;

  beforeAll(async () => ({ aws, sdk } = await startLocalSecretsManager(secrets, { maxAttempts: 1 })));
  afterAll(() => stopLocalSecretsManager({ aws, sdk }));
  beforeEach(() => {
    secrets.clear();
    aws.calls.length = 0;
  });

  test("reads the key once per container, however many callers", async () => {
    secrets.set(ARN, "first-key-0123456789");
    const key = new SecretsManagerApiKey(ARN, sdk);
    const keys = await Promise.all([key.get(), key.get(), key.get()]);
    expect(keys).toEqual(["first-key-0123456789", "first-key-0123456789", "first-key-0123456789"]);
    expect(await key.get()).toBe("first-key-0123456789");
    expect(aws.callsTo(GET)).toHaveLength(1);
    expect(aws.callsTo(GET)[0]!.input).toEqual({ SecretId: ARN });
  });

  test("reads JSON secrets", async () => {
    secrets.set(ARN, JSON.stringify({ MACKEREL_API_KEY: "json-key-0123456789" }));
    expect(await new SecretsManagerApiKey(ARN, sdk).get()).toBe("json-key-0123456789");
  });

  test("refresh() re-reads after a rotation; later get()s return the new key without another read", async () => {
    secrets.set(ARN, "old-key-0123456789");
    const key = new SecretsManagerApiKey(ARN, sdk);
    expect(await key.get()).toBe("old-key-0123456789");
    secrets.set(ARN, "new-key-0123456789");
    expect(await key.get()).toBe("old-key-0123456789"); // cached until told otherwise
    expect(await key.refresh()).toBe("new-key-0123456789");
    expect(await key.get()).toBe("new-key-0123456789");
    expect(aws.callsTo(GET)).toHaveLength(2);
  });

  test("concurrent refreshes after the same failure share one read", async () => {
    secrets.set(ARN, "old-key-0123456789");
    const key = new SecretsManagerApiKey(ARN, sdk);
    await key.get();
    secrets.set(ARN, "new-key-0123456789");
    const fresh = await Promise.all([key.refresh(), key.refresh(), key.refresh()]);
    expect(fresh).toEqual(["new-key-0123456789", "new-key-0123456789", "new-key-0123456789"]);
    expect(aws.callsTo(GET)).toHaveLength(2);
  });

  test("a failed read is not cached: the next call tries again", async () => {
    const key = new SecretsManagerApiKey(ARN, sdk);
    // A missing secret is a configuration problem, named by its ARN.
    await expect(key.get()).rejects.toMatchObject({
      name: "ConfigurationError",
      message: expect.stringContaining(`${ARN} cannot be read: ResourceNotFoundException`),
    });
    secrets.set(ARN, "late-key-0123456789");
    expect(await key.get()).toBe("late-key-0123456789");
    expect(aws.callsTo(GET)).toHaveLength(2);
  });

  test("a secret of the wrong shape fails without caching and without showing the value", async () => {
    secrets.set(ARN, '{"WRONG":"hidden-value-0123456789"}');
    const key = new SecretsManagerApiKey(ARN, sdk);
    const error = await key.get().catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).not.toContain("hidden-value");
    secrets.set(ARN, "good-key-0123456789");
    expect(await key.get()).toBe("good-key-0123456789");
  });

  test("a failed refresh is not cached either", async () => {
    secrets.set(ARN, "old-key-0123456789");
    const key = new SecretsManagerApiKey(ARN, sdk);
    await key.get();
    secrets.delete(ARN);
    await expect(key.refresh()).rejects.toMatchObject({ name: "ConfigurationError" });
    secrets.set(ARN, "new-key-0123456789");
    expect(await key.get()).toBe("new-key-0123456789");
  });

  test("the key read is registered with the logger's scrubber", async () => {
    secrets.set(ARN, "scrub-me-0123456789");
    await new SecretsManagerApiKey(ARN, sdk).get();
    expect(scrubSecrets("header X-Api-Key: scrub-me-0123456789")).toBe("header X-Api-Key: [secret]");
  });

  test("without a client it builds one that honours AWS_ENDPOINT_URL_SECRETS_MANAGER", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "AKIDLOCAL",
      AWS_SECRET_ACCESS_KEY: "local-secret",
    });
    try {
      secrets.set(ARN, "env-key-0123456789");
      expect(await new SecretsManagerApiKey(ARN).get()).toBe("env-key-0123456789");
      expect(aws.callsTo(GET)).toHaveLength(1);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });
});
