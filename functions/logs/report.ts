/**
 * The check report a log rule posts when it matched: the rule's status, how many events matched where, and
 * the first sample lines, redacted, within Mackerel's 1024-code-point message limit.
 *
 * The report is named exactly as the rule (`name`), with no prefix: the rule name is what users see in
 * Mackerel and configure in Terraform, and its metric is `logs.<name>.count`. A scheduled check with the same
 * name would share the Mackerel check, so names should be unique across log rules and checks.
 */
import type { CheckReportDraft } from "../shared/mackerel-client.js";
import { CHECK_MESSAGE_MAX_CODE_POINTS, truncateCodePoints } from "../shared/names.js";
import { redactShown } from "../shared/redact.js";
import type { NormalizedLogEvent } from "./normalize.js";
import type { CompiledRule, RuleMatch } from "./rules.js";

/**
 * Cuts text to at most `max` Unicode code points, never splitting a surrogate pair, ending with `…` when cut.
 * The shared implementation, re-exported here for the logs function's callers.
 */
export { truncateCodePoints };

/** The rule fields a report needs. */
export type ReportedRule = Pick<CompiledRule, "name" | "status" | "notificationInterval" | "redact">;

/** A sample keeps at least this many code points even when many samples share the message. */
const SAMPLE_MIN_CODE_POINTS = 80;

/** Log groups named in full in the message; the rest are counted. */
const GROUPS_LISTED = 3;

/**
 * Builds the check report of a rule that matched.
 *
 * Message: `<count> matching log event(s) in <log groups> — first samples:` then one redacted sample per line
 * (newlines inside a sample shown as `↵`, prefixed with its log group when several log groups matched). Each
 * sample gets an equal share of the 1024 code points, so a long first line cannot hide the others.
 *
 * @param now - epoch milliseconds; `occurredAt` is its whole second.
 */
export function buildRuleReport(rule: ReportedRule, match: RuleMatch, now: number): CheckReportDraft {
  const groups = [...match.logGroups].sort();
  const listed =
    groups.length > GROUPS_LISTED
      ? `${groups.slice(0, GROUPS_LISTED).join(", ")} and ${groups.length - GROUPS_LISTED} more`
      : groups.join(", ");
  const events = match.count === 1 ? "event" : "events";
  const samples = match.firstSamples;
  let header = `${match.count} matching log ${events} in ${listed}`;
  if (samples.length > 0) header += " — first samples:";

  const share = Math.floor((CHECK_MESSAGE_MAX_CODE_POINTS - codePointLength(header)) / Math.max(1, samples.length));
  const perSample = Math.max(SAMPLE_MIN_CODE_POINTS, share - 1); // - 1 for the newline before it
  const lines = samples.map((sample) =>
    truncateCodePoints(sampleLine(sample, rule.redact, groups.length > 1, perSample), perSample),
  );
  const message = truncateCodePoints([header, ...lines].join("\n"), CHECK_MESSAGE_MAX_CODE_POINTS);
  return {
    name: rule.name,
    status: rule.status,
    message,
    occurredAt: Math.floor(now / 1000),
    ...(rule.notificationInterval !== undefined && { notificationInterval: rule.notificationInterval }),
  };
}

/**
 * One sample as shown: redacted, on one line, trimmed. Redaction comes before any cut: it covers all that
 * can be shown of the message (`shown` characters) and a margin beyond (see `redactShown`), so a secret
 * that starts in the shown part is masked whole, even a private key block across lines.
 */
function sampleLine(
  sample: NormalizedLogEvent,
  redact: (line: string) => string,
  withGroup: boolean,
  shown: number,
): string {
  const line = redactShown(sample.message, shown, redact)
    .trim()
    .replace(/[ \t]*\r?\n\s*/g, " ↵ ");
  return withGroup ? `${sample.logGroup}: ${line}` : line;
}

function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
