/**
 * The world the logs benchmarks run the built logs function in: the local Mackerel server, a Secrets Manager
 * fake holding the API key, dynalite with the state table, and the zip in a fresh process (LocalLambda) with
 * the heap a 128 MB function leaves JavaScript. Shared by `npm run bench:logs` and `npm run bench:regex`.
 */
import { LocalAwsJsonServer, secretsManagerHandlers } from "../local/aws-json-server";
import { startDynalite } from "../local/dynalite";
import { LocalLambda } from "../local/lambda-runner";
import { LocalMackerelServer } from "../local/mackerel";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-AbCdEf";
const KEY = "bench-api-key";
/** V8 old space for the container: what remains of 128 MB after the runtime, code and buffers. */
export const HEAP_LIMIT_MB = 64;

export interface LogsBenchWorld {
  readonly logs: LocalLambda;
  readonly mackerel: LocalMackerelServer;
  readonly dynamo: Awaited<ReturnType<typeof startDynalite>>;
  close(): Promise<void>;
}

/** Starts the world with `rules` as the function's `MACKEREL_LOG_RULES`; `table` names the state table. */
export async function startLogsBenchWorld(rules: unknown[], table: string): Promise<LogsBenchWorld> {
  const mackerel = await LocalMackerelServer.start({ apiKeys: [KEY], services: ["bench"] });
  const secrets = await LocalAwsJsonServer.start(secretsManagerHandlers(new Map([[SECRET_ARN, KEY]])));
  const dynamo = await startDynalite();
  const tableName = await dynamo.createStateTable(table);
  const logs = await LocalLambda.start("logs", {
    env: {
      MACKEREL_API_KEY_SECRET_ARN: SECRET_ARN,
      MACKEREL_API_BASE_URL: mackerel.url,
      MACKEREL_SERVICE_NAME: "bench",
      MACKEREL_LOG_RULES: JSON.stringify(rules),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
      STATE_TABLE_NAME: tableName,
    },
    timeoutMs: 60_000,
    // The heap a 128 MB function leaves JavaScript: the payloads must be processed within it.
    maxOldSpaceMb: HEAP_LIMIT_MB,
  });
  return {
    logs,
    mackerel,
    dynamo,
    async close() {
      await logs.stop();
      await dynamo.close();
      await secrets.close();
      await mackerel.close();
    },
  };
}
