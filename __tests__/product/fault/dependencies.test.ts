/**
 * The fault suite, dependency faults: Secrets Manager, SQS and DynamoDB misbehaving, a retired host and
 * broken answers; every case ends in delivery, the spool or a retried error.
 */
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { dynamoEnvironment, startDynalite } from "../../../scripts/local/dynalite";
import { LocalLambda } from "../../../scripts/local/lambda-runner";
import { makeSubscriptionEvent, textLine } from "../../functions/logs/fixtures";
import { Ledger } from "./ledger";
import { EndlessBodyServer } from "./support/endless-server";
import { API_KEY, DEAD_LETTER, SECRET_ARN, SPOOL } from "./support/world";
import { storedMatches } from "./support/stored-counts";
import { dependencyRows, MINUTE, payload, settleAccounts, useFaultWorld, world } from "./support/accounts";

useFaultWorld();

describe("fault suite: dependency faults (Secrets Manager, SQS, DynamoDB, a retired host, broken answers)", () => {
  /** A metric container of its own, with the world's environment and `env` on top. */
  const startMetric = (env: Record<string, string> = {}, timeoutMs = 30_000) =>
    LocalLambda.start("metric", { env: { ...world.env(), ...env }, timeoutMs });
  const timed = async <T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    const started = Date.now();
    const value = await run();
    return { value, ms: Date.now() - started };
  };
  /** A payload with one of each kind, stamped now; its data go to the ledger as "deliver". */
  const oneOfEach = (label: string, ledger: Ledger) => {
    const now = world.clock.nowSeconds();
    const p = payload({
      metrics: [{ name: `dep.${label}`, value: 1, time: now }],
      hostMetrics: [{ name: `custom.dep.${label}`, value: 2, time: now }],
      checks: [{ name: `dep-${label}`, status: "WARNING", message: `${label} report` }],
    });
    p.data.forEach((d) => ledger.add(d));
    return p.event;
  };

  test("Secrets Manager throttles, then answers 500: the writes are spooled, the sender reads the key later and delivers", async () => {
    await world.fresh();
    const ledger = new Ledger();
    const readsBefore = world.secrets.callsTo("secretsmanager.GetSecretValue").length;
    world.secretsFault = { mode: "throttle", count: 1000 };
    expect(await world.postMetric(oneOfEach("throttled", ledger))).toMatchObject({ spooled: true });
    world.secretsFault = { mode: "internalError", count: 1000 };
    world.clock.advance(MINUTE);
    expect(await world.postMetric(oneOfEach("error500", ledger))).toMatchObject({ spooled: true });
    // Bounded: the SDK's standard retries (3 attempts per read), never more.
    const reads = world.secrets.callsTo("secretsmanager.GetSecretValue").length - readsBefore;
    expect(reads).toBeGreaterThanOrEqual(6);
    expect(reads).toBeLessThanOrEqual(12);
    expect(world.mackerel.requests).toHaveLength(0);
    world.secretsFault = undefined;
    world.clock.advance(MINUTE);
    await world.settle();
    expect(world.sqs.depth(SPOOL)).toBe(0);
    settleAccounts("Secrets Manager throttled / 500", ledger, world.sender, false);
    dependencyRows.push([
      "Secrets Manager ThrottlingException, then 500",
      `spooled (${reads} bounded reads: ${world.secretsFaults.throttle} throttled, ${world.secretsFaults.internalError} answered 500), ` +
        `then delivered by the sender: ${ledger.size} sent, 0 lost`,
    ]);
  });

  test("Secrets Manager accepts the connection and never answers: the function gives up within its time and spools", async () => {
    await world.fresh();
    const ledger = new Ledger();
    const short = await startMetric({}, 10_000);
    try {
      world.secretsFault = { mode: "hang", count: 1000 };
      const { value: outcome, ms } = await timed(() => short.invoke(oneOfEach("hung", ledger)));
      expect(outcome).toMatchObject({ ok: true, result: { spooled: true } });
      expect(ms).toBeLessThan(10_000);
      world.secretsFault = undefined;
      world.clock.advance(MINUTE);
      await world.settle();
      settleAccounts("Secrets Manager never answers", ledger, world.sender, false);
      dependencyRows.push([
        "Secrets Manager never answers",
        `spooled after ${(ms / 1000).toFixed(1)} s of a 10 s timeout (${world.secretsFaults.hang} hung reads), then delivered`,
      ]);
    } finally {
      await short.stop();
    }
  });

  test("Mackerel down and SQS never answers: MackerelUnavailableError within the timeout; the Task's Retry then delivers", async () => {
    await world.fresh();
    const ledger = new Ledger();
    // The SQS client sends to the queue URL's host: both point at the endpoint that never answers.
    const sqsHung = {
      AWS_ENDPOINT_URL_SQS: world.blackHole.url,
      SPOOL_QUEUE_URL: `${world.blackHole.url}/123456789012/${SPOOL}`,
    };
    const noSpool = await startMetric(sqsHung, 15_000);
    try {
      // Resolve the host first (GETs work during the outage), so that the writes carry its id.
      expect(
        await noSpool.invokeOrThrow(payload({ checks: [{ name: "warm", status: "OK", message: "warm" }] }).event),
      ).toMatchObject({ spooled: false });
      ledger.add({ kind: "checkReport", name: "warm", message: "warm", status: "OK" });
      world.mackerel.setOutage(true);
      const event = oneOfEach("both-down", ledger);
      const { value: outcome, ms } = await timed(() => noSpool.invoke(event));
      expect(outcome).toMatchObject({ ok: false, errorType: "MackerelUnavailableError" });
      expect(outcome.ok ? "" : outcome.errorMessage).toMatch(/the spool refused the writes/);
      expect(ms).toBeLessThan(15_000);
      expect(world.blackHole.connections).toBeGreaterThan(0);
      // Step Functions retries the Task (MackerelUnavailableError is in the Retry); Mackerel is back by then.
      world.mackerel.setOutage(false);
      expect(await noSpool.invokeOrThrow(event)).toMatchObject({ spooled: false });
      settleAccounts("Mackerel + SQS down (metric)", ledger, world.sender, false);
      dependencyRows.push([
        "Mackerel down + SQS never answers (metric)",
        `MackerelUnavailableError after ${(ms / 1000).toFixed(1)} s of 15 s; the retried Task delivered, 0 lost`,
      ]);
    } finally {
      await noSpool.stop();
    }
  });

  test("DynamoDB never answers: the metric function does not wait for it (host id, report seconds) and spools", async () => {
    await world.fresh();
    const ledger = new Ledger();
    const hung = await startMetric(
      { AWS_ENDPOINT_URL_DYNAMODB: world.blackHole.url, STATE_TABLE_NAME: "state-that-never-answers" },
      15_000,
    );
    try {
      const { value: outcome, ms } = await timed(() => hung.invoke(oneOfEach("dynamo-hung", ledger)));
      expect(outcome).toMatchObject({ ok: true, result: { spooled: true } });
      expect(ms).toBeLessThan(15_000);
      await world.settle();
      settleAccounts("DynamoDB never answers (metric)", ledger, world.sender, false);
      dependencyRows.push([
        "DynamoDB never answers (metric)",
        `spooled after ${(ms / 1000).toFixed(1)} s of 15 s, then delivered`,
      ]);
    } finally {
      await hung.stop();
    }
  });

  test("logs function with Mackerel and SQS down: the invocation fails, Lambda's retry posts the report, counts stay single", async () => {
    await world.fresh();
    const dynamo = await startDynalite();
    let down: LocalLambda | undefined;
    let retry: LocalLambda | undefined;
    try {
      const table = await dynamo.createStateTable("fault-logs-state");
      const env = {
        ...world.env(),
        MACKEREL_LOG_RULES: JSON.stringify([{ name: "errors", include: ["\\tERROR\\t"] }]),
        MACKEREL_SERVERLESS_OWN_LOG_GROUPS: JSON.stringify(["/aws/lambda/mackerel-serverless-logs"]),
        ...dynamoEnvironment(dynamo, table),
      };
      down = await LocalLambda.start("logs", {
        env: {
          ...env,
          AWS_ENDPOINT_URL_SQS: world.blackHole.url,
          SPOOL_QUEUE_URL: `${world.blackHole.url}/123456789012/${SPOOL}`,
        },
        timeoutMs: 60_000,
      });
      const minute = Math.floor(world.clock.nowSeconds() / 60) * 60 - 60;
      const events = Array.from({ length: 3 }, (_, j) => {
        const timestamp = minute * 1000 + 1000 * j + 17;
        return { message: textLine("ERROR", `order ${j} failed`, j, timestamp), timestamp };
      });
      const event = makeSubscriptionEvent({ logGroup: "/aws/lambda/app", logStream: "s-1", events });
      world.mackerel.setOutage(true);
      const first = await down.invoke(event);
      expect(first).toMatchObject({ ok: false, errorType: "MackerelUnavailableError" });
      expect(world.mackerel.checkReports()).toEqual([]);

      // Lambda's asynchronous retry (another container, the dependencies are back): the report only.
      world.mackerel.setOutage(false);
      retry = await LocalLambda.start("logs", { env, timeoutMs: 60_000 });
      const second = (await retry.invokeOrThrow(event)) as { reports: { posted: number } };
      expect(second.reports.posted).toBe(1);
      const reports = world.mackerel.checkReports().filter((r) => r.name.includes("errors"));
      expect(reports).toHaveLength(1);
      expect(reports[0]!.status).toBe("CRITICAL");
      // The duplicate mark kept the counts single: 3 matches stored once, not twice.
      const stored = await storedMatches(dynamo, table, "errors");
      expect(stored).toBe(3);
      dependencyRows.push([
        "Mackerel + SQS down (logs)",
        `invocation failed (MackerelUnavailableError); the retry posted 1 report; counts stored ${stored} of 3 (single)`,
      ]);
    } finally {
      await Promise.all([down?.stop(), retry?.stop()]);
      await dynamo.close();
    }
  });

  test("an API key with a trailing zero-width space: ConfigurationError naming the secret, nothing spooled or posted", async () => {
    await world.fresh();
    world.secretValues.set(SECRET_ARN, `${API_KEY}\u200b`);
    const outcome = await world.metric.invoke(
      payload({ metrics: [{ name: "zwsp", value: 1, time: world.clock.nowSeconds() }] }).event,
    );
    expect(outcome).toMatchObject({ ok: false, errorType: "ConfigurationError" });
    const message = outcome.ok ? "" : outcome.errorMessage;
    expect(message).toContain(SECRET_ARN);
    expect(message).toContain("U+200B");
    expect(message).not.toContain(API_KEY);
    expect(JSON.stringify(world.metric.logs)).not.toContain(API_KEY);
    expect(world.sqs.depth(SPOOL)).toBe(0);
    expect(world.mackerel.requests).toHaveLength(0);
    dependencyRows.push(["API key + U+200B", `ConfigurationError: ${message.slice(0, 90)}…; 0 spooled, 0 requests`]);
  });

  test("the module's Mackerel host was retired: looked up by custom identifier again, registered, stored, then posted", async () => {
    await world.fresh();
    const dynamo = await startDynalite();
    let metric: LocalLambda | undefined;
    let cold: LocalLambda | undefined;
    try {
      const table = await dynamo.createStateTable("fault-host-state");
      const env = dynamoEnvironment(dynamo, table);
      metric = await startMetric(env);
      const before = payload({
        hostMetrics: [{ name: "custom.host.before", value: 1, time: world.clock.nowSeconds() }],
      });
      expect(await metric.invokeOrThrow(before.event)).toMatchObject({ posted: { hostMetrics: 1 } });
      const retired = world.hostId()!;
      const answer = await fetch(new URL(`api/v0/hosts/${retired}/retire`, world.mackerel.url), {
        method: "POST",
        headers: { "X-Api-Key": API_KEY, "Content-Type": "application/json" },
        body: "{}",
      });
      expect(answer.status).toBe(200);
      expect(world.hostId()).toBeUndefined();

      world.clock.advance(MINUTE);
      const ledger = new Ledger();
      const after = oneOfEach("rehosted", ledger);
      expect(await metric.invokeOrThrow(after)).toMatchObject({
        posted: { serviceMetrics: 1, hostMetrics: 1, checkReports: 1 },
        spooled: false,
      });
      const fresh = world.hostId();
      expect(fresh).toBeDefined();
      expect(fresh).not.toBe(retired);
      const stored = await dynamo.client.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: "host" }, sk: { S: "id" } } }),
      );
      expect(stored.Item?.hostId?.S).toBe(fresh);
      // A write spooled before the host was retired still names it: the sender looks the host up again too.
      const spooledBefore = { name: "custom.host.spooled", value: 7, time: world.clock.nowSeconds() - 60 };
      world.spoolDirectly([{ kind: "hostMetrics", points: [{ hostId: retired, ...spooledBefore }] }], "metric");
      ledger.add({ kind: "hostMetric", ...spooledBefore });
      await world.settle();
      expect(world.sqs.depth(DEAD_LETTER)).toBe(0);
      // A new container reads the new id from the table: no second registration.
      cold = await startMetric(env);
      world.clock.advance(MINUTE);
      expect(await cold.invokeOrThrow(oneOfEach("cold", ledger))).toMatchObject({ spooled: false });
      expect(world.mackerel.hosts().filter((h) => !h.isRetired)).toHaveLength(1);
      // One 404 for the metric function, one for the sender's spooled write.
      const notFound = world.mackerel.requests.filter((r) => r.status === 404 && r.path === "/api/v0/tsdb");
      expect(notFound).toHaveLength(2);
      settleAccounts("retired host", ledger, world.sender, false);
      dependencyRows.push([
        "retired Mackerel host",
        `a 404 each for the metric function and the sender, re-resolved once to a new host (stored in the state table), ${ledger.size} sent, 0 lost`,
      ]);
    } finally {
      await Promise.all([metric?.stop(), cold?.stop()]);
      await dynamo.close();
    }
  });

  test("Mackerel answers 500 with a body that never ends: bounded reads, RSS stays small, the writes are spooled", async () => {
    await world.fresh();
    const endless = await EndlessBodyServer.start();
    const broken = await startMetric({ MACKEREL_API_BASE_URL: endless.url });
    try {
      const ledger = new Ledger();
      const { value: outcome, ms } = await timed(() => broken.invoke(oneOfEach("endless", ledger)));
      expect(outcome).toMatchObject({ ok: true, result: { spooled: true } });
      const { maxRssBytes } = await broken.stats();
      const rssMb = maxRssBytes / 1024 / 1024;
      expect(rssMb).toBeLessThan(160);
      expect(endless.requests).toBeGreaterThan(1);
      await world.settle();
      settleAccounts("endless 500 body", ledger, world.sender, false);
      dependencyRows.push([
        "Mackerel 500 with an endless body",
        `max RSS ${rssMb.toFixed(0)} MB (${endless.requests} requests, ${(endless.bytesSent / 1024 / 1024).toFixed(1)} MB offered), ` +
          `spooled after ${(ms / 1000).toFixed(1)} s, then delivered`,
      ]);
    } finally {
      await broken.stop();
      await endless.close();
    }
  });

  test("CRITICAL then OK for one check within a second, from one container and from two: distinct seconds, the alert closes", async () => {
    await world.fresh();
    const dynamo = await startDynalite();
    let a: LocalLambda | undefined;
    let b: LocalLambda | undefined;
    try {
      const ledger = new Ledger();
      const flap = (name: string, status: "CRITICAL" | "OK", message: string) => {
        ledger.add({ kind: "checkReport", name, message, status });
        return { checks: [{ name, status, message }] };
      };
      // One container (no state table): its own guard.
      await world.postMetric(flap("flap-one", "CRITICAL", "down"));
      await world.postMetric(flap("flap-one", "OK", "up again"));
      // Two containers sharing the state table: the claim.
      const table = await dynamo.createStateTable("fault-seconds-state");
      [a, b] = await Promise.all([
        startMetric(dynamoEnvironment(dynamo, table)),
        startMetric(dynamoEnvironment(dynamo, table)),
      ]);
      await a.invokeOrThrow(flap("flap-two", "CRITICAL", "down"));
      await b.invokeOrThrow(flap("flap-two", "OK", "up again"));
      for (const name of ["flap-one", "flap-two"]) {
        const reports = world.mackerel.checkReports().filter((r) => r.name === name);
        expect(reports.map((r) => r.status)).toEqual(["CRITICAL", "OK"]);
        expect(new Set(reports.map((r) => r.occurredAt)).size).toBe(2);
        expect(
          world.mackerel
            .alertEvents()
            .filter((e) => e.checkName === name)
            .map((e) => e.type),
        ).toEqual(["open", "close"]);
      }
      expect(world.mackerel.counter("ignored.duplicateCheckReports")).toBe(0);
      settleAccounts("CRITICAL then OK within 1 s", ledger, world.sender, true);
      dependencyRows.push([
        "CRITICAL then OK within 1 s",
        "distinct occurredAt (1 and 2 containers), alert opened and closed",
      ]);
    } finally {
      await Promise.all([a?.stop(), b?.stop()]);
      await dynamo.close();
    }
  });

  test("invalid payloads: the field and the rule for every failure, before anything is sent", async () => {
    await world.fresh();
    const cases: [unknown, string][] = [
      [{ metrics: [1] }, "metrics[0]: expected an object {name, value, time?}"],
      [{ checks: "x" }, "checks: expected an array"],
      [{ service: 5, metrics: [{ name: "a", value: 1 }] }, "service: expected a string"],
      [{ metrics: [{ name: "a", value: 1, time: "2026-02-30T00:00:00Z" }] }, "metrics[0].time: is not a valid date"],
    ];
    for (const [event, message] of cases) {
      const outcome = await world.metric.invoke(event);
      expect(outcome).toMatchObject({ ok: false, errorType: "MackerelValidationError" });
      expect(outcome.ok ? "" : outcome.errorMessage).toContain(message);
      expect(outcome.ok ? "" : outcome.errorMessage).not.toContain("Invalid input");
    }
    expect(world.mackerel.requests.filter((r) => r.method === "POST")).toHaveLength(0);
    expect(world.sqs.depth(SPOOL)).toBe(0);
    dependencyRows.push(["invalid payloads", `${cases.length} refused with field + rule, 0 sent`]);
  });
});
