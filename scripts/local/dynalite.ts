/**
 * A real DynamoDB implementation (dynalite, in memory) on a free local port, with the state table created as
 * the module creates it (modules/construct/state-table.ts: string keys `pk`/`sk`, on demand). Functions reach
 * it through `AWS_ENDPOINT_URL_DYNAMODB`, exactly as they would reach DynamoDB.
 *
 * dynalite has no TTL deletion (UpdateTimeToLive): expired items stay, which the tests do not rely on.
 */
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { STATE_TABLE_KEYS } from "../../functions/shared/state";
import { LOCAL_AWS_CLIENT_CONFIG } from "./aws-json-server";

export interface LocalDynamo {
  /** `http://127.0.0.1:<port>`: the value of AWS_ENDPOINT_URL_DYNAMODB. */
  readonly url: string;
  /** A client for the tests themselves (fake credentials, the local endpoint). */
  readonly client: DynamoDBClient;
  /** Every operation received, in order (`UpdateItem`, `Query`, ...), e.g. to bound requests per invocation. */
  readonly operations: string[];
  /** Creates a state table (name default `mackerel-serverless-state`) and waits until it is ACTIVE. */
  createStateTable(name?: string): Promise<string>;
  close(): Promise<void>;
}

/** Environment for a process (a LocalLambda) that should use this DynamoDB. */
export function dynamoEnvironment(local: LocalDynamo, tableName: string): Record<string, string> {
  return { AWS_ENDPOINT_URL_DYNAMODB: local.url, STATE_TABLE_NAME: tableName };
}

/** Starts dynalite on 127.0.0.1 and a free port. */
export async function startDynalite(): Promise<LocalDynamo> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- dynalite ships no types
  const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const operations: string[] = [];
  // A second listener that only records: dynalite's own listener answers.
  server.on("request", (req: IncomingMessage) => {
    const target = req.headers["x-amz-target"];
    if (typeof target === "string") operations.push(target.slice(target.indexOf(".") + 1));
  });
  const url = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint: url,
    ...LOCAL_AWS_CLIENT_CONFIG,
  });
  return {
    url,
    client,
    operations,
    async createStateTable(name = "mackerel-serverless-state") {
      const { partitionKey, sortKey } = STATE_TABLE_KEYS;
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [
            { AttributeName: partitionKey, AttributeType: "S" },
            { AttributeName: sortKey, AttributeType: "S" },
          ],
          KeySchema: [
            { AttributeName: partitionKey, KeyType: "HASH" },
            { AttributeName: sortKey, KeyType: "RANGE" },
          ],
        }),
      );
      for (let i = 0; i < 100; i++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        if (Table?.TableStatus === "ACTIVE") return name;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`table ${name} did not become ACTIVE`);
    },
    async close() {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
