/**
 * Links into the AWS console for check reports: the Logs Insights page with the same query, log groups
 * and absolute time range, so a user can open what the check counted (as the old Slack summaries linked
 * to Kibana).
 *
 * The console keeps the query in the URL fragment as `?queryDetail=<object>`: the object in the console's
 * compact notation (`~(key~value~...)`, strings prefixed with `'`, arrays `~(~'a~'b)`) whose strings are
 * percent-encoded with `*` in place of `%` (also for `! ' ( ) * ~`, which would end a value), and the
 * fragment's own `?` and `=` percent-encoded with `$` in place of `%`. This is the console's format, not a
 * documented API: a link that stops working degrades to the console's Logs Insights page.
 */

/** Longest link put in a message: check messages hold 1024 characters in all. */
export const MAX_LINK_LENGTH = 700;

/** A string value in the console's notation. */
function consoleString(value: string): string {
  const encoded = encodeURIComponent(value).replace(
    /[!'()*~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `'${encoded.replace(/%/g, "*")}`;
}

/** The console's host for a region: aws, aws-cn and aws-us-gov partitions have their own. */
export function consoleOrigin(region: string): string {
  if (region.startsWith("cn-")) return `https://${region}.console.amazonaws.cn`;
  if (region.startsWith("us-gov-")) return `https://${region}.console.amazonaws-us-gov.com`;
  return `https://${region}.console.aws.amazon.com`;
}

export interface LogsInsightsLink {
  region: string;
  logGroupNames: string[];
  query: string;
  /** Epoch seconds, inclusive. */
  start: number;
  /** Epoch seconds, exclusive. */
  end: number;
}

/** The Logs Insights console URL that runs `query` on the log groups over [start, end). */
export function logsInsightsConsoleUrl(link: LogsInsightsLink): string {
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  const detail =
    `~(end~${consoleString(iso(link.end))}~start~${consoleString(iso(link.start))}` +
    `~timeType~'ABSOLUTE~tz~'UTC~editorString~${consoleString(link.query)}` +
    `~source~(${link.logGroupNames.map((g) => `~${consoleString(g)}`).join("")}))`;
  const region = encodeURIComponent(link.region);
  return `${consoleOrigin(link.region)}/cloudwatch/home?region=${region}#logsV2:logs-insights$3FqueryDetail$3D${detail}`;
}
