/**
 * The `log_rules` configuration as the functions load it: from the state table item the module writes
 * (`config`/`log_rules`: the environment holds 4 KB in all, 200 rules need more), or from `MACKEREL_LOG_RULES`
 * for a function run without the module. Compiled once per container, rule by rule, so that one rule that
 * cannot run (which Terraform's validation let through, e.g. a JSON-only setup) does not stop the others. Such
 * a rule is "broken": the functions report it as an UNKNOWN check named after it, with the reason, and never
 * post counts or OK for it.
 */
import { createHash } from "node:crypto";
import type { LogRulesEnvironment } from "../shared/config.js";
import {
  ConfigurationError,
  LogRuleConfigError,
  type LogRuleIssue,
  MackerelUnavailableError,
} from "../shared/errors.js";
import { CHECK_NAME } from "../shared/names.js";
import type { StateStore } from "../shared/state/index.js";
import { type CompiledRule, compileRules } from "./rules.js";

/** The environment variable holding the rules (the module sets it to `jsonencode(var.log_rules)`). */
export const LOG_RULES_VARIABLE = "MACKEREL_LOG_RULES";

/**
 * Set by the module to the SHA-256 (hex) of the rules' JSON: the rules are then read from the state table
 * item {@link LOG_RULES_ITEM}, and the digest proves the item is the one this function version was deployed
 * with (a new digest also makes Lambda start new containers, which read the new rules).
 */
export const LOG_RULES_DIGEST_VARIABLE = "MACKEREL_LOG_RULES_SHA256";

/** The state table item (sk under pk `config`) that holds the rules' JSON. */
export const LOG_RULES_ITEM = "log_rules";

/**
 * The rule set of this function: from the state table when {@link LOG_RULES_DIGEST_VARIABLE} is set, else from
 * {@link LOG_RULES_VARIABLE} (unset: no rules).
 *
 * @throws MackerelUnavailableError when the item cannot be read or is not yet the deployed one (a retry later
 *   reads it); ConfigurationError when it is missing or not a JSON list.
 */
export async function loadConfiguredRuleSet(
  env: LogRulesEnvironment,
  store: Pick<StateStore, "readConfig" | "tableName">,
): Promise<RuleSet> {
  const digest = env.MACKEREL_LOG_RULES_SHA256;
  if (digest === undefined) return loadRuleSet(env.MACKEREL_LOG_RULES);
  let json: string | undefined;
  try {
    json = await store.readConfig(LOG_RULES_ITEM);
  } catch (error) {
    throw new MackerelUnavailableError(
      `the log rules could not be read from the state table ${store.tableName}: ${(error as Error).message}`,
      undefined,
      error,
    );
  }
  if (json === undefined) {
    throw new ConfigurationError(
      `${LOG_RULES_DIGEST_VARIABLE}: the state table ${store.tableName} has no item config/${LOG_RULES_ITEM} (the module writes it)`,
    );
  }
  const actual = createHash("sha256").update(json, "utf8").digest("hex");
  if (actual !== digest) {
    // Terraform writes the item before it updates the function; a mismatch is a deployment in progress.
    throw new MackerelUnavailableError(
      `the log rules in the state table (sha256 ${actual.slice(0, 12)}…) are not the deployed ones (${digest.slice(0, 12)}…): try again later`,
    );
  }
  return loadRuleSet(json, `${store.tableName} config/${LOG_RULES_ITEM}`);
}

/** A rule that cannot run, and why. */
export interface BrokenRule {
  /** Position in `log_rules`. */
  readonly index: number;
  /** The rule's name when it is a usable check name (then it is reported); undefined otherwise (logged only). */
  readonly name: string | undefined;
  /** Every problem, as `log_rules[i] ("name").field: rule`. */
  readonly reason: string;
}

export interface RuleSet {
  /** The rules that compiled, in configuration order. */
  readonly rules: readonly CompiledRule[];
  readonly broken: readonly BrokenRule[];
}

/**
 * Compiles the rules, isolating broken ones.
 *
 * @param raw - the rules' JSON text; unset or blank means no rules.
 * @param origin - where it came from, for errors.
 * @throws ConfigurationError when the value is not a JSON list at all (a deployment error: nothing can run).
 */
export function loadRuleSet(raw: string | undefined, origin: string = LOG_RULES_VARIABLE): RuleSet {
  if (raw === undefined || raw.trim() === "") return { rules: [], broken: [] };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new ConfigurationError(`${origin}: is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw new ConfigurationError(`${origin}: must be a JSON list of rules`);
  try {
    return { rules: compileRules(value), broken: [] };
  } catch (error) {
    if (!(error instanceof LogRuleConfigError)) throw error;
  }

  // Some rule is wrong: compile each on its own; a name used twice breaks the later uses.
  const rules: CompiledRule[] = [];
  const broken: BrokenRule[] = [];
  const firstIndexOf = new Map<string, number>();
  value.forEach((item: unknown, index) => {
    const rawName = (item as { name?: unknown } | null)?.name;
    const name = typeof rawName === "string" && CHECK_NAME.test(rawName) ? rawName : undefined;
    const issues: LogRuleIssue[] = [];
    if (name !== undefined) {
      const first = firstIndexOf.get(name);
      if (first !== undefined) {
        issues.push({ index, rule: name, field: "name", problem: `duplicates the name of log_rules[${first}]` });
      } else firstIndexOf.set(name, index);
    }
    let compiled: CompiledRule | undefined;
    try {
      [compiled] = compileRules([item]);
    } catch (error) {
      if (!(error instanceof LogRuleConfigError)) throw error;
      issues.push(...error.issues.map((issue) => ({ ...issue, index })));
    }
    if (issues.length > 0 || !compiled) {
      // The duplicate keeps its name for the log but is not reported: the first rule owns that check.
      const reported = issues.some((i) => i.problem.startsWith("duplicates the name")) ? undefined : name;
      broken.push({ index, name: reported, reason: new LogRuleConfigError(issues).message });
    } else rules.push(compiled);
  });
  return { rules, broken };
}
