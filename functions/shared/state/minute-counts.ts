/**
 * Per-minute counts of the log rules: one item per rule and hour, an attribute per minute (layout in
 * README.md). The logs function adds a payload's counts with one UpdateItem per rule and hour touched; the
 * tick reads a rule's last hours and its state with one Query, and marks what Mackerel accepted.
 */
import { RULE_STATE_SK, rulePk, type RuleState, ruleStateOf } from "./rule-state.js";
import { type Item, N, num, S, type StateTable, STATE_TABLE_KEYS, str } from "./table.js";

/** Hour items live this long after their hour ends (Mackerel keeps metric points for 24 hours). */
export const BUCKET_RETENTION_SECONDS = 25 * 60 * 60;

/** One minute of a rule's counts: the total so far, and the total Mackerel accepted (when posted). */
export interface MinuteBucket {
  count: number;
  posted?: number;
}

/** A rule's counts of the last hours (epoch minute → bucket) and its state, read together. */
export interface RuleView {
  minutes: Map<number, MinuteBucket>;
  state: RuleState;
}

/** The epoch second an hour starts, for an epoch second (minute) inside it. */
export const hourOf = (epochSeconds: number): number => Math.floor(epochSeconds / 3600) * 3600;

const hourSk = (hourStart: number) => `hour#${String(hourStart).padStart(12, "0")}`;
const hourKey = (rule: string, hour: number): Item => ({ pk: S(rulePk(rule)), sk: S(hourSk(hour)) });

/** `c07`/`p07`: the attribute of minute 7 of its hour. */
const minuteAttr = (prefix: "c" | "p", minute: number): string =>
  `${prefix}${String(Math.floor((minute % 3600) / 60)).padStart(2, "0")}`;

/** Groups entries by the hour of their minute. */
function byHour<T>(entries: Iterable<T>, minuteOf: (entry: T) => number): Map<number, T[]> {
  const hours = new Map<number, T[]>();
  for (const entry of entries) {
    const hour = hourOf(minuteOf(entry));
    let list = hours.get(hour);
    if (!list) hours.set(hour, (list = []));
    list.push(entry);
  }
  return hours;
}

/**
 * Adds per-minute counts of one rule atomically: one UpdateItem per hour touched, with an ADD per minute.
 *
 * @param counts - epoch minute (seconds, multiple of 60) → matches to add.
 * @returns the number of requests made.
 */
export async function addMinuteCounts(
  table: StateTable,
  rule: string,
  counts: ReadonlyMap<number, number>,
): Promise<number> {
  const hours = byHour(
    [...counts].filter(([, count]) => count > 0),
    ([minute]) => minute,
  );
  await Promise.all(
    [...hours].map(([hour, minutes]) => {
      const names: Record<string, string> = { "#e": STATE_TABLE_KEYS.ttlAttribute };
      const values: Item = { ":e": N(hour + 3600 + BUCKET_RETENTION_SECONDS) };
      const adds = minutes.map(([minute, count], i) => {
        names[`#c${i}`] = minuteAttr("c", minute);
        values[`:c${i}`] = N(count);
        return `#c${i} :c${i}`;
      });
      return table.update({ key: hourKey(rule, hour), update: `SET #e = :e ADD ${adds.join(", ")}`, names, values });
    }),
  );
  return hours.size;
}

/**
 * Reads a rule's minute buckets from the hour of `fromSec` on, and its state, with one strongly consistent
 * Query (paged only beyond 1 MB, which 25 hour items never reach): `sk` from `hour#<from>` to `state`, as `h`
 * sorts before `s`.
 */
export async function readRule(table: StateTable, rule: string, fromSec: number): Promise<RuleView> {
  const minutes = new Map<number, MinuteBucket>();
  let state: RuleState = {};
  let start: Item | undefined;
  do {
    const page = await table.query({
      KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :from AND :state",
      ExpressionAttributeNames: { "#pk": "pk", "#sk": "sk" },
      ExpressionAttributeValues: {
        ":pk": S(rulePk(rule)),
        ":from": S(hourSk(hourOf(fromSec))),
        ":state": S(RULE_STATE_SK),
      },
      ...(start && { ExclusiveStartKey: start }),
    });
    for (const item of page.Items ?? []) {
      const sk = str(item, "sk") ?? "";
      if (sk === RULE_STATE_SK) {
        state = ruleStateOf(item);
        continue;
      }
      const hour = Number(sk.slice("hour#".length));
      if (!Number.isFinite(hour)) continue;
      for (const [name, value] of Object.entries(item)) {
        if (!/^c\d\d$/.test(name) || !("N" in value)) continue;
        const minute = hour + Number(name.slice(1)) * 60;
        const posted = num(item, `p${name.slice(1)}`);
        minutes.set(minute, { count: Number(value.N), ...(posted !== undefined && { posted }) });
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return { minutes, state };
}

/**
 * Records that Mackerel accepted `value` for each minute: sets `pMM = value` only where the count is still
 * `value` (a match added meanwhile leaves the minute unmarked, so the next tick posts the new total).
 * One UpdateItem per hour; when its condition fails, each minute is retried on its own.
 *
 * @returns how many minutes were marked.
 */
export async function markPosted(
  table: StateTable,
  rule: string,
  posted: readonly { minute: number; value: number }[],
): Promise<number> {
  // A zero with no bucket needs no mark: an absent mark reads as 0.
  const hours = byHour(
    posted.filter((p) => p.value > 0),
    (p) => p.minute,
  );
  const mark = async (hour: number, list: { minute: number; value: number }[]): Promise<number> => {
    const names: Record<string, string> = {};
    const values: Item = {};
    const sets: string[] = [];
    const conditions: string[] = [];
    list.forEach(({ minute, value }, i) => {
      names[`#c${i}`] = minuteAttr("c", minute);
      names[`#p${i}`] = minuteAttr("p", minute);
      values[`:v${i}`] = N(value);
      sets.push(`#p${i} = :v${i}`);
      conditions.push(`#c${i} = :v${i}`);
    });
    const { applied } = await table.updateIf({
      key: hourKey(rule, hour),
      update: `SET ${sets.join(", ")}`,
      condition: conditions.join(" AND "),
      names,
      values,
    });
    if (applied) return list.length;
    if (list.length === 1) return 0;
    const each = await Promise.all(list.map((p) => mark(hour, [p])));
    return each.reduce((a, b) => a + b, 0);
  };
  const counts = await Promise.all([...hours].map(([hour, list]) => mark(hour, list)));
  return counts.reduce((a, b) => a + b, 0);
}
