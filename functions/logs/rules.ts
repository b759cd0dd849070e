/**
 * Log rules: their configuration (./rule-config.ts), their per-line matching (./rule-matcher.ts) and, here,
 * their evaluation against a decoded payload: per payload what it can (the log group globs: a payload has one
 * log group), per matching event the counts per minute and the first samples, normalized.
 */
import type { LogEvent, SubscriptionPayload } from "./decode.js";
import { addToMinute, type MinuteCounts } from "./minutes.js";
import { logEventContext, normalizeLogEvent, type LogEventContext, type NormalizedLogEvent } from "./normalize.js";
import { type CompiledRule, rulesForLogGroup } from "./rule-config.js";
import type { RawLiteralScan, ScannedEvent } from "./raw-events.js";
import { matcherFor, matchingEventRules, matchingRules, releaseLine } from "./rule-matcher.js";

export { LogRuleConfigError, type LogRuleIssue } from "../shared/errors.js";
export {
  compileRules,
  globMatch,
  MAX_SAMPLES_LIMIT,
  RULE_DEFAULTS,
  RULE_STATUSES,
  rulesForLogGroup,
  type CompiledRule,
  type RuleStatus,
} from "./rule-config.js";
export {
  matchingRules,
  matchingEventRules,
  rawLiteralSearches,
  ruleMatcher,
  ruleMatchesText,
  textToMatch,
  type RuleMatcher,
} from "./rule-matcher.js";

/** What one rule matched in one payload (or, merged by the caller, in several). */
export interface RuleMatch {
  count: number;
  /** The first matches, normalized, at most the rule's `max_samples`; not redacted yet. */
  firstSamples: NormalizedLogEvent[];
  /** Matches per epoch minute (seconds), by the events' own timestamps. */
  minuteCounts: MinuteCounts;
  logGroups: Set<string>;
  /** Epoch milliseconds of the latest matching event. */
  lastMatchAt: number;
}

/** The payload fields evaluation reads. */
export interface EvaluatedPayload extends Pick<SubscriptionPayload, "logGroup" | "logStream" | "logEvents"> {
  /** The scan whose table the events' `held` bits refer to (decode-for-rules.ts), if they have them. */
  readonly literalScan?: RawLiteralScan;
}

/**
 * Evaluates every rule on a payload.
 *
 * @returns a match per rule that matched at least one event, keyed by rule name (rules that did not match are
 *   absent). Samples are normalized but not redacted (redaction happens when the report is built).
 */
export function evaluate(rules: readonly CompiledRule[], payload: EvaluatedPayload): Map<string, RuleMatch> {
  const matches = new Map<string, RuleMatch>();
  const applicable = rulesForLogGroup(rules, payload.logGroup);
  if (applicable.length === 0 || payload.logEvents.length === 0) return matches;

  const matcher = matcherFor(rules, applicable);
  const context = logEventContext(payload);
  const normalized = new Map<LogEvent, NormalizedLogEvent>();
  const events = payload.logEvents;
  const matched: CompiledRule[] = [];
  // The events' literal bits are the matcher's own when its scan found them (the same table, bit for bit).
  const bitsKnown = payload.literalScan !== undefined && payload.literalScan === matcher.rawScan;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const held = bitsKnown ? (event as ScannedEvent).held : -1;
    if (held >= 0) matchingEventRules(matcher, event as ScannedEvent, held, matched);
    else matchingRules(matcher, event.message, matched);
    for (let r = 0; r < matched.length; r++) record(matches, matched[r]!, event, context, normalized);
  }
  releaseLine(matcher);
  return matches;
}

function record(
  matches: Map<string, RuleMatch>,
  rule: CompiledRule,
  event: LogEvent,
  context: LogEventContext,
  normalized: Map<LogEvent, NormalizedLogEvent>,
): void {
  let match = matches.get(rule.name);
  if (!match) {
    match = {
      count: 0,
      firstSamples: [],
      minuteCounts: new Map(),
      logGroups: new Set([context.logGroup]),
      lastMatchAt: event.timestamp,
    };
    matches.set(rule.name, match);
  }
  match.count++;
  addToMinute(match.minuteCounts, event.timestamp);
  if (event.timestamp > match.lastMatchAt) match.lastMatchAt = event.timestamp;
  if (match.firstSamples.length < rule.maxSamples) {
    let sample = normalized.get(event);
    if (!sample) normalized.set(event, (sample = normalizeLogEvent(context, event)));
    match.firstSamples.push(sample);
  }
}
