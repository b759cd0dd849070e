/** What the state table holds for a rule: its matches, summed over the minute attributes of its items. */
import { QueryCommand } from "@aws-sdk/client-dynamodb";
import type { LocalDynamo } from "../../../../scripts/local/dynalite";

/** The matches stored for `rule` in `table` (every `cNN` minute attribute of its items, summed). */
export async function storedMatches(dynamo: LocalDynamo, table: string, rule: string): Promise<number> {
  const { Items: items = [] } = await dynamo.client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": { S: `rule#${rule}` } },
    }),
  );
  return items
    .flatMap((item) => Object.entries(item).filter(([name]) => /^c\d\d$/.test(name)))
    .reduce((sum, [, value]) => sum + Number(value.N), 0);
}
