/**
 * The state table's access layer: the DynamoDB operations the stores use, attribute encoding, and the ONE
 * place where a conditional write's ConditionalCheckFailedException becomes an outcome instead of an error.
 * The item layout of every store is in README.md beside this file.
 *
 * The AWS SDK is imported on first use (it costs ~50 ms of cold start) and honours AWS_ENDPOINT_URL_DYNAMODB.
 */
import { sdkClientConfig } from "../aws-sdk.js";
import { StateTableUnavailableError } from "../errors.js";

/** Key and TTL attribute names: the module creates the table with these (modules/construct/state-table.ts). */
export const STATE_TABLE_KEYS = { partitionKey: "pk", sortKey: "sk", ttlAttribute: "expiresAt" } as const;

/** The SDK's attempts per request (its standard retry mode: throttling, 5xx, network errors). */
const SDK_MAX_ATTEMPTS = 5;

/** A DynamoDB attribute value in the low-level JSON form. */
export type AttributeValue = { S: string } | { N: string } | { BOOL: boolean } | { NULL: true };
export type Item = Record<string, AttributeValue>;

/** Per call: a signal that abandons it (all its attempts) when the invocation's time for the table is spent. */
export interface CallOptions {
  readonly abortSignal?: AbortSignal;
}

/** The DynamoDB operations the state store uses, in the low-level API's shapes (the SDK, or a test double). */
export interface DynamoApi {
  getItem(input: Record<string, unknown>, options?: CallOptions): Promise<{ Item?: Item }>;
  updateItem(input: Record<string, unknown>, options?: CallOptions): Promise<{ Attributes?: Item }>;
  query(input: Record<string, unknown>, options?: CallOptions): Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }>;
}

/**
 * The table gave no answer: no HTTP response at all (connection refused or reset, timeouts, an abandoned
 * call), after the SDK's own attempts. An error DynamoDB answered (throttling, a 5xx, a failed condition)
 * carries the response's status and says the table is there.
 */
function isUnanswered(error: unknown): boolean {
  const metadata = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return metadata?.httpStatusCode === undefined && !isConditionFailed(error);
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
    async getItem(input, options) {
      const { sdk, client: c } = await ready();
      return (await c.send(new sdk.GetItemCommand(input as any), options)) as { Item?: Item };
    },
    async updateItem(input, options) {
      const { sdk, client: c } = await ready();
      return (await c.send(new sdk.UpdateItemCommand(input as any), options)) as { Attributes?: Item };
    },
    async query(input, options) {
      const { sdk, client: c } = await ready();
      return (await c.send(new sdk.QueryCommand(input as any), options)) as {
        Items?: Item[];
        LastEvaluatedKey?: Item;
      };
    },
  };
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

// ----- attribute encoding -----

/** A string attribute value. */
export const S = (value: string): AttributeValue => ({ S: value });
/** A number attribute value. */
export const N = (value: number): AttributeValue => ({ N: String(value) });

/** The finite number in attribute `name`, if it holds one. */
export function num(item: Item | undefined, name: string): number | undefined {
  const value = item?.[name];
  if (!value || !("N" in value)) return undefined;
  const n = Number(value.N);
  return Number.isFinite(n) ? n : undefined;
}

/** The string in attribute `name`, if it holds one. */
export function str(item: Item | undefined, name: string): string | undefined {
  const value = item?.[name];
  return value && "S" in value ? value.S : undefined;
}

/** The key of an item: `pk` and `sk`. */
export const itemKey = (pk: string, sk: string): Item => ({ pk: S(pk), sk: S(sk) });

// ----- the table -----

/** One UpdateItem: the key, the expressions and their placeholders. */
export interface Update {
  key: Item;
  /** `SET …`, `ADD …`, `REMOVE …`. */
  update: string;
  /** Without one the write always applies. */
  condition?: string;
  names: Record<string, string>;
  values?: Item;
  returnValues?: "ALL_OLD" | "UPDATED_NEW";
}

/** The outcome of a conditional write. */
export type UpdateOutcome = { applied: true; attributes: Item | undefined } | { applied: false };

export interface StateTableOptions {
  tableName: string;
  api?: DynamoApi;
  /** Clock for leases (epoch ms). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** The table and the clock, randomness and sleep the stores use (injectable for tests). */
export class StateTable {
  readonly tableName: string;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  private readonly api: DynamoApi;
  /** The end of the invocation's time for the table; Infinity until {@link beginInvocation}: no bound. */
  private deadline = Infinity;
  /** The no-answer error that closed the table for this invocation. */
  private unanswered: unknown;

  constructor(options: StateTableOptions) {
    this.tableName = options.tableName;
    this.api = options.api ?? sdkDynamoApi();
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  /**
   * Bounds the table's calls until the next call of this method: they may take `remainingMs` in all, and once
   * one gets no answer through all the SDK's attempts (the table accepts no connection or never answers), the
   * rest fail at once with {@link StateTableUnavailableError} instead of each waiting as long. A function
   * that calls it must call it at the start of every invocation (the bound would outlive the invocation and
   * close the table for the next), with the time it can give the table: a chain of calls into a
   * table that never answers (the logs function's duplicate mark, counts, report seconds, unmark: 5 attempts
   * of 3 s each) would otherwise outlast the invocation, which Lambda then kills.
   */
  beginInvocation(remainingMs: number): void {
    this.deadline = performance.now() + remainingMs;
    this.unanswered = undefined;
  }

  /** Runs one call within the invocation's bound (see {@link beginInvocation}). */
  private async bounded<T>(call: (options: CallOptions) => Promise<T>): Promise<T> {
    if (this.unanswered !== undefined) {
      throw new StateTableUnavailableError("the state table did not answer earlier in this invocation", {
        cause: this.unanswered,
      });
    }
    const bound = Number.isFinite(this.deadline);
    const left = this.deadline - performance.now();
    if (left <= 0) throw new StateTableUnavailableError("this invocation's time for the state table is spent");
    try {
      return await call(bound ? { abortSignal: AbortSignal.timeout(Math.ceil(left)) } : {});
    } catch (error) {
      if (!bound || !isUnanswered(error)) throw error;
      this.unanswered = error;
      throw new StateTableUnavailableError("the state table did not answer", { cause: error });
    }
  }

  /** A strongly consistent GetItem (every read here decides a write). */
  async get(key: Item): Promise<Item | undefined> {
    const { Item: item } = await this.bounded((options) =>
      this.api.getItem({ TableName: this.tableName, Key: key, ConsistentRead: true }, options),
    );
    return item;
  }

  /** A strongly consistent Query page. */
  query(input: Record<string, unknown>): Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }> {
    return this.bounded((options) =>
      this.api.query({ TableName: this.tableName, ConsistentRead: true, ...input }, options),
    );
  }

  /** An UpdateItem; a failed condition throws like any other error (use {@link updateIf} to expect one). */
  async update(update: Update): Promise<Item | undefined> {
    const { Attributes: attributes } = await this.bounded((options) =>
      this.api.updateItem(
        {
          TableName: this.tableName,
          Key: update.key,
          UpdateExpression: update.update,
          ...(update.condition !== undefined && { ConditionExpression: update.condition }),
          ExpressionAttributeNames: update.names,
          ...(update.values !== undefined && { ExpressionAttributeValues: update.values }),
          ...(update.returnValues !== undefined && { ReturnValues: update.returnValues }),
        },
        options,
      ),
    );
    return attributes;
  }

  /**
   * A conditional UpdateItem whose condition may fail: `{ applied: false }` then, every other error thrown.
   * Every write that must not race goes through here.
   */
  async updateIf(update: Update & { condition: string }): Promise<UpdateOutcome> {
    try {
      return { applied: true, attributes: await this.update(update) };
    } catch (error) {
      if (isConditionFailed(error)) return { applied: false };
      throw error;
    }
  }
}
