/**
 * The fault suite, the logs function against a DynamoDB that accepts connections and never answers: its
 * state-table calls (the payload's duplicate mark, the counts, the report second, the host id, the unmark)
 * run one after another. The invocation must still end well inside the function's 60 s timeout with a
 * retryable error, not be killed at it (before the fix it was: the SDK only warned at its request timeout,
 * and every call waited again), post its report through a host id from Mackerel, and Lambda's retry must
 * count the payload once when DynamoDB is back.
 */
import { dynamoEnvironment, startDynalite } from "../../../scripts/local/dynalite";
import { LocalLambda } from "../../../scripts/local/lambda-runner";
import { makeSubscriptionEvent, textLine } from "../../functions/logs/fixtures";
import { storedMatches } from "./support/stored-counts";
import { dependencyRows, useFaultWorld, world } from "./support/accounts";

/** The logs function's timeout in the module (modules/construct/log-monitoring.ts). */
const LOGS_TIMEOUT_MS = 60_000;

useFaultWorld();

test("DynamoDB never answers: the logs invocation fails with a retryable error within its timeout; the retry counts once", async () => {
  await world.fresh();
  const rules = JSON.stringify([{ name: "errors", include: ["\\tERROR\\t"] }]);
  const ownLogGroups = JSON.stringify(["/aws/lambda/mackerel-serverless-logs"]);
  const hung = await LocalLambda.start("logs", {
    env: {
      ...world.env(),
      MACKEREL_LOG_RULES: rules,
      MACKEREL_SERVERLESS_OWN_LOG_GROUPS: ownLogGroups,
      AWS_ENDPOINT_URL_DYNAMODB: world.blackHole.url,
      STATE_TABLE_NAME: "state-that-never-answers",
    },
    timeoutMs: LOGS_TIMEOUT_MS,
  });
  const dynamo = await startDynalite();
  let retry: LocalLambda | undefined;
  try {
    const minute = Math.floor(world.clock.nowSeconds() / 60) * 60 - 60;
    const events = Array.from({ length: 3 }, (_, j) => {
      const timestamp = minute * 1000 + 1000 * j + 17;
      return { message: textLine("ERROR", `order ${j} failed`, j, timestamp), timestamp };
    });
    const event = makeSubscriptionEvent({ logGroup: "/aws/lambda/app", logStream: "s-hung", events });

    const started = Date.now();
    const first = await hung.invoke(event);
    const ms = Date.now() - started;
    // Not killed at the timeout: a typed, retryable error, with time to spare.
    expect(first).toMatchObject({ ok: false, errorType: "MackerelUnavailableError" });
    expect(ms).toBeLessThan(LOGS_TIMEOUT_MS - 5_000);

    // Lambda's retry, DynamoDB back: the counts are stored once.
    const table = await dynamo.createStateTable("fault-dynamo-logs");
    retry = await LocalLambda.start("logs", {
      env: {
        ...world.env(),
        MACKEREL_LOG_RULES: rules,
        MACKEREL_SERVERLESS_OWN_LOG_GROUPS: ownLogGroups,
        ...dynamoEnvironment(dynamo, table),
      },
      timeoutMs: LOGS_TIMEOUT_MS,
    });
    await retry.invokeOrThrow(event);
    const stored = await storedMatches(dynamo, table, "errors");
    expect(stored).toBe(3);
    const reports = world.mackerel.checkReports().filter((r) => r.name.includes("errors"));
    // The first invocation posted too (its host id looked up in Mackerel), and so did the retry.
    expect(reports.length).toBe(2);
    expect(reports.every((r) => r.status === "CRITICAL")).toBe(true);
    dependencyRows.push([
      "DynamoDB never answers (logs)",
      `invocation failed after ${(ms / 1000).toFixed(1)} s of 60 s (MackerelUnavailableError); ` +
        `the retry counted ${stored} of 3 once; ${reports.length} CRITICAL report(s)`,
    ]);
  } finally {
    await Promise.all([hung.stop(), retry?.stop()]);
    await dynamo.close();
  }
});
