/** Named leases (item `lease` / `<name>`, layout in README.md): one holder at a time, such as the tick's. */
import { itemKey, N, S, type StateTable, STATE_TABLE_KEYS } from "./table.js";

/** A lapsed lease item is removed by the table's TTL this long after it ends. */
const LEASE_ITEM_SECONDS = 24 * 3600;

const leaseKey = (name: string) => itemKey("lease", name);

/**
 * Takes the named lease until `untilMs` unless another owner holds an unexpired one.
 *
 * @returns whether this owner holds it now.
 */
export async function acquireLease(table: StateTable, name: string, owner: string, untilMs: number): Promise<boolean> {
  const { applied } = await table.updateIf({
    key: leaseKey(name),
    update: "SET #o = :o, #u = :u, #e = :e",
    condition: "attribute_not_exists(#u) OR #u < :now OR #o = :o",
    names: { "#o": "owner", "#u": "leaseUntil", "#e": STATE_TABLE_KEYS.ttlAttribute },
    values: {
      ":o": S(owner),
      ":u": N(untilMs),
      ":now": N(table.now()),
      ":e": N(Math.ceil(untilMs / 1000) + LEASE_ITEM_SECONDS),
    },
  });
  return applied;
}

/** Ends the lease early if this owner still holds it. */
export async function releaseLease(table: StateTable, name: string, owner: string): Promise<void> {
  await table.updateIf({
    key: leaseKey(name),
    update: "SET #u = :zero",
    condition: "#o = :o",
    names: { "#o": "owner", "#u": "leaseUntil" },
    values: { ":o": S(owner), ":zero": N(0) },
  });
}
