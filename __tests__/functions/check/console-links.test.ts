/**
 * Logs Insights console links: the URL carries the region, the log groups, the query and the absolute
 * window in the console's notation, survives every character a query can hold, and sits in the check
 * report before the rows (so cutting the message to 1024 characters never cuts it).
 */
import { logsInsightsConsoleUrl, MAX_LINK_LENGTH } from "../../../functions/check/console-links";
import { summarizeLogsInsights } from "../../../functions/check/logs-insights";
import { type LogsInsightsSpec, parseCheckSpec } from "../../../functions/check/spec";
import { buildWrites } from "../../../functions/check/outcome";

/** Parses a link back (tests, and a check that a link round-trips): the inverse of the notation above. */
function parseLogsInsightsConsoleUrl(url: string): Record<string, unknown> {
  const marker = "#logsV2:logs-insights$3FqueryDetail$3D";
  const at = url.indexOf(marker);
  if (at < 0) throw new Error("not a Logs Insights console link");
  const text = url.slice(at + marker.length);
  let i = 0;
  const value = (): unknown => {
    if (text[i] === "'") {
      const end = text.slice(i + 1).search(/[~)]/);
      const raw = end < 0 ? text.slice(i + 1) : text.slice(i + 1, i + 1 + end);
      i += 1 + raw.length;
      return decodeURIComponent(raw.replace(/\*/g, "%"));
    }
    if (text[i] === "(") {
      i += 1;
      if (text[i] === "~") {
        const items: unknown[] = [];
        while (text[i] === "~") {
          i++;
          items.push(value());
        }
        i++; // )
        return items;
      }
      const object: Record<string, unknown> = {};
      while (text[i] !== ")") {
        const key = /^[A-Za-z]+/.exec(text.slice(i))![0];
        i += key.length + 1; // key and ~
        object[key] = value();
        if (text[i] === "~") i++;
      }
      i++;
      return object;
    }
    const raw = /^[^~)]+/.exec(text.slice(i))![0];
    i += raw.length;
    return raw;
  };
  i = 1; // the leading ~ of the top-level object
  return value() as Record<string, unknown>;
}

const QUERY = `fields @timestamp, @message
| filter level = "ERROR" and @message like /timeout (after|before) \\d+ms!/ # it's * ~ 100% 'odd'
| stats count(*) as n by bin(5m)`;
const WINDOW = { start: Date.UTC(2026, 0, 9) / 1000, end: Date.UTC(2026, 0, 10) / 1000 };

describe("logsInsightsConsoleUrl", () => {
  test("region, log groups, query and window, in the console's notation, round-trip exactly", () => {
    const url = logsInsightsConsoleUrl({
      region: "ap-northeast-1",
      logGroupNames: ["/aws/lambda/app-a", "/aws/lambda/app_b#1"],
      query: QUERY,
      ...WINDOW,
    });
    expect(
      url.startsWith(
        "https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1#logsV2:logs-insights$3FqueryDetail$3D~(end~'2026-01-10T00*3A00*3A00.000Z~start~'2026-01-09T00*3A00*3A00.000Z~timeType~'ABSOLUTE~tz~'UTC~editorString~'fields*20*40timestamp",
      ),
    ).toBe(true);
    expect(url).toContain("~source~(~'*2Faws*2Flambda*2Fapp-a~'*2Faws*2Flambda*2Fapp_b*231))");
    // Only characters that need no escaping in a URL fragment, and no raw structure characters in values.
    expect(url.slice(url.indexOf("#"))).toMatch(/^[A-Za-z0-9\-_.~'()*:$#]+$/);
    expect(parseLogsInsightsConsoleUrl(url)).toEqual({
      end: "2026-01-10T00:00:00.000Z",
      start: "2026-01-09T00:00:00.000Z",
      timeType: "ABSOLUTE",
      tz: "UTC",
      editorString: QUERY,
      source: ["/aws/lambda/app-a", "/aws/lambda/app_b#1"],
    });
  });
  test("China and GovCloud regions use their partition's console", () => {
    const link = { logGroupNames: ["/g"], query: "fields @message", ...WINDOW };
    expect(logsInsightsConsoleUrl({ ...link, region: "cn-north-1" })).toMatch(
      /^https:\/\/cn-north-1\.console\.amazonaws\.cn\//,
    );
    expect(logsInsightsConsoleUrl({ ...link, region: "us-gov-west-1" })).toMatch(
      /^https:\/\/us-gov-west-1\.console\.amazonaws-us-gov\.com\//,
    );
  });
});

describe("in the Logs Insights check report", () => {
  const spec = (query: string) =>
    parseCheckSpec({
      kind: "logs_insights",
      name: "errors",
      log_group_names: ["/aws/lambda/app"],
      query,
    }) as LogsInsightsSpec;
  const rows = Array.from({ length: 40 }, (_, i) => [{ field: "@message", value: `row ${i} ${"x".repeat(200)}` }]);

  test("the link comes before the rows and survives the cut to 1024 characters", () => {
    const outcome = summarizeLogsInsights(spec("fields @message | limit 40"), rows, undefined, WINDOW, "eu-west-1");
    const lines = outcome.message.split("\n");
    expect(lines[1]).toMatch(
      /^console: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#logsV2:logs-insights\$3FqueryDetail\$3D~\(/,
    );
    const report = buildWrites({ name: "errors" }, outcome, { hostId: "h", service: "s", now: 1 }).find(
      (w) => w.kind === "checkReports",
    ) as { reports: { message: string }[] };
    const cut = report.reports[0]!.message;
    expect([...cut].length).toBeLessThanOrEqual(1024);
    expect(cut).toContain(lines[1]!);
    expect(parseLogsInsightsConsoleUrl(lines[1]!.slice("console: ".length)).editorString).toBe(
      "fields @message | limit 40",
    );
  });

  test("no region, no link; a query too long for a link says so", () => {
    expect(summarizeLogsInsights(spec("fields @message"), [], undefined, WINDOW).message).not.toContain("console:");
    const long = summarizeLogsInsights(
      spec(`fields @message | filter @message like /${"a|".repeat(400)}b/`),
      [],
      undefined,
      WINDOW,
      "eu-west-1",
    );
    expect(long.message).toContain("console: (link omitted: the query is too long)");
    expect(MAX_LINK_LENGTH).toBeLessThan(1024);
  });
});
