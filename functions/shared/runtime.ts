/**
 * What every function builds once per container from its environment: the API key source, the
 * Mackerel client and the host resolver.
 */
import { type ApiKeySource, SecretsManagerApiKey } from "./api-key.js";
import { type FunctionEnvironment, loadEnvironment } from "./config.js";
import { type Spool, SqsSpool } from "./delivery/spool.js";
import { HostResolver, type HostIdStore } from "./host.js";
import { MackerelClient, type MackerelClientOptions } from "./mackerel-client.js";
import { sharedStateStore } from "./state-store.js";

export interface Runtime {
  env: FunctionEnvironment;
  apiKey: ApiKeySource;
  client: MackerelClient;
  host: HostResolver;
  /** The SQS spool when SPOOL_QUEUE_URL is set: delivery (`delivery/service.ts`) spools retryable failures there. */
  spool?: Spool;
}

export interface RuntimeOverrides {
  apiKey?: ApiKeySource;
  hostIdStore?: HostIdStore;
  /** Client settings of this function (e.g. the sender retries through the queue, so fewer in-call attempts). */
  client?: Partial<Pick<MackerelClientOptions, "maxAttempts" | "timeoutMs" | "backoffBaseMs" | "backoffCapMs">>;
  spool?: Spool;
}

/** Builds the runtime from the environment; throws ConfigurationError naming bad variables. */
export function createRuntime(env: FunctionEnvironment = loadEnvironment(), overrides: RuntimeOverrides = {}): Runtime {
  const apiKey = overrides.apiKey ?? new SecretsManagerApiKey(env.MACKEREL_API_KEY_SECRET_ARN);
  const client = new MackerelClient({ baseUrl: env.MACKEREL_API_BASE_URL, apiKey, ...overrides.client });
  const host = new HostResolver(
    {
      id: env.MACKEREL_HOST_ID,
      name: env.MACKEREL_HOST_NAME,
      customIdentifier: env.MACKEREL_HOST_CUSTOM_IDENTIFIER,
      roles: env.MACKEREL_HOST_ROLES?.split(",")
        .map((r) => r.trim())
        .filter((r) => r !== ""),
    },
    client,
    // With the state table, every container of every function agrees on one host id (and one registration).
    overrides.hostIdStore ??
      (env.STATE_TABLE_NAME && !env.MACKEREL_HOST_ID
        ? sharedStateStore(env.STATE_TABLE_NAME).hostIdStore()
        : undefined),
  );
  const spool =
    overrides.spool ??
    (env.SPOOL_QUEUE_URL
      ? new SqsSpool({ queueUrl: env.SPOOL_QUEUE_URL, origin: process.env.AWS_LAMBDA_FUNCTION_NAME ?? "local" })
      : undefined);
  return { env, apiKey, client, host, spool };
}
