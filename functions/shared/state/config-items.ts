/** Configuration items the module writes (item `config` / `<name>`, layout in README.md). */
import { itemKey, type StateTable, str } from "./table.js";

/**
 * The JSON text of a configuration item the module writes (`aws_dynamodb_table_item`), read strongly
 * consistent; undefined when the item does not exist.
 */
export async function readConfig(table: StateTable, name: string): Promise<string | undefined> {
  return str(await table.get(itemKey("config", name)), "json");
}
