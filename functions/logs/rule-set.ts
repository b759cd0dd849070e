/**
 * The `log_rules` configuration as the functions load it from `MACKEREL_LOG_RULES`: compiled once per
 * container, rule by rule, so that one rule that cannot run (a regex the linear-time engine refuses, which
 * Terraform's RE2 validation let through) does not stop the others. Such a rule is "broken": the functions
 * report it as an UNKNOWN check named after it, with the reason, and never post counts or OK for it.
 */
import { ConfigurationError } from "../shared/errors.js";
import { CHECK_NAME } from "../shared/names.js";
import { type CompiledRule, compileRules, LogRuleConfigError, type LogRuleIssue } from "./rules.js";

/** The environment variable holding the rules (the module sets it to `jsonencode(var.log_rules)`). */
export const LOG_RULES_VARIABLE = "MACKEREL_LOG_RULES";

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
 * @param raw - the variable's value; unset or blank means no rules.
 * @throws ConfigurationError when the value is not a JSON list at all (a deployment error: nothing can run).
 */
export function loadRuleSet(raw: string | undefined): RuleSet {
  if (raw === undefined || raw.trim() === "") return { rules: [], broken: [] };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new ConfigurationError(`${LOG_RULES_VARIABLE}: is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw new ConfigurationError(`${LOG_RULES_VARIABLE}: must be a JSON list of rules`);
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
