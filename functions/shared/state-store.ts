/**
 * The module's DynamoDB state table: per-minute log rule counts, log rule state, the Mackerel host id and the
 * tick lease. One on-demand table, string keys `pk`/`sk`, TTL attribute `expiresAt`.
 *
 * | item | pk | sk | attributes |
 * |---|---|---|---|
 * | counts of one rule in one hour | `rule#<rule>` | `hour#<epoch s of the hour, 12 digits>` | `cMM` count of minute MM (atomic ADD), `pMM` the count Mackerel accepted for it, `expiresAt` |
 * | state of one rule | `rule#<rule>` | `state` | `lastMatchAt` (ms, the newest matching event), `reportedAt` (s) + `reportedStatus` (the newest check report claimed), `flushedThrough` (s, the watermark: the last minute posted as a metric) |
 * | the Mackerel host | `host` | `id` | `hostId`; `leaseOwner` + `leaseUntil` while a container registers it |
 * | a lease (the tick) | `lease` | `<name>` | `owner`, `leaseUntil` (ms), `expiresAt` |
 * | a counted subscription payload | `payload#<hash>` | `counted` | `countedBy` (request id), `expiresAt` (7 h) |
 * | configuration too large for the environment (written by Terraform) | `config` | `log_rules` | `json` (the JSON text) |
 *
 * Why an hour item with an attribute per minute, not an item per minute: the logs function adds a payload's
 * counts with ONE UpdateItem per rule and hour touched (ADD of every minute's attribute at once; usually one
 * request per rule), and the tick reads a rule's last 24 hours and its state with ONE Query (`sk` from
 * `hour#<24 h ago>` to `state`: `h` sorts before `s`). Hour items expire 25 hours after their hour: Mackerel
 * drops metric points older than 24 hours, so older counts can never be posted.
 *
 * Every read that decides a write is strongly consistent, and every write that must not race is conditional.
 * The AWS SDK is imported on first use (it costs ~50 ms of cold start) and honours AWS_ENDPOINT_URL_DYNAMODB.
 */
import { sdkClientConfig } from "./aws-sdk.js";
import type { CheckStatus } from "./names.js";
import type { HostIdStore } from "./host.js";

/** Key and TTL attribute names: the module creates the table with these (modules/construct/state-table.ts). */
export const STATE_TABLE_KEYS = { partitionKey: "pk", sortKey: "sk", ttlAttribute: "expiresAt" } as const;

/** Hour items live this long after their hour ends (Mackerel keeps metric points for 24 hours). */
export const BUCKET_RETENTION_SECONDS = 25 * 60 * 60;

/** How long a counted payload is remembered (Lambda retries an asynchronous event for up to 6 hours). */
export const PAYLOAD_MARK_SECONDS = 7 * 60 * 60;

/** The SDK's attempts per request (its standard retry mode: throttling, 5xx, network errors). */
const SDK_MAX_ATTEMPTS = 5;

/** A DynamoDB attribute value in the low-level JSON form. */
export type AttributeValue = { S: string } | { N: string } | { BOOL: boolean } | { NULL: true };
export type Item = Record<string, AttributeValue>;

/** The DynamoDB operations the state store uses, in the low-level API's shapes (the SDK, or a test double). */
export interface DynamoApi {
  getItem(input: Record<string, unknown>): Promise<{ Item?: Item }>;
  updateItem(input: Record<string, unknown>): Promise<{ Attributes?: Item }>;
  query(input: Record<string, unknown>): Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }>;
}

/** The condition of a conditional write did not hold (DynamoDB's ConditionalCheckFailedException). */
export function isConditionFailed(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === "ConditionalCheckFailedException";
}

type DynamoModule = typeof import("@aws-sdk/client-dynamodb");
let sdkModule: Promise<DynamoModule> | undefined;

/** The SDK-backed {@link DynamoApi}; the SDK is loaded on the first call, one client per container. */
export function sdkDynamoApi(): DynamoApi {
  let client: Promise<{ sdk: DynamoModule; client: InstanceType<DynamoModule["DynamoDBClient"]> }> | undefined;
  const ready = () =>
    (client ??= (sdkModule ??= import("@aws-sdk/client-dynamodb")).then((sdk) => ({
      sdk,
      client: new sdk.DynamoDBClient({ ...sdkClientConfig(), maxAttempts: SDK_MAX_ATTEMPTS }),
    })));
  /* eslint-disable @typescript-eslint/no-explicit-any -- the low-level shapes are built by this module */
  return {
    async getItem(input) {
      const { sdk, client: c } = await ready();
      return (await c.send(new sdk.GetItemCommand(input as any))) as { Item?: Item };
    },
    async updateItem(input) {
      const { sdk, client: c } = await ready();
      return (await c.send(new sdk.UpdateItemCommand(input as any))) as { Attributes?: Item };
    },
    async query(input) {
      const { sdk, client: c } = await ready();
      return (await c.send(new sdk.QueryCommand(input as any))) as { Items?: Item[]; LastEvaluatedKey?: Item };
    },
  };
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

// ----- attribute helpers -----

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

function num(item: Item | undefined, name: string): number | undefined {
  const value = item?.[name];
  if (!value || !("N" in value)) return undefined;
  const n = Number(value.N);
  return Number.isFinite(n) ? n : undefined;
}

function str(item: Item | undefined, name: string): string | undefined {
  const value = item?.[name];
  return value && "S" in value ? value.S : undefined;
}

const rulePk = (rule: string) => `rule#${rule}`;
const hourSk = (hourStart: number) => `hour#${String(hourStart).padStart(12, "0")}`;
const RULE_STATE_SK = "state";
const HOST_KEY = { pk: S("host"), sk: S("id") };
const leaseKey = (name: string) => ({ pk: S("lease"), sk: S(name) });

/** The epoch second an hour starts, for an epoch second (minute) inside it. */
export const hourOf = (epochSeconds: number): number => Math.floor(epochSeconds / 3600) * 3600;
/** `c07`/`p07`: the attribute of minute 7 of its hour. */
const minuteAttr = (prefix: "c" | "p", minute: number): string =>
  `${prefix}${String(Math.floor((minute % 3600) / 60)).padStart(2, "0")}`;

// ----- the store -----

/** What the table knows about one log rule. Times: `lastMatchAt` in ms; the others in epoch seconds. */
export interface RuleState {
  /** Timestamp of the newest matching event (epoch ms, event time). */
  lastMatchAt?: number;
  /** occurredAt of the newest check report claimed for the rule. */
  reportedAt?: number;
  reportedStatus?: CheckStatus;
  /** The last minute posted as `logs.<rule>.count` by the tick's normal flush (the watermark). */
  flushedThrough?: number;
}

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

/** The outcome of {@link StateStore.claimReport}. */
export interface ReportClaim {
  /** The occurredAt this report may use (unique for the rule); undefined: do not report (see reason). */
  occurredAt?: number;
  /** Why no report: another report of the same status holds this second (and the next ones), or was recent. */
  skipped?: "same-second" | "recently-reported" | "contention";
  /** The state before this claim. */
  previous: RuleState;
}

export interface ClaimReportOptions {
  status: CheckStatus;
  /** Epoch seconds: the report's preferred occurredAt. */
  nowSec: number;
  /** Epoch ms of the newest matching event: recorded as `lastMatchAt` when newer than the stored one. */
  lastMatchAt?: number;
  /**
   * Skip the report when the newest report has the same status and is at most this many seconds old
   * (rate-limits reports that repeat themselves, such as UNKNOWN for a rule that cannot run). Default 0:
   * only the same second is taken.
   */
  minIntervalSec?: number;
}

/**
 * How far ahead of now a report of an already reported status may move its occurredAt to find a free second.
 * Beyond that, the report is skipped: more reports of one status per second than this only change the message.
 */
export const MAX_OCCURRED_AT_AHEAD_SECONDS = 2;

/** Optimistic rounds of {@link StateStore.claimReport} under contention before it gives up on the report. */
const CLAIM_ATTEMPTS = 8;

export interface StateStoreOptions {
  tableName: string;
  api?: DynamoApi;
  /** Clock for leases (epoch ms). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** The state table. Stateless besides its client: share one per container. */
export class StateStore {
  readonly tableName: string;
  private readonly api: DynamoApi;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(options: StateStoreOptions) {
    this.tableName = options.tableName;
    this.api = options.api ?? sdkDynamoApi();
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  // ----- configuration written by the module -----

  /**
   * The JSON text of a configuration item the module writes (`aws_dynamodb_table_item`, pk `config`), read
   * strongly consistent; undefined when the item does not exist.
   */
  async readConfig(name: string): Promise<string | undefined> {
    const { Item: item } = await this.api.getItem({
      TableName: this.tableName,
      Key: { pk: S("config"), sk: S(name) },
      ConsistentRead: true,
    });
    return str(item, "json");
  }

  // ----- per-minute counts -----

  /**
   * Adds per-minute counts of one rule atomically: one UpdateItem per hour touched, with an ADD per minute.
   *
   * @param counts - epoch minute (seconds, multiple of 60) → matches to add.
   * @returns the number of requests made.
   */
  async addMinuteCounts(rule: string, counts: ReadonlyMap<number, number>): Promise<number> {
    const byHour = new Map<number, [number, number][]>();
    for (const [minute, count] of counts) {
      if (count <= 0) continue;
      const hour = hourOf(minute);
      let list = byHour.get(hour);
      if (!list) byHour.set(hour, (list = []));
      list.push([minute, count]);
    }
    await Promise.all(
      [...byHour].map(([hour, minutes]) => {
        const names: Record<string, string> = { "#e": STATE_TABLE_KEYS.ttlAttribute };
        const values: Item = { ":e": N(hour + 3600 + BUCKET_RETENTION_SECONDS) };
        const adds = minutes.map(([minute, count], i) => {
          names[`#c${i}`] = minuteAttr("c", minute);
          values[`:c${i}`] = N(count);
          return `#c${i} :c${i}`;
        });
        return this.api.updateItem({
          TableName: this.tableName,
          Key: { pk: S(rulePk(rule)), sk: S(hourSk(hour)) },
          UpdateExpression: `SET #e = :e ADD ${adds.join(", ")}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        });
      }),
    );
    return byHour.size;
  }

  /**
   * Reads a rule's minute buckets from the hour of `fromSec` on, and its state, with one strongly consistent
   * Query (paged only beyond 1 MB, which 25 hour items never reach).
   */
  async readRule(rule: string, fromSec: number): Promise<RuleView> {
    const minutes = new Map<number, MinuteBucket>();
    let state: RuleState = {};
    let start: Item | undefined;
    do {
      const page = await this.api.query({
        TableName: this.tableName,
        ConsistentRead: true,
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
  async markPosted(rule: string, posted: readonly { minute: number; value: number }[]): Promise<number> {
    const byHour = new Map<number, { minute: number; value: number }[]>();
    for (const p of posted) {
      if (p.value <= 0) continue; // a zero with no bucket needs no mark: an absent mark reads as 0
      const hour = hourOf(p.minute);
      let list = byHour.get(hour);
      if (!list) byHour.set(hour, (list = []));
      list.push(p);
    }
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
      try {
        await this.api.updateItem({
          TableName: this.tableName,
          Key: { pk: S(rulePk(rule)), sk: S(hourSk(hour)) },
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: conditions.join(" AND "),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        });
        return list.length;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (list.length === 1) return 0;
        const each = await Promise.all(list.map((p) => mark(hour, [p])));
        return each.reduce((a, b) => a + b, 0);
      }
    };
    const counts = await Promise.all([...byHour].map(([hour, list]) => mark(hour, list)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Moves a rule's watermark from `from` (undefined: none yet) to `to`, only if it is still `from`.
   *
   * @returns false when another writer moved it first.
   */
  async advanceWatermark(rule: string, from: number | undefined, to: number): Promise<boolean> {
    try {
      await this.api.updateItem({
        TableName: this.tableName,
        Key: this.ruleStateKey(rule),
        UpdateExpression: "SET #w = :to",
        ConditionExpression: from === undefined ? "attribute_not_exists(#w)" : "#w = :from",
        ExpressionAttributeNames: { "#w": "flushedThrough" },
        ExpressionAttributeValues: { ":to": N(to), ...(from !== undefined && { ":from": N(from) }) },
      });
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  // ----- rule state and check report seconds -----

  async getRuleState(rule: string): Promise<RuleState> {
    const { Item: item } = await this.api.getItem({
      TableName: this.tableName,
      Key: this.ruleStateKey(rule),
      ConsistentRead: true,
    });
    return item ? ruleStateOf(item) : {};
  }

  /**
   * Claims the occurredAt of a check report for a rule, and records its newest match, in one conditional write
   * (optimistic concurrency, re-read on conflict).
   *
   * Mackerel ignores a report whose (host, name, occurredAt) it already has and one older than the newest it
   * has. So every report of a rule gets its own second, newer than every report claimed before it, across all
   * containers: `nowSec` when free; else the second after the newest claim, when that report has another
   * status (a status change must never be lost) or is at most {@link MAX_OCCURRED_AT_AHEAD_SECONDS} ahead of
   * now. Otherwise the report is skipped: a report of the same status holds this second, and Mackerel would
   * have ignored this one anyway (its matches are still counted).
   */
  async claimReport(rule: string, options: ClaimReportOptions): Promise<ReportClaim> {
    const { status, nowSec } = options;
    const t = options.lastMatchAt;
    const minInterval = options.minIntervalSec ?? 0;
    const key = this.ruleStateKey(rule);
    const names = { "#m": "lastMatchAt", "#at": "reportedAt", "#st": "reportedStatus" };

    // The common case, no contention: one write, conditional on nothing newer being stored.
    const fastConditions = ["(attribute_not_exists(#at) OR #at < :s)"];
    const fastValues: Item = { ":s": N(nowSec), ":st": S(status) };
    if (t !== undefined) {
      fastConditions.push("(attribute_not_exists(#m) OR #m < :t)");
      fastValues[":t"] = N(t);
    }
    if (minInterval > 0) {
      fastConditions.push("(attribute_not_exists(#st) OR #st <> :st OR #at < :since)");
      fastValues[":since"] = N(nowSec - minInterval);
    }
    try {
      const { Attributes: old } = await this.api.updateItem({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: `SET ${t !== undefined ? "#m = :t, " : ""}#at = :s, #st = :st`,
        ConditionExpression: fastConditions.join(" AND "),
        ExpressionAttributeNames: t !== undefined ? names : { "#at": names["#at"], "#st": names["#st"] },
        ExpressionAttributeValues: fastValues,
        ReturnValues: "ALL_OLD",
      });
      return { occurredAt: nowSec, previous: old ? ruleStateOf(old) : {} };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }

    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
      const old = await this.getRuleState(rule);
      const setMatch = t !== undefined && (old.lastMatchAt === undefined || t > old.lastMatchAt);
      const decision = decideSecond(old, status, nowSec, minInterval);
      if (!setMatch && decision.skipped) return { skipped: decision.skipped, previous: old };

      const sets: string[] = [];
      const values: Item = {};
      const usedNames: Record<string, string> = {};
      if (setMatch) {
        sets.push("#m = :t");
        values[":t"] = N(t!);
        usedNames["#m"] = names["#m"];
      }
      if (decision.occurredAt !== undefined) {
        sets.push("#at = :s", "#st = :st");
        values[":s"] = N(decision.occurredAt);
        values[":st"] = S(status);
        usedNames["#at"] = names["#at"];
        usedNames["#st"] = names["#st"];
      }
      // Exactly the state read above, or retry.
      const conditions = [
        this.expect(usedNames, values, "#m", names["#m"], ":om", old.lastMatchAt),
        this.expect(usedNames, values, "#at", names["#at"], ":oat", old.reportedAt),
        this.expect(usedNames, values, "#st", names["#st"], ":ost", old.reportedStatus),
      ];
      try {
        await this.api.updateItem({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: conditions.join(" AND "),
          ExpressionAttributeNames: usedNames,
          ExpressionAttributeValues: values,
        });
        return decision.occurredAt !== undefined
          ? { occurredAt: decision.occurredAt, previous: old }
          : { skipped: decision.skipped, previous: old };
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        await this.sleep(5 + Math.floor(this.random() * 20 * attempt));
      }
    }
    // Still contended: keep the newest match at least (recovery depends on it); the report is skipped.
    if (t !== undefined) await this.recordMatch(rule, t);
    return { skipped: "contention", previous: await this.getRuleState(rule) };
  }

  /** Records `lastMatchAt = max(stored, t)`. */
  async recordMatch(rule: string, t: number): Promise<void> {
    try {
      await this.api.updateItem({
        TableName: this.tableName,
        Key: this.ruleStateKey(rule),
        UpdateExpression: "SET #m = :t",
        ConditionExpression: "attribute_not_exists(#m) OR #m < :t",
        ExpressionAttributeNames: { "#m": "lastMatchAt" },
        ExpressionAttributeValues: { ":t": N(t) },
      });
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  /**
   * Claims the OK report that closes a rule's alert: only if the state is still `seen` (nothing reported since)
   * and the newest match is not newer than `quietSinceMs`. At most one container wins.
   *
   * @returns the occurredAt of the OK report, or undefined when the claim lost.
   */
  async claimRecovery(
    rule: string,
    seen: RuleState,
    nowSec: number,
    quietSinceMs: number,
  ): Promise<number | undefined> {
    if (seen.reportedStatus === undefined || seen.reportedStatus === "OK" || seen.reportedAt === undefined) {
      return undefined;
    }
    const occurredAt = Math.max(nowSec, seen.reportedAt + 1);
    try {
      await this.api.updateItem({
        TableName: this.tableName,
        Key: this.ruleStateKey(rule),
        UpdateExpression: "SET #at = :s, #st = :ok",
        ConditionExpression: "#st = :ost AND #at = :oat AND (attribute_not_exists(#m) OR #m <= :quiet)",
        ExpressionAttributeNames: { "#at": "reportedAt", "#st": "reportedStatus", "#m": "lastMatchAt" },
        ExpressionAttributeValues: {
          ":s": N(occurredAt),
          ":ok": S("OK"),
          ":ost": S(seen.reportedStatus),
          ":oat": N(seen.reportedAt),
          ":quiet": N(quietSinceMs),
        },
      });
      return occurredAt;
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }

  /**
   * Claims an occurredAt for a check report of `check` (the metric function's checks, per host): `preferSec`
   * when it is newer than every second claimed before, else the second after the newest claim. Never skips:
   * every report a workflow sends gets its own second, so Mackerel keeps each (a CRITICAL then an OK within
   * one second both arrive, and the alert closes). Two conditional writes at most.
   */
  async claimCheckSecond(check: string, preferSec: number): Promise<number> {
    const key = { pk: S(`check#${check}`), sk: S(RULE_STATE_SK) };
    try {
      await this.api.updateItem({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: "SET #at = :s",
        ConditionExpression: "attribute_not_exists(#at) OR #at < :s",
        ExpressionAttributeNames: { "#at": "reportedAt" },
        ExpressionAttributeValues: { ":s": N(preferSec) },
      });
      return preferSec;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    // A newer or equal second is taken: the next one, atomically (ADD returns the incremented value).
    const { Attributes: updated } = await this.api.updateItem({
      TableName: this.tableName,
      Key: key,
      UpdateExpression: "ADD #at :one",
      ExpressionAttributeNames: { "#at": "reportedAt" },
      ExpressionAttributeValues: { ":one": N(1) },
      ReturnValues: "UPDATED_NEW",
    });
    return num(updated, "reportedAt") ?? preferSec;
  }

  /** Undoes a claim (the report could neither be sent nor spooled), if nothing was claimed after it. */
  async releaseClaim(rule: string, claimed: { occurredAt: number; status: CheckStatus }, previous: RuleState) {
    const restore = previous.reportedAt !== undefined && previous.reportedStatus !== undefined;
    try {
      await this.api.updateItem({
        TableName: this.tableName,
        Key: this.ruleStateKey(rule),
        UpdateExpression: restore ? "SET #at = :oat, #st = :ost" : "REMOVE #at, #st",
        ConditionExpression: "#at = :s AND #st = :st",
        ExpressionAttributeNames: { "#at": "reportedAt", "#st": "reportedStatus" },
        ExpressionAttributeValues: {
          ":s": N(claimed.occurredAt),
          ":st": S(claimed.status),
          ...(restore && { ":oat": N(previous.reportedAt!), ":ost": S(previous.reportedStatus!) }),
        },
      });
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  // ----- delivered payloads -----

  /**
   * Marks a subscription payload as counted by `owner`, unless it already is: CloudWatch Logs and Lambda's
   * asynchronous invocation deliver at least once, and counts are added (not set), so a payload delivered
   * twice must be counted once. The mark lives {@link PAYLOAD_MARK_SECONDS} (Lambda retries an asynchronous
   * event for up to 6 hours).
   *
   * A retry of the same invocation (after a timeout, with the same request id) finds the mark too: its counts
   * were stored before, and storing them again would double them. Only when none could be stored does the
   * function remove its mark ({@link unmarkPayload}) before failing, so that the retry counts them.
   *
   * @returns false when the payload was already counted (a duplicate delivery or a retry).
   */
  async markPayload(key: string, owner: string, nowSec: number): Promise<boolean> {
    try {
      await this.api.updateItem({
        TableName: this.tableName,
        Key: { pk: S(`payload#${key}`), sk: S("counted") },
        UpdateExpression: "SET #by = :by, #e = :e",
        ConditionExpression: "attribute_not_exists(#by)",
        ExpressionAttributeNames: { "#by": "countedBy", "#e": STATE_TABLE_KEYS.ttlAttribute },
        ExpressionAttributeValues: { ":by": S(owner), ":e": N(nowSec + PAYLOAD_MARK_SECONDS) },
      });
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  /** Removes `owner`'s mark (its counts could not be stored): a retry of the payload counts it. */
  async unmarkPayload(key: string, owner: string): Promise<void> {
    try {
      await this.api.updateItem({
        TableName: this.tableName,
        Key: { pk: S(`payload#${key}`), sk: S("counted") },
        UpdateExpression: "REMOVE #by",
        ConditionExpression: "#by = :by",
        ExpressionAttributeNames: { "#by": "countedBy" },
        ExpressionAttributeValues: { ":by": S(owner) },
      });
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  // ----- leases -----

  /**
   * Takes the named lease until `untilMs` unless another owner holds an unexpired one.
   *
   * @returns whether this owner holds it now.
   */
  async acquireLease(name: string, owner: string, untilMs: number): Promise<boolean> {
    try {
      await this.api.updateItem({
        TableName: this.tableName,
        Key: leaseKey(name),
        UpdateExpression: "SET #o = :o, #u = :u, #e = :e",
        ConditionExpression: "attribute_not_exists(#u) OR #u < :now OR #o = :o",
        ExpressionAttributeNames: { "#o": "owner", "#u": "leaseUntil", "#e": STATE_TABLE_KEYS.ttlAttribute },
        ExpressionAttributeValues: {
          ":o": S(owner),
          ":u": N(untilMs),
          ":now": N(this.now()),
          ":e": N(Math.ceil(untilMs / 1000) + 24 * 3600),
        },
      });
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  /** Ends the lease early if this owner still holds it. */
  async releaseLease(name: string, owner: string): Promise<void> {
    try {
      await this.api.updateItem({
        TableName: this.tableName,
        Key: leaseKey(name),
        UpdateExpression: "SET #u = :zero",
        ConditionExpression: "#o = :o",
        ExpressionAttributeNames: { "#o": "owner", "#u": "leaseUntil" },
        ExpressionAttributeValues: { ":o": S(owner), ":zero": N(0) },
      });
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  // ----- the host id -----

  /**
   * The durable host id for {@link HostResolver}: containers agree on one Mackerel host, and only the
   * container holding the registration lease looks it up and registers it (two cold starts racing must not
   * register two hosts).
   */
  hostIdStore(options: { owner?: string; leaseMs?: number; pollMs?: number } = {}): HostIdStore {
    const owner = options.owner ?? randomOwner();
    const leaseMs = options.leaseMs ?? 20_000;
    const pollMs = options.pollMs ?? 200;
    const read = async (): Promise<string | undefined> => {
      const { Item: item } = await this.api.getItem({ TableName: this.tableName, Key: HOST_KEY, ConsistentRead: true });
      return str(item, "hostId");
    };
    return {
      get: read,
      claimResolution: async () => {
        // Bounded: after two leases' time without an id, resolve it here (Mackerel's unique custom
        // identifier and HostResolver's retry on a refused registration still prevent a second host).
        const giveUpAt = this.now() + 2 * leaseMs;
        while (this.now() < giveUpAt) {
          try {
            await this.api.updateItem({
              TableName: this.tableName,
              Key: HOST_KEY,
              UpdateExpression: "SET #o = :o, #u = :u",
              ConditionExpression: "attribute_not_exists(#id) AND (attribute_not_exists(#u) OR #u < :now)",
              ExpressionAttributeNames: { "#o": "leaseOwner", "#u": "leaseUntil", "#id": "hostId" },
              ExpressionAttributeValues: { ":o": S(owner), ":u": N(this.now() + leaseMs), ":now": N(this.now()) },
            });
            return undefined; // this container resolves the host
          } catch (error) {
            if (!isConditionFailed(error)) throw error;
          }
          // Another container holds the lease (or stored the id): wait for its id, or for its lease to lapse.
          const { Item: item } = await this.api.getItem({
            TableName: this.tableName,
            Key: HOST_KEY,
            ConsistentRead: true,
          });
          const id = str(item, "hostId");
          if (id) return id;
          const until = num(item, "leaseUntil") ?? 0;
          if (until >= this.now()) await this.sleep(Math.min(pollMs, until - this.now() + 1));
        }
        return undefined;
      },
      putIfAbsent: async (id: string) => {
        try {
          await this.api.updateItem({
            TableName: this.tableName,
            Key: HOST_KEY,
            UpdateExpression: "SET #id = :id REMOVE #o, #u",
            ConditionExpression: "attribute_not_exists(#id)",
            ExpressionAttributeNames: { "#id": "hostId", "#o": "leaseOwner", "#u": "leaseUntil" },
            ExpressionAttributeValues: { ":id": S(id) },
          });
          return id;
        } catch (error) {
          if (!isConditionFailed(error)) throw error;
          return (await read()) ?? id;
        }
      },
      replace: async (staleId: string, id: string) => {
        // Only over the stale id (or none): a container that replaced it first wins, and all use its id.
        try {
          await this.api.updateItem({
            TableName: this.tableName,
            Key: HOST_KEY,
            UpdateExpression: "SET #id = :id REMOVE #o, #u",
            ConditionExpression: "attribute_not_exists(#id) OR #id = :stale",
            ExpressionAttributeNames: { "#id": "hostId", "#o": "leaseOwner", "#u": "leaseUntil" },
            ExpressionAttributeValues: { ":id": S(id), ":stale": S(staleId) },
          });
          return id;
        } catch (error) {
          if (!isConditionFailed(error)) throw error;
          return (await read()) ?? id;
        }
      },
    };
  }

  private ruleStateKey(rule: string): Item {
    return { pk: S(rulePk(rule)), sk: S(RULE_STATE_SK) };
  }

  /** A condition that attribute `name` still has `value` (or is absent when undefined); registers its names. */
  private expect(
    names: Record<string, string>,
    values: Item,
    placeholder: string,
    attribute: string,
    valuePlaceholder: string,
    value: number | string | undefined,
  ): string {
    names[placeholder] = attribute;
    if (value === undefined) return `attribute_not_exists(${placeholder})`;
    values[valuePlaceholder] = typeof value === "number" ? N(value) : S(value);
    return `${placeholder} = ${valuePlaceholder}`;
  }
}

/** Which second a report of `status` takes given the stored state (see {@link StateStore.claimReport}). */
export function decideSecond(
  old: RuleState,
  status: CheckStatus,
  nowSec: number,
  minIntervalSec = 0,
): { occurredAt?: number; skipped?: ReportClaim["skipped"] } {
  const sameStatus = old.reportedStatus === status;
  if (old.reportedAt === undefined) return { occurredAt: nowSec };
  if (sameStatus && minIntervalSec > 0 && old.reportedAt >= nowSec - minIntervalSec) {
    return { skipped: "recently-reported" };
  }
  if (old.reportedAt < nowSec) return { occurredAt: nowSec };
  const next = old.reportedAt + 1;
  if (!sameStatus) return { occurredAt: next };
  return next <= nowSec + MAX_OCCURRED_AT_AHEAD_SECONDS ? { occurredAt: next } : { skipped: "same-second" };
}

function ruleStateOf(item: Item): RuleState {
  const lastMatchAt = num(item, "lastMatchAt");
  const reportedAt = num(item, "reportedAt");
  const reportedStatus = str(item, "reportedStatus") as CheckStatus | undefined;
  const flushedThrough = num(item, "flushedThrough");
  return {
    ...(lastMatchAt !== undefined && { lastMatchAt }),
    ...(reportedAt !== undefined && { reportedAt }),
    ...(reportedStatus !== undefined && { reportedStatus }),
    ...(flushedThrough !== undefined && { flushedThrough }),
  };
}

function randomOwner(): string {
  return `${process.env.AWS_LAMBDA_FUNCTION_NAME ?? "local"}/${process.pid}/${Math.random().toString(36).slice(2)}`;
}

const stores = new Map<string, StateStore>();

/** One store (and one SDK client) per table per container. */
export function sharedStateStore(tableName: string): StateStore {
  let store = stores.get(tableName);
  if (!store) stores.set(tableName, (store = new StateStore({ tableName })));
  return store;
}
