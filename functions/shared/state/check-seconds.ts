/**
 * The seconds claimed by the metric function's check reports (item `check#<check>` / `state`, layout in
 * README.md): every report a workflow sends gets its own second, so Mackerel keeps each.
 */
import { itemKey, N, num, type StateTable } from "./table.js";

/**
 * Claims an occurredAt for a check report of `check` (per host): `preferSec` when it is newer than every
 * second claimed before, else the second after the newest claim. Never skips: a CRITICAL then an OK within
 * one second both arrive, and the alert closes. Two writes at most.
 */
export async function claimCheckSecond(table: StateTable, check: string, preferSec: number): Promise<number> {
  const key = itemKey(`check#${check}`, "state");
  const names = { "#at": "reportedAt" };
  const { applied } = await table.updateIf({
    key,
    update: "SET #at = :s",
    condition: "attribute_not_exists(#at) OR #at < :s",
    names,
    values: { ":s": N(preferSec) },
  });
  if (applied) return preferSec;
  // A newer or equal second is taken: the next one, atomically (ADD returns the incremented value).
  const updated = await table.update({
    key,
    update: "ADD #at :one",
    names,
    values: { ":one": N(1) },
    returnValues: "UPDATED_NEW",
  });
  return num(updated, "reportedAt") ?? preferSec;
}
