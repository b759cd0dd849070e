/**
 * The fault suite, delivery: the BUILT metric and sender functions against the local Mackerel server with
 * fault injection and the SQS stand-in (FIFO spool + dead-letter queue), on one controllable clock. It
 * proves that nothing is lost: after each scenario every datum inside Mackerel's windows is in Mackerel
 * exactly once, and everything else was counted as expired (by the sender) or rejected (with its reason).
 */
import { SPOOL_HOST_PLACEHOLDER } from "../../../functions/shared/delivery/host-placeholder";
import { SPOOL_MESSAGE_GROUP_ID } from "../../../functions/shared/delivery/spool";
import { LocalLambda } from "../../../scripts/local/lambda-runner";
import { Ledger } from "./ledger";
import { DEAD_LETTER, emfTotals, SERVICE, SPOOL } from "./support/world";
import { MINUTE, notes, payload, settleAccounts, useFaultWorld, world } from "./support/accounts";

useFaultWorld();

describe("fault suite: built handlers, local Mackerel with faults, local SQS, one clock", () => {
  test("a 3-hour outage with data arriving throughout: after recovery all of it is in Mackerel exactly once, the too-old counted as expired", async () => {
    await world.fresh();
    const ledger = new Ledger();
    const start = world.clock.nowSeconds();

    // Left on the spool by another function during an earlier outage: a check report 5 h 50 min old
    // (expires 10 minutes into this one) and a metric 23 h old (expires after an hour).
    world.spoolDirectly(
      [
        {
          kind: "serviceMetrics",
          service: SERVICE,
          points: [{ name: "earlier.outage", time: start - 23 * 3600, value: 5 }],
        },
        {
          kind: "checkReports",
          reports: [
            {
              source: { type: "host", hostId: SPOOL_HOST_PLACEHOLDER },
              name: "earlier-check",
              status: "CRITICAL",
              message: "from an earlier outage",
              occurredAt: start - (5 * 3600 + 50 * 60),
            },
          ],
        },
      ],
      "check",
    );
    ledger.add(
      { kind: "serviceMetric", service: SERVICE, name: "earlier.outage", time: start - 23 * 3600, value: 5 },
      "expire",
    );
    ledger.add(
      { kind: "checkReport", name: "earlier-check", message: "from an earlier outage", status: "CRITICAL" },
      "expire",
    );

    // Mackerel goes down before the metric function ever resolved its host: host metrics and check
    // reports are spooled with the placeholder host, which the sender resolves after recovery.
    world.mackerel.setOutage(true);
    const step = async (label: string, i: number) => {
      const now = world.clock.nowSeconds();
      const { event, data } = payload({
        metrics: [
          { name: "orders.processed", value: i, time: now },
          { name: "orders.latency_ms", value: 100 + i, time: now },
        ],
        hostMetrics: [{ name: "custom.pipeline.heartbeat", value: 1, time: now }],
        checks: [{ name: "orders-job", status: i % 4 === 3 ? "CRITICAL" : "OK", message: `${label} ${i}` }],
      });
      for (const d of data) ledger.add(d);
      return { event, result: await world.postMetric(event) };
    };

    for (let i = 0; i <= 12; i++) {
      const { event, result } = await step("outage", i);
      if (i === 0) {
        // A backfilled point 22 h old: accepted (inside 24 h), but it will be 25 h old at recovery.
        const backfill = { name: "orders.backfill", value: 7, time: world.clock.nowSeconds() - 22 * 3600 };
        const extra = await world.postMetric({ metrics: [backfill] });
        expect(extra.spooled).toBe(true);
        ledger.add({ kind: "serviceMetric", service: SERVICE, ...backfill }, "expire");
      }
      expect(event).toBeDefined();
      expect(result).toEqual({ posted: { serviceMetrics: 0, hostMetrics: 0, checkReports: 0 }, spooled: true });
      await world.pump(); // the sender tries, fails, backs off
      if (i < 12) world.clock.advance(15 * MINUTE);
    }
    expect(world.clock.nowSeconds() - start).toBeGreaterThanOrEqual(3 * 3600);
    expect(world.sqs.depth(DEAD_LETTER)).toBe(0);
    expect(world.mackerel.serviceMetrics()).toEqual([]);

    // Mackerel is back; traffic goes on.
    world.mackerel.setOutage(false);
    for (let i = 0; i < 8; i++) {
      world.clock.advance(5 * MINUTE);
      await step("recovered", i);
      await world.pump();
    }
    await world.settle();

    expect(world.sqs.depth(SPOOL)).toBe(0);
    expect(world.sqs.depth(DEAD_LETTER)).toBe(0);
    expect(world.mackerel.hosts().filter((h) => !h.isRetired)).toHaveLength(1);
    const f = settleAccounts("3 h outage", ledger, world.sender, true);
    expect(f.expired).toBe(3);
    // Every status change of the check reached Mackerel in order: the alerts opened and closed.
    expect(world.mackerel.counter("ignored.outOfOrderCheckReports")).toBe(0);
    const statuses = [...Array.from({ length: 13 }, (_, i) => i), ...Array.from({ length: 8 }, (_, i) => i)].map((i) =>
      i % 4 === 3 ? "CRITICAL" : "OK",
    );
    const expectedEvents: string[] = [];
    let open = false;
    for (const status of statuses) {
      if (status !== "OK" && !open) expectedEvents.push("open");
      if (status === "OK" && open) expectedEvents.push("close");
      open = status !== "OK";
    }
    expect(
      world.mackerel
        .alertEvents()
        .filter((e) => e.checkName === "orders-job")
        .map((e) => e.type),
    ).toEqual(expectedEvents);
  });

  test("30% random 5xx/429 over 10,000 writes: 0 lost, 0 duplicated", async () => {
    await world.fresh();
    const ledger = new Ledger();
    world.mackerel.injectFaults({ mode: "errorRate", rate: 0.3, seed: 20_240_601, statuses: [500, 502, 503, 429] });
    let spooledInvocations = 0;
    for (let i = 0; i < 100; i++) {
      const now = world.clock.nowSeconds();
      const { event, data } = payload({
        metrics: Array.from({ length: 80 }, (_, j) => ({ name: `load.m${j}`, value: i * 1000 + j, time: now })),
        hostMetrics: Array.from({ length: 10 }, (_, j) => ({
          name: `custom.load.h${j}`,
          value: i * 100 + j,
          time: now,
        })),
        checks: Array.from({ length: 10 }, (_, j) => ({
          name: `load-c${j}`,
          status: (["OK", "WARNING", "CRITICAL"] as const)[(i + j) % 3]!,
          message: `load ${i}`,
        })),
      });
      for (const d of data) ledger.add(d);
      const result = await world.postMetric(event);
      if (result.spooled) spooledInvocations++;
      await world.pump();
      world.clock.advance(MINUTE);
    }
    expect(ledger.size).toBe(10_000);
    await world.settle();
    world.mackerel.clearFaults();
    await world.settle();
    expect(world.sqs.depth(SPOOL)).toBe(0);
    expect(world.sqs.depth(DEAD_LETTER)).toBe(0);
    // The faults did bite: some writes went through the spool.
    expect(world.mackerel.counter("faults.errorRate")).toBeGreaterThan(80);
    expect(spooledInvocations).toBeGreaterThan(0);
    settleAccounts("30% 5xx/429, 10,000 writes", ledger, world.sender, false);
    notes.push(
      `30% scenario: ${world.mackerel.requests.length} requests, ${world.mackerel.counter("faults.errorRate")} answered 5xx/429, ` +
        `${spooledInvocations} of 100 invocations spooled part of their writes`,
    );
    expect(world.mackerel.counter("ignored.outOfOrderCheckReports")).toBe(0);
  });

  test("slow responses past the timeout, connection resets, Retry-After, a response lost after the write", async () => {
    await world.fresh();
    const ledger = new Ledger();
    const next = () => world.clock.advance(MINUTE);

    // Slower than the function can wait: the call gives up in time, spools, and succeeds (spooled: true).
    const short = await LocalLambda.start("metric", { env: world.env(), timeoutMs: 7000 });
    const slow = payload({ metrics: [{ name: "slow.metric", value: 1, time: world.clock.nowSeconds() }] });
    slow.data.forEach((d) => ledger.add(d));
    try {
      world.mackerel.injectFaults({
        mode: "delay",
        ms: 8000,
        pathPrefix: `/api/v0/services/${SERVICE}/tsdb`,
        count: 1,
      });
      const started = Date.now();
      expect(await short.invokeOrThrow(slow.event)).toMatchObject({ spooled: true });
      expect(Date.now() - started).toBeLessThan(7000);
    } finally {
      await short.stop();
    }
    next();

    // Two connection resets: retried within the call.
    world.mackerel.injectFaults({ mode: "reset", pathPrefix: "/api/v0/tsdb", count: 2 });
    const reset = payload({ hostMetrics: [{ name: "custom.reset.metric", value: 2, time: world.clock.nowSeconds() }] });
    reset.data.forEach((d) => ledger.add(d));
    expect(await world.postMetric(reset.event)).toMatchObject({ posted: { hostMetrics: 1 }, spooled: false });
    expect(world.mackerel.counter("faults.reset")).toBe(2);
    next();

    // 429 with Retry-After: 2 s is honoured before the retry.
    world.mackerel.injectFaults({
      mode: "status",
      status: 429,
      retryAfter: 2,
      pathPrefix: `/api/v0/services/${SERVICE}/tsdb`,
      count: 1,
    });
    const limited = payload({ metrics: [{ name: "limited.metric", value: 3, time: world.clock.nowSeconds() }] });
    limited.data.forEach((d) => ledger.add(d));
    expect(await world.postMetric(limited.event)).toMatchObject({ posted: { serviceMetrics: 1 }, spooled: false });
    const posts = world.mackerel.requests.filter(
      (r) => r.path.endsWith("/tsdb") && (r.body as { name: string }[])[0]?.name === "limited.metric",
    );
    expect(posts.map((r) => r.status)).toEqual([429, 200]);
    expect(posts[1]!.receivedAt - posts[0]!.receivedAt).toBeGreaterThanOrEqual(2000);
    next();

    // The check report is stored but the response is lost: the retry carries the same occurredAt and
    // Mackerel ignores it as a duplicate.
    world.mackerel.injectFaults({ mode: "acceptThenReset", pathPrefix: "/api/v0/monitoring/checks/report", count: 1 });
    const lost = payload({ checks: [{ name: "lost-response", status: "WARNING", message: "stored once" }] });
    lost.data.forEach((d) => ledger.add(d));
    expect(await world.postMetric(lost.event)).toMatchObject({ posted: { checkReports: 1 }, spooled: false });
    expect(world.mackerel.counter("ignored.duplicateCheckReports")).toBe(1);

    await world.mackerel.whenIdle(); // the slow request finishes its write on the server
    await world.settle();
    settleAccounts("timeouts, resets, Retry-After", ledger, world.sender, false);
    // The slow write reached Mackerel twice (its late processing, then the spooled copy): one value kept.
    const slowPoint = slow.data[0] as { name: string; time: number };
    expect(
      world.mackerel.writeCount("serviceMetric", { service: SERVICE, name: slowPoint.name, time: slowPoint.time }),
    ).toBe(2);
  });

  test("400 responses: no retry, no spool, the reason logged; refused spooled writes go to the DLQ with it", async () => {
    await world.fresh();
    const ledger = new Ledger();
    const tsdb = `/api/v0/services/${SERVICE}/tsdb`;

    world.mackerel.injectFaults({
      mode: "status",
      status: 400,
      message: "metric refused by policy",
      pathPrefix: tsdb,
      count: 1,
    });
    const refused = payload({ metrics: [{ name: "refused.now", value: 1, time: world.clock.nowSeconds() }] });
    refused.data.forEach((d) => ledger.add(d, "reject"));
    const outcome = await world.metric.invoke(refused.event);
    expect(outcome).toMatchObject({ ok: false, errorType: "MackerelRejectedError" });
    expect(outcome.ok ? "" : outcome.errorMessage).toContain("metric refused by policy");
    expect(world.mackerel.requests.filter((r) => r.path === tsdb)).toHaveLength(1);
    expect(world.sqs.depth(SPOOL)).toBe(0);
    expect(world.metric.jsonLogs().some((r) => JSON.stringify(r).includes("metric refused by policy"))).toBe(true);
    expect(emfTotals(world.metric).WritesRejected).toBe(1);
    world.clock.advance(MINUTE);

    // Spooled during an outage, then refused when the sender posts it: dead-lettered with the reason.
    world.mackerel.setOutage(true);
    const later = payload({ metrics: [{ name: "refused.later", value: 2, time: world.clock.nowSeconds() }] });
    later.data.forEach((d) => ledger.add(d, "reject"));
    expect(await world.postMetric(later.event)).toMatchObject({ spooled: true });
    world.mackerel.setOutage(false);
    world.mackerel.injectFaults({
      mode: "status",
      status: 400,
      message: "metric refused later",
      pathPrefix: tsdb,
      count: 1,
    });
    const before = world.mackerel.requests.length;
    // And a message no function could have written.
    world.sqs.send(SPOOL, {
      MessageBody: "{not json",
      MessageGroupId: SPOOL_MESSAGE_GROUP_ID,
      MessageDeduplicationId: "junk",
    });
    world.clock.advance(MINUTE);
    await world.settle();
    expect(world.mackerel.requests.slice(before).filter((r) => r.path === tsdb)).toHaveLength(1);
    expect(world.sqs.depth(SPOOL)).toBe(0);
    const dead = world.sqs.messages(DEAD_LETTER);
    expect(dead.map((m) => m.messageAttributes.reason?.StringValue)).toEqual([
      expect.stringMatching(/^rejected: .*400.*metric refused later/),
      expect.stringMatching(/^malformed: the message body is not JSON/),
    ]);
    expect(dead[0]!.messageAttributes.status?.StringValue).toBe("400");
    expect(dead[0]!.messageAttributes.mackerelMessage?.StringValue).toBe("metric refused later");
    expect(JSON.parse(dead[0]!.body)).toMatchObject({
      v: 1,
      writes: [{ kind: "serviceMetrics", points: [{ name: "refused.later" }] }],
    });
    expect(world.sender.jsonLogs().some((r) => JSON.stringify(r).includes("metric refused later"))).toBe(true);
    settleAccounts("400 refusals", ledger, world.sender, false);
  });

  test("the same SQS message delivered twice: Mackerel ends up with one value and one report", async () => {
    await world.fresh();
    const ledger = new Ledger();
    world.mackerel.setOutage(true);
    const { event, data } = payload({
      metrics: [{ name: "dup.metric", value: 42, time: world.clock.nowSeconds() }],
      hostMetrics: [{ name: "custom.dup.metric", value: 43, time: world.clock.nowSeconds() }],
      checks: [{ name: "dup-check", status: "CRITICAL", message: "delivered twice" }],
    });
    data.forEach((d) => ledger.add(d));
    expect(await world.postMetric(event)).toMatchObject({ spooled: true });
    world.mackerel.setOutage(false);
    const [message] = world.sqs.messages(SPOOL);
    world.sqs.duplicate(SPOOL, message!.messageId);
    expect(world.sqs.depth(SPOOL)).toBe(2);
    await world.settle();

    // Both copies were posted...
    const reportPosts = world.mackerel.requests.filter(
      (r) => r.path === "/api/v0/monitoring/checks/report" && r.status === 200,
    );
    expect(reportPosts).toHaveLength(2);
    // ...with the SAME occurredAt (never re-stamped), so Mackerel kept one report.
    const occurred = reportPosts.map((r) => (r.body as { reports: { occurredAt: number }[] }).reports[0]!.occurredAt);
    expect(new Set(occurred).size).toBe(1);
    expect(world.mackerel.checkReports().filter((r) => r.name === "dup-check")).toHaveLength(1);
    expect(world.mackerel.counter("ignored.duplicateCheckReports")).toBe(1);
    expect(world.mackerel.serviceMetrics().filter((m) => m.name === "dup.metric")).toEqual([
      { service: SERVICE, name: "dup.metric", time: expect.any(Number), value: 42 },
    ]);
    const f = settleAccounts("same message delivered twice", ledger, world.sender, false);
    expect(f.resentIdempotently).toBe(3);
  });
});
