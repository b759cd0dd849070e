/**
 * The `log_rules` configuration: validated with zod (every problem named with its rule, field and the rule
 * broken) and compiled once per container, and the log group globs that say where a rule applies.
 */
import * as z from "zod/mini";
import { LogRuleConfigError, type LogRuleIssue, UserRegExpError } from "../shared/errors.js";
import { CHECK_NAME } from "../shared/names.js";
import { createRedactor, type Redactor } from "../shared/redact.js";
import { compileUserPattern, type UserPattern } from "../shared/user-regexp.js";

/** Statuses a log rule can report (OK is reported by the recovery tick). */
export const RULE_STATUSES = ["WARNING", "CRITICAL"] as const;
export type RuleStatus = (typeof RULE_STATUSES)[number];

/** Defaults of the optional rule fields. */
export const RULE_DEFAULTS = {
  status: "CRITICAL",
  recoverAfterMinutes: 10,
  maxSamples: 5,
} as const satisfies { status: RuleStatus; recoverAfterMinutes: number; maxSamples: number };

/** Most samples a rule may ask for: more would not fit Mackerel's 1024-character message anyway. */
export const MAX_SAMPLES_LIMIT = 20;

/** CloudWatch Logs' own limit on log group names. */
const LOG_GROUP_NAME_MAX = 512;
/** Log group name characters (CloudWatch Logs' rule) plus the glob wildcards. */
const LOG_GROUP_GLOB = /^[A-Za-z0-9._/#*?-]+$/;

const patterns = (what: string) =>
  z.array(z.string({ error: "must be a string" }), { error: `must be a list of ${what}` });

/** A whole number with a rule-specific message for "not a number" and for "not whole". */
const wholeNumber = (notNumber: string, notWhole: string) => z.number({ error: notNumber }).check(z.int(notWhole));

// Optional fields are `nullish`: Terraform encodes an unset optional object attribute as null.
const ruleSchema = z.strictObject(
  {
    name: z
      .string({ error: "is required (a string)" })
      .check(
        z.regex(
          CHECK_NAME,
          "must be 1–64 characters of a-zA-Z0-9_- (it names the check and the metric logs.<name>.count)",
        ),
      ),
    log_groups: z.nullish(
      z
        .array(
          z
            .string({ error: "must be a string" })
            .check(
              z.maxLength(LOG_GROUP_NAME_MAX, `must be at most ${LOG_GROUP_NAME_MAX} characters`),
              z.regex(
                LOG_GROUP_GLOB,
                "must be a log group name glob: letters, digits, . _ / # - and the wildcards * and ?",
              ),
            ),
          { error: "must be a list of log group name globs" },
        )
        .check(z.minLength(1, "must list at least one glob (omit it to match every log group)")),
    ),
    include: patterns("regular expressions").check(z.minLength(1, "must list at least one regular expression")),
    exclude: z.nullish(patterns("regular expressions")),
    status: z.nullish(z.enum(RULE_STATUSES, { error: "must be WARNING or CRITICAL" })),
    recover_after_minutes: z.nullish(
      wholeNumber("must be a number of minutes", "must be whole minutes").check(z.gte(1, "must be at least 1")),
    ),
    max_samples: z.nullish(
      wholeNumber("must be a number", "must be an integer").check(
        z.gte(1, "must be at least 1"),
        z.lte(MAX_SAMPLES_LIMIT, `must be at most ${MAX_SAMPLES_LIMIT}`),
      ),
    ),
    notification_interval: z.nullish(
      wholeNumber("must be a number of minutes", "must be whole minutes").check(
        z.gte(10, "must be at least 10 minutes (Mackerel's minimum)"),
      ),
    ),
    redact: z.nullish(patterns("regular expressions")),
  },
  { error: (issue) => (issue.code === "invalid_type" ? "must be an object" : undefined) },
);

const rulesSchema = z.array(ruleSchema, { error: "must be a list of rules" });

type RuleConfig = z.infer<typeof ruleSchema>;

/** A validated rule with its patterns compiled. Immutable; compile once per container. */
export interface CompiledRule {
  readonly name: string;
  readonly status: RuleStatus;
  readonly recoverAfterMinutes: number;
  readonly maxSamples: number;
  readonly notificationInterval: number | undefined;
  /** The globs as configured; undefined for every log group. */
  readonly logGroups: readonly string[] | undefined;
  /** Pattern sources as configured. */
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** Whether the rule applies to a log group (its globs). */
  readonly appliesTo: (logGroup: string) => boolean;
  /** The compiled include and exclude patterns (RE2), each with its prefilter literals. */
  readonly includePatterns: readonly UserPattern[];
  readonly excludePatterns: readonly UserPattern[];
  /** Built-in redaction plus the rule's `redact` patterns, for its samples. */
  readonly redact: Redactor;
}

/**
 * Validates and compiles the `log_rules` configuration.
 *
 * @param raw - the parsed list, or its JSON text (as an environment variable holds it).
 * @throws {@link LogRuleConfigError} listing every problem with the rule index and name, the field and the rule
 *   broken; regexes are checked too (RE2 syntax, as Terraform's `regex()` checks them at plan).
 */
export function compileRules(raw: unknown): CompiledRule[] {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new LogRuleConfigError([{ field: "", problem: `is not valid JSON: ${(error as Error).message}` }]);
    }
  }
  const parsed = rulesSchema.safeParse(value);
  if (!parsed.success) throw new LogRuleConfigError(parsed.error.issues.map((i) => zodIssue(i, value)));

  const issues: LogRuleIssue[] = [];
  const seen = new Map<string, number>();
  const rules: CompiledRule[] = [];
  parsed.data.forEach((config, index) => {
    const report = (field: string, problem: string) => issues.push({ index, rule: config.name, field, problem });
    const first = seen.get(config.name);
    if (first !== undefined) report("name", `duplicates the name of log_rules[${first}]`);
    else seen.set(config.name, index);
    const rule = compileRule(config, report);
    if (rule) rules.push(rule);
  });
  if (issues.length > 0) throw new LogRuleConfigError(issues);
  return rules;
}

function compileRule(config: RuleConfig, report: (field: string, problem: string) => void): CompiledRule | undefined {
  let ok = true;
  const compile = (field: string, sources: readonly string[]): UserPattern[] =>
    sources.flatMap((source, j) => {
      try {
        return [compileUserPattern(source)];
      } catch (error) {
        if (!(error instanceof UserRegExpError)) throw error;
        ok = false;
        report(`${field}[${j}]`, error.message);
        return [];
      }
    });
  const include = compile("include", config.include);
  const exclude = compile("exclude", config.exclude ?? []);
  // Checked here so that a broken redact pattern is reported with its field; the redactor compiles its own.
  compile("redact", config.redact ?? []);
  if (!ok) return undefined;
  const logGroups = config.log_groups ?? undefined;
  return {
    name: config.name,
    status: config.status ?? RULE_DEFAULTS.status,
    recoverAfterMinutes: config.recover_after_minutes ?? RULE_DEFAULTS.recoverAfterMinutes,
    maxSamples: config.max_samples ?? RULE_DEFAULTS.maxSamples,
    notificationInterval: config.notification_interval ?? undefined,
    logGroups,
    include: config.include,
    exclude: config.exclude ?? [],
    appliesTo: logGroupMatcher(logGroups),
    includePatterns: include,
    excludePatterns: exclude,
    redact: createRedactor(config.redact ?? []),
  };
}

function zodIssue(issue: z.core.$ZodIssue, value: unknown): LogRuleIssue {
  const [index, ...rest] = issue.path;
  if (typeof index !== "number") return { field: "", problem: issue.message };
  const name = (Array.isArray(value) ? (value[index] as { name?: unknown } | undefined) : undefined)?.name;
  const rule = typeof name === "string" ? name : undefined;
  const field = rest.reduce<string>(
    (path, key) => (typeof key === "number" ? `${path}[${key}]` : path ? `${path}.${String(key)}` : String(key)),
    "",
  );
  if (issue.code === "unrecognized_keys") {
    const known = Object.keys(ruleSchema.shape).join(", ");
    return { index, rule, field: issue.keys.join(", "), problem: `is not a known field (known: ${known})` };
  }
  return { index, rule, field, problem: issue.message };
}

/** A matcher for `globs` (`*`: any characters, `/` included; `?`: one character); all log groups when undefined. */
function logGroupMatcher(globs: readonly string[] | undefined): (logGroup: string) => boolean {
  if (globs === undefined) return () => true;
  const exact = new Set(globs.filter((g) => !/[*?]/.test(g)));
  const wild = globs.filter((g) => /[*?]/.test(g));
  return (logGroup) => exact.has(logGroup) || wild.some((glob) => globMatch(glob, logGroup));
}

/**
 * Glob match without regexes: the classic two-pointer walk that backtracks only to the last `*`, so it is
 * O(glob × name) at worst and cannot blow up.
 *
 * @internal exported for tests.
 */
export function globMatch(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let starAt = -1;
  let starText = 0;
  while (t < text.length) {
    const c = glob[g];
    if (c === "*") {
      starAt = g++;
      starText = t;
    } else if (c !== undefined && (c === "?" || c === text[t])) {
      g++;
      t++;
    } else if (starAt !== -1) {
      g = starAt + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (glob[g] === "*") g++;
  return g === glob.length;
}

/** The rules whose `log_groups` globs match `logGroup`, in configuration order. */
export function rulesForLogGroup(rules: readonly CompiledRule[], logGroup: string): CompiledRule[] {
  return rules.filter((rule) => rule.appliesTo(logGroup));
}
