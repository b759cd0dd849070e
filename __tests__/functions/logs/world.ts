/**
 * The world of the log monitoring tests: dynalite (real DynamoDB) with the state table, the strict local
 * Mackerel server, the Secrets Manager stand-in, and the BUILT logs and check functions run from their zips
 * (modules/mackerel-serverless/dist) in Lambda-like processes, configured as the module configures them.
 */
import { join } from "node:path";
import { LocalAwsJsonServer, secretsManagerHandlers } from "../../../scripts/local/aws-json-server";
import { dynamoEnvironment, type LocalDynamo, startDynalite } from "../../../scripts/local/dynalite";
import { LocalLambda } from "../../../scripts/local/lambda-runner";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";

export const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-api-key-AbCdEf";
export const API_KEY = "logs-world-key-0123456789";
export const SERVICE = "orders";
export const HOST_NAME = "log-monitoring-test";
export const CUSTOM_IDENTIFIER = "mackerel-serverless/us-east-1/123456789012/log-monitoring-test";
/** The module's own log groups for the default name prefix (what the module passes). */
export const OWN_LOG_GROUPS = ["metric", "logs", "check", "sender"].map(
  (fn) => `/aws/lambda/mackerel-serverless-${fn}`,
);

/** The test-only clock preload (never bundled): shifts Date in a Lambda process by the offset in a file. */
export const FAKE_CLOCK_PRELOAD = join(__dirname, "..", "..", "product", "fault", "support", "fake-clock.cjs");

export interface World {
  mackerel: LocalMackerelServer;
  aws: LocalAwsJsonServer;
  dynamo: LocalDynamo;
  /** Creates a fresh state table (isolates one scenario from the others). */
  newTable(): Promise<string>;
  /** Starts the logs function from its zip with the given rules and table (stopped by {@link World.stop}). */
  startLogs(options: { table: string; rules: unknown[]; env?: Record<string, string> }): Promise<LocalLambda>;
  /** Starts the check function (which runs the tick) from its zip. */
  startCheck(options: { table: string; rules: unknown[]; env?: Record<string, string> }): Promise<LocalLambda>;
  stop(): Promise<void>;
}

export async function createWorld(options: { now?: () => number } = {}): Promise<World> {
  const mackerel = await LocalMackerelServer.start({ apiKeys: [API_KEY], services: [SERVICE], now: options.now });
  const secrets = new Map([[SECRET_ARN, API_KEY]]);
  const aws = await LocalAwsJsonServer.start(secretsManagerHandlers(secrets));
  const dynamo = await startDynalite();
  const lambdas: LocalLambda[] = [];
  let tables = 0;

  const environment = (table: string, rules: unknown[], extra: Record<string, string> = {}) => ({
    MACKEREL_API_KEY_SECRET_ARN: SECRET_ARN,
    MACKEREL_API_BASE_URL: mackerel.url,
    MACKEREL_SERVICE_NAME: SERVICE,
    MACKEREL_HOST_NAME: HOST_NAME,
    MACKEREL_HOST_CUSTOM_IDENTIFIER: CUSTOM_IDENTIFIER,
    MACKEREL_LOG_RULES: JSON.stringify(rules),
    MACKEREL_SERVERLESS_OWN_LOG_GROUPS: JSON.stringify(OWN_LOG_GROUPS),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    ...dynamoEnvironment(dynamo, table),
    ...extra,
  });
  const start = async (name: "logs" | "check", table: string, rules: unknown[], env?: Record<string, string>) => {
    const lambda = await LocalLambda.start(name, { env: environment(table, rules, env), timeoutMs: 60_000 });
    lambdas.push(lambda);
    return lambda;
  };

  return {
    mackerel,
    aws,
    dynamo,
    newTable: () => dynamo.createStateTable(`state-${++tables}`),
    startLogs: ({ table, rules, env }) => start("logs", table, rules, env),
    startCheck: ({ table, rules, env }) => start("check", table, rules, env),
    async stop() {
      // No log line of any container ever held the key.
      for (const lambda of lambdas) for (const line of lambda.logs) expect(line).not.toContain(API_KEY);
      await Promise.all(lambdas.map((l) => l.stop()));
      await mackerel.close();
      await aws.close();
      await dynamo.close();
    },
  };
}

/** The current epoch minute (seconds) minus `n` minutes, in ms: event timestamps are data. */
export function minutesAgo(n: number, plusMs = 0): number {
  return (Math.floor(Date.now() / 60_000) - n) * 60_000 + plusMs;
}

/**
 * Waits until `probe` returns a value (not undefined/false): a function's log lines travel over its stdout
 * pipe, which may deliver them a moment after the invocation's result.
 */
export async function eventually<T>(probe: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
