/**
 * What every function builds once per container from its environment: the API key source, the
 * Mackerel client and the host resolver.
 */
import { type ApiKeySource, SecretsManagerApiKey } from "./api-key.js";
import { type FunctionEnvironment, loadEnvironment } from "./config.js";
import { HostResolver, type HostIdStore } from "./host.js";
import { MackerelClient } from "./mackerel-client.js";

export interface Runtime {
  env: FunctionEnvironment;
  apiKey: ApiKeySource;
  client: MackerelClient;
  host: HostResolver;
}

export interface RuntimeOverrides {
  apiKey?: ApiKeySource;
  hostIdStore?: HostIdStore;
}

/** Builds the runtime from the environment; throws ConfigurationError naming bad variables. */
export function createRuntime(env: FunctionEnvironment = loadEnvironment(), overrides: RuntimeOverrides = {}): Runtime {
  const apiKey = overrides.apiKey ?? new SecretsManagerApiKey(env.MACKEREL_API_KEY_SECRET_ARN);
  const client = new MackerelClient({ baseUrl: env.MACKEREL_API_BASE_URL, apiKey });
  const host = new HostResolver(
    {
      id: env.MACKEREL_HOST_ID,
      name: env.MACKEREL_HOST_NAME,
      customIdentifier: env.MACKEREL_HOST_CUSTOM_IDENTIFIER,
    },
    client,
    overrides.hostIdStore,
  );
  return { env, apiKey, client, host };
}
