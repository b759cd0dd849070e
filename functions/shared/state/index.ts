/**
 * The module's DynamoDB state table: one on-demand table, string keys `pk`/`sk`, TTL attribute `expiresAt`,
 * holding five small stores (one file each; the item layout is in README.md beside them):
 * per-minute counts (`minute-counts.ts`), rule state and report claims (`rule-state.ts`, `check-seconds.ts`),
 * payload marks (`payload-marks.ts`), leases (`leases.ts`) and the host id (`host-id.ts`), plus the module's
 * configuration items (`config-items.ts`). `table.ts` is the one access layer they share.
 *
 * {@link StateStore} is the face the functions use: one per table per container ({@link sharedStateStore}).
 */
import type { CheckStatus } from "../names.js";
import type { HostIdStore } from "../host.js";
import { claimCheckSecond } from "./check-seconds.js";
import { readConfig } from "./config-items.js";
import { hostIdStore, type HostIdStoreOptions } from "./host-id.js";
import { acquireLease, releaseLease } from "./leases.js";
import { addMinuteCounts, markPosted, readRule, type RuleView } from "./minute-counts.js";
import { markPayload, unmarkPayload } from "./payload-marks.js";
import {
  advanceWatermark,
  claimRecovery,
  claimReport,
  type ClaimReportOptions,
  getRuleState,
  recordMatch,
  releaseClaim,
  type ReportClaim,
  type RuleState,
} from "./rule-state.js";
import { StateTable, type StateTableOptions } from "./table.js";

export { BUCKET_RETENTION_SECONDS, hourOf, type MinuteBucket, type RuleView } from "./minute-counts.js";
export { PAYLOAD_MARK_SECONDS } from "./payload-marks.js";
export {
  type ClaimReportOptions,
  decideSecond,
  MAX_OCCURRED_AT_AHEAD_SECONDS,
  type ReportClaim,
  type RuleState,
} from "./rule-state.js";
export {
  type AttributeValue,
  type DynamoApi,
  isConditionFailed,
  type Item,
  sdkDynamoApi,
  STATE_TABLE_KEYS,
} from "./table.js";
export type { HostIdStoreOptions } from "./host-id.js";
export type StateStoreOptions = StateTableOptions;

/** Time an invocation keeps after its state-table calls: to post or spool, and to return or fail cleanly. */
export const STATE_TABLE_RESERVE_MS = 8_000;

/** The state table's stores behind one object. Stateless besides its client: share one per container. */
export class StateStore {
  private readonly table: StateTable;

  constructor(options: StateStoreOptions) {
    this.table = new StateTable(options);
  }

  get tableName(): string {
    return this.table.tableName;
  }

  /**
   * See {@link StateTable.beginInvocation}: bounds the table's calls for the invocation that starts, which has
   * `remainingMs` left; {@link STATE_TABLE_RESERVE_MS} of it is kept for what follows the table's calls.
   */
  beginInvocation(remainingMs: number): void {
    this.table.beginInvocation(remainingMs - STATE_TABLE_RESERVE_MS);
  }

  /** See {@link readConfig}. */
  readConfig(name: string): Promise<string | undefined> {
    return readConfig(this.table, name);
  }

  /** See {@link addMinuteCounts}. */
  addMinuteCounts(rule: string, counts: ReadonlyMap<number, number>): Promise<number> {
    return addMinuteCounts(this.table, rule, counts);
  }

  /** See {@link readRule}. */
  readRule(rule: string, fromSec: number): Promise<RuleView> {
    return readRule(this.table, rule, fromSec);
  }

  /** See {@link markPosted}. */
  markPosted(rule: string, posted: readonly { minute: number; value: number }[]): Promise<number> {
    return markPosted(this.table, rule, posted);
  }

  /** See {@link advanceWatermark}. */
  advanceWatermark(rule: string, from: number | undefined, to: number): Promise<boolean> {
    return advanceWatermark(this.table, rule, from, to);
  }

  /** See {@link getRuleState}. */
  getRuleState(rule: string): Promise<RuleState> {
    return getRuleState(this.table, rule);
  }

  /** See {@link claimReport}. */
  claimReport(rule: string, options: ClaimReportOptions): Promise<ReportClaim> {
    return claimReport(this.table, rule, options);
  }

  /** See {@link recordMatch}. */
  recordMatch(rule: string, t: number): Promise<void> {
    return recordMatch(this.table, rule, t);
  }

  /** See {@link claimRecovery}. */
  claimRecovery(rule: string, seen: RuleState, nowSec: number, quietSinceMs: number): Promise<number | undefined> {
    return claimRecovery(this.table, rule, seen, nowSec, quietSinceMs);
  }

  /** See {@link claimCheckSecond}. */
  claimCheckSecond(check: string, preferSec: number): Promise<number> {
    return claimCheckSecond(this.table, check, preferSec);
  }

  /** See {@link releaseClaim}. */
  releaseClaim(rule: string, claimed: { occurredAt: number; status: CheckStatus }, previous: RuleState): Promise<void> {
    return releaseClaim(this.table, rule, claimed, previous);
  }

  /** See {@link markPayload}. */
  markPayload(key: string, owner: string, nowSec: number): Promise<boolean> {
    return markPayload(this.table, key, owner, nowSec);
  }

  /** See {@link unmarkPayload}. */
  unmarkPayload(key: string, owner: string): Promise<void> {
    return unmarkPayload(this.table, key, owner);
  }

  /** See {@link acquireLease}. */
  acquireLease(name: string, owner: string, untilMs: number): Promise<boolean> {
    return acquireLease(this.table, name, owner, untilMs);
  }

  /** See {@link releaseLease}. */
  releaseLease(name: string, owner: string): Promise<void> {
    return releaseLease(this.table, name, owner);
  }

  /** See {@link hostIdStore}. */
  hostIdStore(options: HostIdStoreOptions = {}): HostIdStore {
    return hostIdStore(this.table, options);
  }
}

const stores = new Map<string, StateStore>();

/** One store (and one SDK client) per table per container. */
export function sharedStateStore(tableName: string): StateStore {
  let store = stores.get(tableName);
  if (!store) stores.set(tableName, (store = new StateStore({ tableName })));
  return store;
}
