/**
 * The state-table suites' set-up: dynalite (a real DynamoDB implementation, started on a free port), reached
 * through AWS_ENDPOINT_URL_DYNAMODB like the functions reach DynamoDB, and the SDK-backed API with its calls
 * recorded.
 */
import { type DynamoApi, sdkDynamoApi, StateStore } from "../../../../functions/shared/state";
import { type LocalDynamo, startDynalite } from "../../../../scripts/local/dynalite";

/** A dynalite for the suite (started before its tests, stopped after), fresh tables, and the calls made. */
export interface StateTableFixture {
  /** The API the stores use: the SDK against dynalite, each call recorded. */
  readonly api: () => DynamoApi;
  /** The calls since the current test began. */
  readonly calls: () => { op: string; input: Record<string, unknown> }[];
  /** A store on a new, empty table. */
  freshStore(options?: { now?: () => number }): Promise<StateStore>;
}

/** Registers the suite's beforeAll/beforeEach/afterAll and returns the fixture. */
export function stateTableFixture(): StateTableFixture {
  let dynamo: LocalDynamo;
  let api: DynamoApi;
  let calls: { op: string; input: Record<string, unknown> }[] = [];
  let tableSeq = 0;
  const counting = (inner: DynamoApi): DynamoApi => {
    const wrap =
      <K extends keyof DynamoApi>(op: K) =>
      (input: Record<string, unknown>) => {
        calls.push({ op, input });
        return inner[op](input) as never;
      };
    return { getItem: wrap("getItem"), updateItem: wrap("updateItem"), query: wrap("query") };
  };

  beforeAll(async () => {
    dynamo = await startDynalite();
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.url;
    process.env.AWS_REGION = "us-east-1";
    process.env.AWS_ACCESS_KEY_ID = "AKIDLOCAL";
    process.env.AWS_SECRET_ACCESS_KEY = "local-secret";
    api = counting(sdkDynamoApi());
  });
  beforeEach(() => {
    calls = [];
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    await dynamo.close();
  });

  return {
    api: () => api,
    calls: () => calls,
    async freshStore(options = {}) {
      const tableName = await dynamo.createStateTable(`state-${++tableSeq}`);
      return new StateStore({ tableName, api, ...options });
    },
  };
}
