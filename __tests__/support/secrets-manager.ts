/** A local Secrets Manager (the AWS JSON stand-in) and an SDK client pointed at it, for suites that read keys. */
import { SecretsManagerClient, type SecretsManagerClientConfig } from "@aws-sdk/client-secrets-manager";
import {
  LOCAL_AWS_CLIENT_CONFIG,
  LocalAwsJsonServer,
  secretsManagerHandlers,
} from "../../scripts/local/aws-json-server";

/** Serves `secrets` (ARN → SecretString); the client takes `config` on top of the local defaults. */
export async function startLocalSecretsManager(
  secrets: Map<string, string>,
  config: SecretsManagerClientConfig = {},
): Promise<{ aws: LocalAwsJsonServer; sdk: SecretsManagerClient }> {
  const aws = await LocalAwsJsonServer.start(secretsManagerHandlers(secrets));
  return { aws, sdk: new SecretsManagerClient({ endpoint: aws.url, ...LOCAL_AWS_CLIENT_CONFIG, ...config }) };
}

/** Stops what {@link startLocalSecretsManager} started. */
export async function stopLocalSecretsManager(started: { aws: LocalAwsJsonServer; sdk: SecretsManagerClient }) {
  started.sdk.destroy();
  await started.aws.close();
}
