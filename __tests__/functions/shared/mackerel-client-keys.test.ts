/**
 * The Mackerel client and API key rotation: a 403 refreshes the key from Secrets Manager once, with the
 * key never showing in an error or a log line.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type ApiKeySource, SecretsManagerApiKey } from "../../../functions/shared/api-key";
import { MackerelRejectedError } from "../../../functions/shared/errors";
import { MackerelClient } from "../../../functions/shared/mackerel-client";
import { LocalAwsJsonServer } from "../../../scripts/local/aws-json-server";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";
import {
  client,
  failure,
  KEY,
  NEW_KEY,
  now,
  OLD_KEY,
  SECRET_ARN,
  server,
  useClientServer,
} from "./mackerel-client-support";
import { startLocalSecretsManager, stopLocalSecretsManager } from "../../support/secrets-manager";

useClientServer();

describe("API key rotation", () => {
  let aws: LocalAwsJsonServer;
  const secrets = new Map<string, string>();
  let sdk: SecretsManagerClient;

  beforeAll(async () => ({ aws, sdk } = await startLocalSecretsManager(secrets)));
  afterAll(() => stopLocalSecretsManager({ aws, sdk }));
  beforeEach(() => {
    aws.calls.length = 0;
    secrets.set(SECRET_ARN, OLD_KEY);
    server.setApiKeys([OLD_KEY]);
  });

  const rotatingClient = (apiKey: ApiKeySource) => client({ apiKey });

  test("after rotation, a 403 makes the client re-read the key once and the request succeeds", async () => {
    const apiKey = new SecretsManagerApiKey(SECRET_ARN, sdk);
    const c = rotatingClient(apiKey);
    const t = now();
    await c.postServiceMetrics("orders", [{ name: "before", time: t, value: 1 }]);

    secrets.set(SECRET_ARN, JSON.stringify({ MACKEREL_API_KEY: NEW_KEY }));
    server.setApiKeys([NEW_KEY]); // the old key is revoked

    await c.postServiceMetrics("orders", [{ name: "after", time: t, value: 2 }]);
    expect(server.requests.map((r) => [r.status, r.apiKeyValid])).toEqual([
      [200, true],
      [403, false],
      [200, true],
    ]);
    expect(server.serviceMetrics("orders").map((m) => m.name)).toEqual(["after", "before"]);
    expect(aws.callsTo("secretsmanager.GetSecretValue")).toHaveLength(2);
    // And the new key sticks: no further reads.
    await c.postServiceMetrics("orders", [{ name: "later", time: t, value: 3 }]);
    expect(aws.callsTo("secretsmanager.GetSecretValue")).toHaveLength(2);
  });

  test("the same works when Mackerel answers 401", async () => {
    const strict = await LocalMackerelServer.start({
      apiKeys: [OLD_KEY],
      services: ["orders"],
      authFailureStatus: 401,
    });
    try {
      const c = new MackerelClient({ baseUrl: strict.url, apiKey: new SecretsManagerApiKey(SECRET_ARN, sdk) });
      await c.postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]);
      secrets.set(SECRET_ARN, NEW_KEY);
      strict.setApiKeys([NEW_KEY]);
      await c.postServiceMetrics("orders", [{ name: "n", time: now(), value: 1 }]);
      expect(strict.requests.map((r) => r.status)).toEqual([200, 401, 200]);
    } finally {
      await strict.close();
    }
  });

  test("a revoked key that was not rotated in Secrets Manager is refused after one re-read, not looped", async () => {
    const c = rotatingClient(new SecretsManagerApiKey(SECRET_ARN, sdk));
    server.setApiKeys([NEW_KEY]);
    const error = (await failure(
      c.postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]),
    )) as MackerelRejectedError;
    expect(error).toBeInstanceOf(MackerelRejectedError);
    expect(error.status).toBe(403);
    expect(error.mackerelMessage).toBe("Authentication failed: invalid API key");
    expect(server.requests).toHaveLength(1);
    expect(aws.callsTo("secretsmanager.GetSecretValue")).toHaveLength(2);
  });

  test("a key rotated to another revoked key is refused after one re-read", async () => {
    const c = rotatingClient(new SecretsManagerApiKey(SECRET_ARN, sdk));
    await c.findHostByCustomIdentifier("x");
    secrets.set(SECRET_ARN, NEW_KEY);
    server.setApiKeys([KEY]);
    const error = (await failure(
      c.postServiceMetrics("orders", [{ name: "m", time: now(), value: 1 }]),
    )) as MackerelRejectedError;
    expect(error.status).toBe(403);
    expect(server.requests.slice(1).map((r) => r.status)).toEqual([403, 403]);
  });

  test("a read-only key is refused (403) with Mackerel's reason", async () => {
    server.setApiKeys([], [OLD_KEY]);
    const error = (await failure(
      rotatingClient(new SecretsManagerApiKey(SECRET_ARN, sdk)).postServiceMetrics("orders", [
        { name: "m", time: now(), value: 1 },
      ]),
    )) as MackerelRejectedError;
    expect(error.status).toBe(403);
    expect(error.mackerelMessage).toBe("This API key does not have write permission");
  });
});
