/**
 * 200 log rules end to end from the BUILT zips, against dynalite: the rules are the state table item
 * `config`/`log_rules` (as the module writes it with `aws_dynamodb_table_item`), the functions get only its
 * SHA-256 in their environment, read it once per container, and refuse an item that is not the deployed one.
 */
import { createHash } from "node:crypto";
import type { LogsResult } from "../../../functions/logs/index";
import type { TickResult } from "../../../functions/logs/tick";
import { makeSubscriptionEvent, textLine } from "./fixtures";
import { createWorld, minutesAgo, type World } from "./world";

const RULES = Array.from({ length: 200 }, (_, i) => ({
  name: `rule-${i}`,
  include: [`ERROR code=${i} .*timeout after [0-9]+ ms`],
  exclude: ["HealthCheck"],
}));
const JSON_TEXT = JSON.stringify(RULES);
const DIGEST = createHash("sha256").update(JSON_TEXT).digest("hex");

let world: World;
let table: string;

async function putRulesItem(tableName: string, json: string): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
  await world.dynamo.client.send(
    new sdk.PutItemCommand({
      TableName: tableName,
      Item: { pk: { S: "config" }, sk: { S: "log_rules" }, json: { S: json } },
    }),
  );
}

/** The environment the module gives the functions: the digest, no rules. */
const moduleEnv = (digest = DIGEST) => ({ MACKEREL_LOG_RULES: "", MACKEREL_LOG_RULES_SHA256: digest });

beforeAll(async () => {
  world = await createWorld();
  table = await world.newTable();
  await putRulesItem(table, JSON_TEXT);
});
afterAll(() => world.stop());

test("the rules item is larger than a function's whole environment (4 KB)", () => {
  expect(JSON_TEXT.length).toBeGreaterThan(4 * 1024 * 3);
});

test("the logs function reads 200 rules from the table and matches the first and the last", async () => {
  const logs = await world.startLogs({ table, rules: [], env: moduleEnv() });
  const at = minutesAgo(2);
  const result = (await logs.invokeOrThrow(
    makeSubscriptionEvent({
      startTime: at,
      events: [
        { message: textLine("ERROR", "ERROR code=0 upstream timeout after 3000 ms", 1, at) },
        { message: textLine("ERROR", "ERROR code=199 db timeout after 15 ms", 2, at) },
        { message: textLine("ERROR", "ERROR code=42 HealthCheck timeout after 1 ms", 3, at) }, // excluded
        { message: textLine("INFO", "code=5 all fine", 4, at) },
      ],
    }),
  )) as LogsResult;
  expect(result).toMatchObject({ outcome: "processed", matched: { "rule-0": 1, "rule-199": 1 } });
  expect(Object.keys((result as { matched: object }).matched)).toHaveLength(2);
});

test("the tick reads the same 200 rules: one count point per rule per minute", async () => {
  const check = await world.startCheck({ table, rules: [], env: moduleEnv() });
  const tick = (await check.invokeOrThrow({ tick: {} })) as TickResult;
  expect(tick.outcome).toBe("ticked");
  const points = (tick as { points: Record<string, number> }).points;
  expect(Object.keys(points)).toHaveLength(200);
  expect(points["rule-199"]).toBeGreaterThan(0);
  expect(tick).toMatchObject({ unknown: [] });
});

test("an item that is not the deployed one (a deployment in progress) fails the invocation as retryable", async () => {
  const logs = await world.startLogs({ table, rules: [], env: moduleEnv("0".repeat(64)) });
  const outcome = await logs.invoke(makeSubscriptionEvent({ events: [{ message: "ERROR code=1" }] }));
  expect(outcome).toMatchObject({ ok: false, errorType: "MackerelUnavailableError" });
  expect((outcome as { errorMessage: string }).errorMessage).toMatch(/not the deployed ones.*try again later/);
});

test("a missing item is a configuration error naming the item", async () => {
  const empty = await world.newTable();
  const logs = await world.startLogs({ table: empty, rules: [], env: moduleEnv() });
  const outcome = await logs.invoke(makeSubscriptionEvent({ events: [{ message: "ERROR code=1" }] }));
  expect(outcome).toMatchObject({ ok: false, errorType: "ConfigurationError" });
  expect((outcome as { errorMessage: string }).errorMessage).toContain("has no item config/log_rules");
});
