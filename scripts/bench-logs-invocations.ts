/**
 * The built logs function in a local container against dynalite and the local Mackerel server: how many
 * Mackerel and DynamoDB requests one invocation makes at 10, 1,000 and 10,000 events (bounded by the
 * rules matched and the minutes touched, not by events), and the container's peak memory after the
 * 10,000-event (~2 MB) payload. Reproduce with `npm run bench:logs`.
 */
import type { LogsResult } from "../functions/logs/index";
import { LocalAwsJsonServer, secretsManagerHandlers } from "./local/aws-json-server";
import { startDynalite } from "./local/dynalite";
import { LocalLambda } from "./local/lambda-runner";
import { LocalMackerelServer } from "./local/mackerel";
import { BENCH_RULES, encodeSubscriptionEvent, generatePayload } from "./local/log-events";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-AbCdEf";
const KEY = "bench-api-key";
/** V8 old space for the container: what remains of 128 MB after the runtime, code and buffers. */
export const HEAP_LIMIT_MB = 64;

export interface InvocationCounts {
  events: number;
  rulesMatched: number;
  minutesTouched: number;
  mackerelRequests: number;
  dynamoRequests: number;
  ms: number;
}

export interface LogsInvocationFigures {
  rows: InvocationCounts[];
  peakRssBytes: number;
}

export async function measureLogsInvocations(sizes = [10, 1_000, 10_000]): Promise<LogsInvocationFigures> {
  const mackerel = await LocalMackerelServer.start({ apiKeys: [KEY], services: ["bench"] });
  const secrets = await LocalAwsJsonServer.start(secretsManagerHandlers(new Map([[SECRET_ARN, KEY]])));
  const dynamo = await startDynalite();
  const table = await dynamo.createStateTable("bench-state");
  const logs = await LocalLambda.start("logs", {
    env: {
      MACKEREL_API_KEY_SECRET_ARN: SECRET_ARN,
      MACKEREL_API_BASE_URL: mackerel.url,
      MACKEREL_SERVICE_NAME: "bench",
      MACKEREL_LOG_RULES: JSON.stringify(BENCH_RULES),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
      STATE_TABLE_NAME: table,
    },
    timeoutMs: 60_000,
    // The heap a 128 MB function leaves JavaScript: the 10,000-event payload must be processed within it.
    maxOldSpaceMb: HEAP_LIMIT_MB,
  });
  try {
    // Warm the container (key read, host look-up), as after the first delivery.
    await logs.invokeOrThrow(encodeSubscriptionEvent(generatePayload({ events: 10, errorRate: 1, seed: 1 })));
    const rows: InvocationCounts[] = [];
    for (const [index, events] of sizes.entries()) {
      // Events spread over the last few minutes, 2 % of them errors; a distinct stream per payload.
      const payload = generatePayload({
        events,
        errorRate: 0.02,
        stepMs: Math.max(1, Math.floor(180_000 / events)),
        seed: 7 + index,
      });
      payload.logStream = `bench/${events}`;
      const minutes = new Set(
        (payload.logEvents as { timestamp: number }[]).map((e) => Math.floor(e.timestamp / 60_000)),
      );
      const mackerelBefore = mackerel.requests.length;
      const dynamoBefore = dynamo.operations.length;
      const started = performance.now();
      const result = (await logs.invokeOrThrow(encodeSubscriptionEvent(payload))) as LogsResult;
      const ms = performance.now() - started;
      if (result.outcome !== "processed")
        throw new Error(`the logs function did not process the payload: ${result.outcome}`);
      rows.push({
        events,
        rulesMatched: Object.keys(result.matched).length,
        minutesTouched: minutes.size,
        mackerelRequests: mackerel.requests.length - mackerelBefore,
        dynamoRequests: dynamo.operations.length - dynamoBefore,
        ms,
      });
    }
    return { rows, peakRssBytes: (await logs.stats()).maxRssBytes };
  } finally {
    await logs.stop();
    await dynamo.close();
    await secrets.close();
    await mackerel.close();
  }
}

export function logsInvocationTable(figures: LogsInvocationFigures): string {
  const rows = figures.rows.map(
    (r) =>
      `| ${r.events.toLocaleString("en-US")} | ${r.rulesMatched} | ${r.minutesTouched} | ${r.mackerelRequests} | ${r.dynamoRequests} | ${r.ms.toFixed(0)} ms |`,
  );
  const mb = figures.peakRssBytes / 1024 / 1024;
  return [
    "| events | rules matched | minutes touched | Mackerel requests | DynamoDB requests | invocation |",
    "|---:|---:|---:|---:|---:|---:|",
    ...rows,
    "",
    `Container run with a ${HEAP_LIMIT_MB} MB V8 heap limit; peak RSS after the 10,000-event payload: ${mb.toFixed(0)} MB (limit of a 128 MB function: ${mb < 128 ? "fits ✓" : "does NOT fit ✗"}).`,
  ].join("\n");
}

if (require.main === module) {
  measureLogsInvocations()
    .then((figures) => console.log(logsInvocationTable(figures)))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
