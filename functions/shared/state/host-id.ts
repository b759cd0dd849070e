/**
 * The durable Mackerel host id (item `host` / `id`, layout in README.md): containers agree on one Mackerel
 * host, and only the container holding the registration lease looks it up and registers it (two cold starts
 * racing must not register two hosts).
 */
import type { HostIdStore } from "../host.js";
import { itemKey, N, num, S, type StateTable, str } from "./table.js";

const HOST_KEY = itemKey("host", "id");

export interface HostIdStoreOptions {
  /** This container's name in the registration lease (default: function name, pid and a random part). */
  owner?: string;
  leaseMs?: number;
  pollMs?: number;
}

/** The {@link HostIdStore} for {@link HostResolver} over the state table. */
export function hostIdStore(table: StateTable, options: HostIdStoreOptions = {}): HostIdStore {
  const owner = options.owner ?? randomOwner();
  const leaseMs = options.leaseMs ?? 20_000;
  const pollMs = options.pollMs ?? 200;
  const read = async (): Promise<string | undefined> => str(await table.get(HOST_KEY), "hostId");
  /** Stores `id` under `condition`; when another container stored one first, every container uses that. */
  const store = async (id: string, condition: string, values: Record<string, string>): Promise<string> => {
    const { applied } = await table.updateIf({
      key: HOST_KEY,
      update: "SET #id = :id REMOVE #o, #u",
      condition,
      names: { "#id": "hostId", "#o": "leaseOwner", "#u": "leaseUntil" },
      values: { ":id": S(id), ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, S(v)])) },
    });
    return applied ? id : ((await read()) ?? id);
  };
  return {
    get: read,
    claimResolution: async () => {
      // Bounded: after two leases' time without an id, resolve it here (Mackerel's unique custom
      // identifier and HostResolver's retry on a refused registration still prevent a second host).
      const giveUpAt = table.now() + 2 * leaseMs;
      while (table.now() < giveUpAt) {
        const { applied } = await table.updateIf({
          key: HOST_KEY,
          update: "SET #o = :o, #u = :u",
          condition: "attribute_not_exists(#id) AND (attribute_not_exists(#u) OR #u < :now)",
          names: { "#o": "leaseOwner", "#u": "leaseUntil", "#id": "hostId" },
          values: { ":o": S(owner), ":u": N(table.now() + leaseMs), ":now": N(table.now()) },
        });
        if (applied) return undefined; // this container resolves the host
        // Another container holds the lease (or stored the id): wait for its id, or for its lease to lapse.
        const item = await table.get(HOST_KEY);
        const id = str(item, "hostId");
        if (id) return id;
        const until = num(item, "leaseUntil") ?? 0;
        if (until >= table.now()) await table.sleep(Math.min(pollMs, until - table.now() + 1));
      }
      return undefined;
    },
    putIfAbsent: (id: string) => store(id, "attribute_not_exists(#id)", {}),
    // Only over the stale id (or none): a container that replaced it first wins, and all use its id.
    replace: (staleId: string, id: string) =>
      store(id, "attribute_not_exists(#id) OR #id = :stale", { ":stale": staleId }),
  };
}

function randomOwner(): string {
  return `${process.env.AWS_LAMBDA_FUNCTION_NAME ?? "local"}/${process.pid}/${Math.random().toString(36).slice(2)}`;
}
