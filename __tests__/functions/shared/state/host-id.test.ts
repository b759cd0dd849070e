/**
 * The host id store against dynalite and the local Mackerel: one container registers the host while the
 * others wait, a retired host is replaced once, and check report seconds stay strictly increasing.
 */
import { HostResolver } from "../../../../functions/shared/host";
import { MackerelClient } from "../../../../functions/shared/mackerel-client";
import { StateStore } from "../../../../functions/shared/state";
import { LocalMackerelServer } from "../../../../scripts/local/mackerel";
import { stateTableFixture } from "./support";

const table = stateTableFixture();
const freshStore = table.freshStore;
describe("the host id store", () => {
  let mackerel: LocalMackerelServer;
  beforeAll(async () => {
    mackerel = await LocalMackerelServer.start({ apiKeys: ["k"] });
  });
  afterAll(() => mackerel.close());

  test("ten cold starts racing: one look-up, one registration, everyone gets the same id", async () => {
    const store = await freshStore();
    const resolvers = Array.from(
      { length: 10 },
      (_, i) =>
        new HostResolver(
          { name: "race", customIdentifier: "mackerel-serverless/test/race" },
          new MackerelClient({ baseUrl: mackerel.url, apiKey: { get: async () => "k", refresh: async () => "k" } }),
          store.hostIdStore({ owner: `container-${i}`, pollMs: 20 }),
        ),
    );
    const ids = await Promise.all(resolvers.map((r) => r.hostId()));
    expect(new Set(ids).size).toBe(1);
    expect(mackerel.hosts()).toHaveLength(1);
    expect(mackerel.requests.filter((r) => r.method === "POST" && r.path === "/api/v0/hosts")).toHaveLength(1);
    expect(mackerel.requests.filter((r) => r.path.startsWith("/api/v0/hosts-by-custom-identifier/"))).toHaveLength(1);
    // A later cold start reads the stored id: no Mackerel call.
    const before = mackerel.requests.length;
    const late = new HostResolver(
      { name: "race", customIdentifier: "mackerel-serverless/test/race" },
      new MackerelClient({ baseUrl: mackerel.url, apiKey: { get: async () => "k", refresh: async () => "k" } }),
      store.hostIdStore(),
    );
    expect(await late.hostId()).toBe(ids[0]);
    expect(mackerel.requests.length).toBe(before);
  });

  test("a lease whose holder died lapses, and another container resolves the host", async () => {
    let now = 5_000_000;
    const store = await freshStore({ now: () => now });
    const dead = store.hostIdStore({ owner: "dead", leaseMs: 1_000 });
    expect(await dead.claimResolution!()).toBeUndefined(); // took the lease, then "died"
    const alive = store.hostIdStore({ owner: "alive", leaseMs: 1_000, pollMs: 10 });
    const waiting = alive.claimResolution!();
    now += 1_001;
    expect(await waiting).toBeUndefined(); // took over the lapsed lease
    expect(await alive.putIfAbsent("h1")).toBe("h1");
    expect(await dead.putIfAbsent("h2")).toBe("h1");
  });
});

describe("a retired host replaced, and check report seconds", () => {
  let mackerel: LocalMackerelServer;
  beforeAll(async () => {
    mackerel = await LocalMackerelServer.start({ apiKeys: ["k"] });
  });
  afterAll(() => mackerel.close());

  const resolver = (store: StateStore, owner: string) =>
    new HostResolver(
      { name: "retire", customIdentifier: "mackerel-serverless/test/retire" },
      new MackerelClient({ baseUrl: mackerel.url, apiKey: { get: async () => "k", refresh: async () => "k" } }),
      store.hostIdStore({ owner, pollMs: 20 }),
    );

  test("five containers see the host retired: one new registration, the stored id replaced once, all agree", async () => {
    const store = await freshStore();
    const first = resolver(store, "first");
    const old = await first.hostId();
    const retire = await fetch(new URL(`api/v0/hosts/${old}/retire`, mackerel.url), {
      method: "POST",
      headers: { "X-Api-Key": "k", "Content-Type": "application/json" },
      body: "{}",
    });
    expect(retire.status).toBe(200);
    const containers = Array.from({ length: 5 }, (_, i) => resolver(store, `c${i}`));
    await Promise.all(containers.map((c) => c.hostId())); // each read the (stale) stored id
    const replaced = await Promise.all(containers.map((c) => c.replace(old)));
    expect(new Set(replaced).size).toBe(1);
    expect(replaced[0]).not.toBe(old);
    expect(
      mackerel
        .hosts()
        .filter((h) => !h.isRetired)
        .map((h) => h.id),
    ).toEqual([replaced[0]]);
    expect(await store.hostIdStore().get()).toBe(replaced[0]);
    // The replacing container uses the new id from now on.
    expect(await containers[0]!.hostId()).toBe(replaced[0]);
  });

  test("a host that is still there is not replaced (the refusal was about something else)", async () => {
    const store = await freshStore();
    const r = resolver(store, "x");
    const id = await r.hostId();
    const hosts = mackerel.hosts().length;
    expect(await r.replace(id)).toBe(id);
    expect(mackerel.hosts().length).toBe(hosts);
  });

  test("a fixed host id is never replaced", async () => {
    const fixed = new HostResolver(
      { id: "fixedHostId1", name: "fixed" },
      new MackerelClient({ baseUrl: mackerel.url, apiKey: { get: async () => "k", refresh: async () => "k" } }),
    );
    const before = mackerel.requests.length;
    expect(await fixed.replace("fixedHostId1")).toBe("fixedHostId1");
    expect(mackerel.requests.length).toBe(before);
  });

  test("claimCheckSecond: strictly increasing seconds per check across concurrent claims, never skipped", async () => {
    const store = await freshStore();
    const seconds = await Promise.all(Array.from({ length: 6 }, () => store.claimCheckSecond("host1/job", 1000)));
    expect([...seconds].sort((a, b) => a - b)).toEqual([1000, 1001, 1002, 1003, 1004, 1005]);
    // A later second is taken as it is; another check has its own seconds.
    expect(await store.claimCheckSecond("host1/job", 2000)).toBe(2000);
    expect(await store.claimCheckSecond("host1/other", 1000)).toBe(1000);
  });
});
