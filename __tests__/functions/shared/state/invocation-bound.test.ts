/**
 * The state table's bound per invocation (StateStore.beginInvocation): once a call gets no answer, the rest of
 * the invocation does not wait for the table again, a hanging call is abandoned when the invocation's time
 * for the table is spent, and the host id is then resolved through Mackerel. Against a table double that
 * never answers (it settles only when its call is aborted) and one that answers with errors.
 */
import { StateTableUnavailableError } from "../../../../functions/shared/errors";
import { HostResolver } from "../../../../functions/shared/host";
import { MackerelClient } from "../../../../functions/shared/mackerel-client";
import { type DynamoApi, STATE_TABLE_RESERVE_MS, StateStore } from "../../../../functions/shared/state";
import type { CallOptions } from "../../../../functions/shared/state/table";
import { LocalMackerelServer } from "../../../../scripts/local/mackerel";

/** A table that accepts every call and never answers: a call ends only when its signal aborts it. */
function silentTable(): DynamoApi & { calls: number } {
  const hang = (options?: CallOptions) =>
    new Promise<never>((_, reject) => {
      api.calls++;
      const signal = options?.abortSignal;
      signal?.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" })));
    });
  const api = {
    calls: 0,
    getItem: (_: Record<string, unknown>, options?: CallOptions) => hang(options),
    updateItem: (_: Record<string, unknown>, options?: CallOptions) => hang(options),
    query: (_: Record<string, unknown>, options?: CallOptions) => hang(options),
  };
  return api;
}

/** A table that answers every call with `error`. */
function failingTable(error: Error): DynamoApi & { calls: number } {
  const api = {
    calls: 0,
    getItem: async () => {
      api.calls++;
      throw error;
    },
    updateItem: async () => {
      api.calls++;
      throw error;
    },
    query: async () => {
      api.calls++;
      throw error;
    },
  };
  return api;
}

const counts = new Map([[1_700_000_000, 2]]);

test("a call that gets no answer is abandoned at the invocation's bound, and the next ones fail at once", async () => {
  const api = silentTable();
  const store = new StateStore({ tableName: "t", api });
  store.beginInvocation(STATE_TABLE_RESERVE_MS + 200);
  const started = performance.now();
  await expect(store.markPayload("p", "r1", 1_700_000_000)).rejects.toBeInstanceOf(StateTableUnavailableError);
  expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  // The table did not answer: counts and the unmark do not wait for it again, nor reach it.
  await expect(store.addMinuteCounts("errors", counts)).rejects.toThrow("did not answer earlier in this invocation");
  await expect(store.unmarkPayload("p", "r1")).rejects.toBeInstanceOf(StateTableUnavailableError);
  expect(api.calls).toBe(1);
  // The next invocation tries again.
  store.beginInvocation(STATE_TABLE_RESERVE_MS + 50);
  await expect(store.addMinuteCounts("errors", counts)).rejects.toBeInstanceOf(StateTableUnavailableError);
  expect(api.calls).toBe(2);
});

test("errors the table answered (throttling after the SDK's retries, a failed condition) leave it open", async () => {
  const throttled = Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
    name: "ThrottlingException",
    $metadata: { httpStatusCode: 400 },
  });
  const api = failingTable(throttled);
  const store = new StateStore({ tableName: "t", api });
  store.beginInvocation(STATE_TABLE_RESERVE_MS + 10_000);
  await expect(store.addMinuteCounts("errors", counts)).rejects.toBe(throttled);
  await expect(store.addMinuteCounts("errors", counts)).rejects.toBe(throttled);
  expect(api.calls).toBe(2);
});

test("without beginInvocation (functions that bound their calls otherwise), no error closes the table", async () => {
  const api = failingTable(Object.assign(new Error("socket hang up"), { name: "TimeoutError" }));
  const store = new StateStore({ tableName: "t", api });
  await expect(store.addMinuteCounts("errors", counts)).rejects.toThrow("socket hang up");
  await expect(store.addMinuteCounts("errors", counts)).rejects.toThrow("socket hang up");
  expect(api.calls).toBe(2);
});

describe("the host id with the table closed", () => {
  let mackerel: LocalMackerelServer;
  beforeAll(async () => {
    mackerel = await LocalMackerelServer.start({ apiKeys: ["k"] });
  });
  afterAll(() => mackerel.close());

  test("is looked up in Mackerel (one host, by its custom identifier), and the table is not waited for", async () => {
    const client = () =>
      new MackerelClient({ baseUrl: mackerel.url, apiKey: { get: async () => "k", refresh: async () => "k" } });
    const settings = { name: "closed", customIdentifier: "mackerel-serverless/test/closed" };
    const first = await new HostResolver(settings, client()).hostId();

    const api = silentTable();
    const store = new StateStore({ tableName: "t", api });
    store.beginInvocation(STATE_TABLE_RESERVE_MS + 100);
    await expect(store.markPayload("p", "r1", 1_700_000_000)).rejects.toBeInstanceOf(StateTableUnavailableError);
    expect(await new HostResolver(settings, client(), store.hostIdStore()).hostId()).toBe(first);
    expect(api.calls).toBe(1);
    expect(mackerel.hosts()).toHaveLength(1);
  });
});

test("the bound lasts until the next beginInvocation, so a function that bounds begins one every invocation", async () => {
  const api = failingTable(Object.assign(new Error("condition"), { name: "ConditionalCheckFailedException" }));
  const store = new StateStore({ tableName: "t", api });
  store.beginInvocation(STATE_TABLE_RESERVE_MS + 20);
  await new Promise((resolve) => setTimeout(resolve, 40));
  // The invocation's time is spent: no call reaches the table, until the next invocation begins.
  await expect(store.addMinuteCounts("errors", counts)).rejects.toThrow("time for the state table is spent");
  expect(api.calls).toBe(0);
  store.beginInvocation(STATE_TABLE_RESERVE_MS + 10_000);
  await expect(store.addMinuteCounts("errors", counts)).rejects.toThrow("condition");
  expect(api.calls).toBe(1);
});
