/**
 * The fault suite, log counts: the built logs function and the check function's per-minute tick, with
 * the state table on dynalite, through an outage, the spool and the sender.
 */
import { lastClosedMinute, ruleMetricName } from "../../../functions/logs/tick-plan";
import { dynamoEnvironment, startDynalite } from "../../../scripts/local/dynalite";
import { LocalLambda } from "../../../scripts/local/lambda-runner";
import { makeSubscriptionEvent, textLine } from "../../functions/logs/fixtures";
import { Ledger } from "./ledger";
import { DEAD_LETTER, emfTotals, SERVICE, SPOOL } from "./support/world";
import { MINUTE, notes, settleAccounts, useFaultWorld, world } from "./support/accounts";

useFaultWorld();

describe("fault suite: log counts (built logs and check functions, dynalite state table) through an outage", () => {
  const LOG_RULES = [
    { name: "errors", include: ["\\tERROR\\t"] },
    { name: "timeouts", include: ["Task timed out"], status: "WARNING" },
    { name: "quiet", include: ["never-matches-zz7"] },
  ];
  const OUTAGE_MINUTES = 180;

  test("a 3-hour outage with log events and a tick every minute: after recovery every (rule, minute) is in Mackerel once, with its summed count", async () => {
    await world.fresh();
    const dynamo = await startDynalite();
    let logs: LocalLambda | undefined;
    let check: LocalLambda | undefined;
    try {
      const table = await dynamo.createStateTable("fault-state");
      const env = {
        ...world.env(),
        MACKEREL_LOG_RULES: JSON.stringify(LOG_RULES),
        MACKEREL_SERVERLESS_OWN_LOG_GROUPS: JSON.stringify(["/aws/lambda/mackerel-serverless-logs"]),
        ...dynamoEnvironment(dynamo, table),
      };
      [logs, check] = await Promise.all([
        LocalLambda.start("logs", { env, timeoutMs: 60_000 }),
        LocalLambda.start("check", { env, timeoutMs: 60_000 }),
      ]);

      /** rule → epoch minute (s) → matches sent. */
      const sent = new Map(LOG_RULES.map((r) => [r.name, new Map<number, number>()]));
      const count = (rule: string, minute: number, n: number) =>
        sent.get(rule)!.set(minute, (sent.get(rule)!.get(minute) ?? 0) + n);
      let streams = 0;
      const sendLogs = async (parts: { rule: "errors" | "timeouts"; minute: number; n: number }[]) => {
        for (const { rule, minute, n } of parts) count(rule, minute, n);
        const events = parts.flatMap(({ rule, minute, n }) =>
          Array.from({ length: n }, (_, j) => {
            const timestamp = minute * 1000 + 1000 * j + 17;
            return {
              message:
                rule === "errors"
                  ? textLine("ERROR", `order ${streams}.${j} failed`, j, timestamp)
                  : `${new Date(timestamp).toISOString()} Task timed out after 3.00 seconds`,
              timestamp,
            };
          }),
        );
        streams++;
        const result = await logs!.invokeOrThrow(
          makeSubscriptionEvent({ logGroup: `/aws/lambda/app-${streams % 3}`, logStream: `stream-${streams}`, events }),
        );
        expect(result).toMatchObject({ outcome: "processed", countFailures: [] });
        return result;
      };
      /** Moves the world clock to 5 s into the next minute (ticks run then, as EventBridge's would). */
      const nextMinute = (): number => {
        const now = world.clock.now();
        const minute = Math.floor(now / MINUTE) * MINUTE + MINUTE;
        world.clock.advance(minute + 5000 - now);
        return minute / 1000;
      };
      const tick = async () => {
        const closed = lastClosedMinute(world.clock.nowSeconds());
        const result = (await check!.invokeOrThrow({ tick: {} })) as { outcome: string; spooled: boolean };
        expect(lastClosedMinute(world.clock.nowSeconds())).toBe(closed);
        expect(result.outcome).toBe("ticked");
        return { ...result, closed };
      };
      /** The traffic of minute `k` (events of the minute before, some of two minutes before). */
      const traffic = async (k: number, now: number) => {
        const previous = now - 60;
        if (k % 4 !== 1) {
          await sendLogs([
            { rule: "errors", minute: previous, n: 1 + (k % 5) },
            ...(k % 10 === 0
              ? [
                  { rule: "timeouts" as const, minute: previous, n: 3 },
                  { rule: "timeouts" as const, minute: previous - 60, n: 1 },
                ]
              : []),
          ]);
        }
        // Another log group matching the same minute: the counts of both invocations are summed.
        if (k % 6 === 0) await sendLogs([{ rule: "errors", minute: previous, n: 2 }]);
      };

      // Before the outage: the first tick registers the host and posts each rule's first (zero) minute.
      nextMinute();
      const first = await tick();
      expect(first.spooled).toBe(false);
      const firstMinute = first.closed;

      // A maintenance-like outage that answers 503 with Retry-After: 1 h, so each function gives up after one
      // request instead of its in-call retries (same outcome, spooled; it keeps 180 ticks within the budget).
      world.mackerel.setOutage(true, { retryAfter: 3600 });
      const ledger = new Ledger();
      let expiredMatchSent: { minute: number } | undefined;
      const corrected = new Set<string>();
      for (let k = 0; k < OUTAGE_MINUTES; k++) {
        const now = nextMinute();
        await traffic(k, now);
        if (k === 30) {
          // One event 25 h old: never counted (Mackerel would ignore it), counted as expired by the logs function.
          const minute = now - 25 * 3600;
          expiredMatchSent = { minute };
          await sendLogs([{ rule: "errors", minute, n: 1 }]);
          sent.get("errors")!.delete(minute);
        }
        if (k === 60 || k === 120) {
          // A late delivery: events of the minutes the two previous ticks flushed (spooled). This tick
          // re-posts both minutes with their new totals (corrections), which must win over the first posts.
          const a = now - 300;
          const b = now - 240;
          await sendLogs([
            { rule: "errors", minute: a, n: 1 },
            { rule: "errors", minute: b, n: 1 },
          ]);
          corrected.add(`errors/${a}`).add(`errors/${b}`);
        }
        expect(await tick()).toMatchObject({ spooled: true });
        await world.pump(); // the sender tries, fails, backs off
      }
      expect(world.mackerel.serviceMetrics().filter((m) => m.time > firstMinute)).toEqual([]);
      expect(world.sqs.depth(DEAD_LETTER)).toBe(0);

      // Mackerel is back; log events and ticks go on, the spool drains.
      world.mackerel.setOutage(false);
      for (let k = OUTAGE_MINUTES; k < OUTAGE_MINUTES + 10; k++) {
        await traffic(k, nextMinute());
        await tick();
        await world.pump();
      }
      await world.settle();
      // Ticks until every minute with events is closed.
      let last = 0;
      for (let i = 0; i < 4; i++) {
        nextMinute();
        last = (await tick()).closed;
        await world.pump();
      }
      await world.settle();
      expect(world.sqs.depth(SPOOL)).toBe(0);
      expect(world.sqs.depth(DEAD_LETTER)).toBe(0);

      // Every (rule, minute) from the first flushed minute to the last closed one: its summed count, zero
      // when quiet, exactly one value per minute.
      const minutes = Array.from({ length: (last - firstMinute) / 60 + 1 }, (_, i) => firstMinute + i * 60);
      for (const [rule, counts] of sent) {
        expect([...counts.keys()].every((m) => m > firstMinute && m <= last)).toBe(true);
        for (const time of minutes) {
          ledger.add({
            kind: "serviceMetric",
            service: SERVICE,
            name: ruleMetricName(rule),
            time,
            value: counts.get(time) ?? 0,
          });
        }
        const posted = world.mackerel.serviceMetrics(SERVICE).filter((m) => m.name === ruleMetricName(rule));
        expect(posted.map((p) => p.time)).toEqual(minutes);
      }
      ledger.add(
        {
          kind: "serviceMetric",
          service: SERVICE,
          name: "logs.errors.count",
          time: expiredMatchSent!.minute,
          value: 1,
        },
        "expire",
      );
      const expiredMatches = emfTotals(logs).ExpiredMatches ?? 0;
      expect(expiredMatches).toBe(1);
      // Each minute arrived once, but a corrected minute twice: its first post, then its new total (the
      // spool delivers in order, and Mackerel keeps the last value for a (metric, time)).
      for (const rule of sent.keys()) {
        for (const time of minutes) {
          const n = world.mackerel.writeCount("serviceMetric", { service: SERVICE, name: ruleMetricName(rule), time });
          expect([rule, time, n]).toEqual([rule, time, corrected.has(`${rule}/${time}`) ? 2 : 1]);
        }
      }
      expect(corrected.size).toBe(4);
      // Nothing older than 24 h was posted, nothing was dropped as too old, no minute was skipped as expired.
      expect(world.mackerel.counter("ignored.serviceMetricsTooOld")).toBe(0);
      expect(emfTotals(check).LogCountMinutesExpired ?? 0).toBe(0);

      const f = settleAccounts("3 h outage, log counts", ledger, world.sender, false, expiredMatches);
      expect(f.expired).toBe(1);
      expect(f.resentIdempotently).toBe(corrected.size);
      const totalMatches = [...sent.values()].reduce((sum, m) => sum + [...m.values()].reduce((a, b) => a + b, 0), 0);
      notes.push(
        `log counts scenario: ${streams} logs invocations, ${totalMatches} matches in ${minutes.length} minutes × ` +
          `${LOG_RULES.length} rules, ${OUTAGE_MINUTES} ticks during the outage; "resent" there are ${corrected.size} ` +
          "corrections (a late delivery re-posts its minutes with the new total; the last value is kept)",
      );
    } finally {
      await Promise.all([logs?.stop(), check?.stop()]);
      await dynamo.close();
    }
  });
});
