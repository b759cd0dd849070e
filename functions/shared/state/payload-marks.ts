/**
 * Marks of counted subscription payloads (item `payload#<hash>` / `counted`, layout in README.md). CloudWatch
 * Logs and Lambda's asynchronous invocation deliver at least once, and counts are added (not set), so a
 * payload delivered twice must be counted once.
 */
import { itemKey, N, S, type StateTable, STATE_TABLE_KEYS } from "./table.js";

/** How long a counted payload is remembered (Lambda retries an asynchronous event for up to 6 hours). */
export const PAYLOAD_MARK_SECONDS = 7 * 60 * 60;

const markKey = (key: string) => itemKey(`payload#${key}`, "counted");

/**
 * Marks a subscription payload as counted by `owner`, unless it already is. The mark lives
 * {@link PAYLOAD_MARK_SECONDS}.
 *
 * A retry of the same invocation (after a timeout, with the same request id) finds the mark too: its counts
 * were stored before, and storing them again would double them. Only when none could be stored does the
 * function remove its mark ({@link unmarkPayload}) before failing, so that the retry counts them.
 *
 * @returns false when the payload was already counted (a duplicate delivery or a retry).
 */
export async function markPayload(table: StateTable, key: string, owner: string, nowSec: number): Promise<boolean> {
  const { applied } = await table.updateIf({
    key: markKey(key),
    update: "SET #by = :by, #e = :e",
    condition: "attribute_not_exists(#by)",
    names: { "#by": "countedBy", "#e": STATE_TABLE_KEYS.ttlAttribute },
    values: { ":by": S(owner), ":e": N(nowSec + PAYLOAD_MARK_SECONDS) },
  });
  return applied;
}

/** Removes `owner`'s mark (its counts could not be stored): a retry of the payload counts it. */
export async function unmarkPayload(table: StateTable, key: string, owner: string): Promise<void> {
  await table.updateIf({
    key: markKey(key),
    update: "REMOVE #by",
    condition: "#by = :by",
    names: { "#by": "countedBy" },
    values: { ":by": S(owner) },
  });
}
