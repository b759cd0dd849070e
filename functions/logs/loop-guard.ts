/**
 * Run-time half of the loop guard (the Terraform module refuses the module's own log groups at plan time).
 *
 * CloudWatch Logs subscriptions are not covered by Lambda's recursive-loop detection: if the logs function
 * processed its own log group (or a sibling function's, whose logs it causes), each invocation would log
 * and trigger the next. Events of those log groups are skipped (and counted by the handler), never matched.
 */
import * as z from "zod/mini";
import { ConfigurationError } from "../shared/errors.js";

/**
 * Whether `logGroup` is one of the module's own log groups. Exact names: the module knows them (it creates
 * them), and a prefix or glob could silently skip a user's log group.
 */
export function isOwnLogGroup(logGroup: string, ownLogGroups: readonly string[]): boolean {
  return ownLogGroups.includes(logGroup);
}

const ownLogGroupsSchema = z.array(z.string().check(z.minLength(1, "must not be empty")), {
  error: "must be a JSON array of log group names",
});

/**
 * Parses the module's own log group names from an environment variable holding a JSON array.
 *
 * @param raw - the variable's value; unset or blank means none.
 * @param variable - the variable's name, for the error message.
 * @throws ConfigurationError when the value is not a JSON array of non-empty strings.
 */
export function parseOwnLogGroups(raw: string | undefined, variable = "OWN_LOG_GROUPS"): string[] {
  if (raw === undefined || raw.trim() === "") return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigurationError(`${variable} must be a JSON array of log group names (it is not valid JSON)`);
  }
  const parsed = ownLogGroupsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `[${issue.path.join("][")}]` : "";
    throw new ConfigurationError(`${variable}${where} ${issue?.message ?? "is invalid"}`);
  }
  return parsed.data;
}
