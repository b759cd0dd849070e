/**
 * The state table: one on-demand DynamoDB table for per-minute log rule counts, log rule state, the resolved
 * Mackerel host id, the tick lease and the marks of counted payloads (functions/shared/state/ holds
 * the item design). Point-in-time recovery on; TTL on `expiresAt` removes hour buckets 25 hours after their
 * hour, leases and payload marks; encrypted at rest with the AWS managed key (no key policy to maintain).
 *
 * Functions get only the item actions they use on this table ({@link StateTable.statement}); the metric
 * function only on the host item (a `dynamodb:LeadingKeys` condition).
 */
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { DynamodbTableItem } from "@cdktf/provider-aws/lib/dynamodb-table-item";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { STATE_TABLE_KEYS } from "../../functions/shared/state";
import { type AwsLocation, ownArn } from "./context";
import type { PolicyStatement } from "./module-function";

export interface StateTableProps {
  prefix: string;
  tags: Record<string, string>;
  aws: AwsLocation;
}

/** The item actions the functions use (functions/shared/state/table.ts calls no others). */
export type StateTableAction = "dynamodb:GetItem" | "dynamodb:UpdateItem" | "dynamodb:Query";

export class StateTable extends Construct {
  readonly table: DynamodbTable;
  /** The table's ARN, known at plan. */
  private readonly arn: string;

  constructor(scope: Construct, id: string, props: StateTableProps) {
    super(scope, id);
    this.arn = ownArn(props.aws, "dynamodb", "table/", props.prefix, "-state");
    const { partitionKey, sortKey, ttlAttribute } = STATE_TABLE_KEYS;
    this.table = new DynamodbTable(this, "table", {
      name: `${props.prefix}-state`,
      billingMode: "PAY_PER_REQUEST",
      hashKey: partitionKey,
      rangeKey: sortKey,
      attribute: [
        { name: partitionKey, type: "S" },
        { name: sortKey, type: "S" },
      ],
      ttl: { attributeName: ttlAttribute, enabled: true },
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      tags: props.tags,
    });
    this.table.overrideLogicalId("state");
  }

  /**
   * An item `config`/`name` holding `json` (attribute `json`): configuration too large for a function's
   * environment (4 KB in all), read once per container (functions/shared/state/config-items.ts).
   * Functions that read it should depend on it, so that Terraform writes it before it updates them.
   */
  configItem(name: string, json: string): DynamodbTableItem {
    const item = new DynamodbTableItem(this, `config-${name}`, {
      tableName: this.table.name,
      hashKey: this.table.hashKey,
      rangeKey: this.table.rangeKey,
      // A token is encoded by Terraform; a literal (CDKTF rules) is JSON here, with Terraform's template
      // sequences `${` and `%{` escaped (Terraform reads every string as a template).
      item: Token.isUnresolved(json)
        ? Fn.jsonencode({ pk: { S: "config" }, sk: { S: name }, json: { S: json } })
        : JSON.stringify({ pk: { S: "config" }, sk: { S: name }, json: { S: json } }).replace(/([$%])\{/g, "$1$1{"),
    });
    item.overrideLogicalId(`config_${name}`);
    return item;
  }

  /**
   * Allows `actions` on the table's items; with `leadingKeys`, only on items whose partition key is one of them.
   */
  statement(sid: string, actions: StateTableAction[], leadingKeys?: string[]): PolicyStatement {
    return {
      Sid: sid,
      Effect: "Allow",
      Action: actions,
      Resource: this.arn,
      ...(leadingKeys && {
        // StringLike only when a key is a pattern (e.g. `check#*`): exact keys stay exact.
        Condition: {
          [leadingKeys.some((k) => k.includes("*")) ? "ForAllValues:StringLike" : "ForAllValues:StringEquals"]: {
            "dynamodb:LeadingKeys": leadingKeys,
          },
        },
      }),
    };
  }
}
