/**
 * Literal check items (CDKTF users) are checked at synth (modules/construct/check-kinds.ts and the check
 * function's spec parser): a bad name, schedule or URL, a name used twice across the lists, credentials in
 * the URL or headers are refused, naming the prop.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack, Testing } from "cdktf";
import { MackerelServerless, type MackerelServerlessProps } from "../../../modules/construct";

const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mackerel-api-key-AbCdEf";
const SFN = "arn:aws:states:eu-west-1:123456789012:stateMachine:orders";

/** The construct in a stack of its own, with the given check lists. */
function construct(props: Partial<MackerelServerlessProps>): MackerelServerless {
  const stack = new TerraformStack(Testing.app(), "user-stack");
  new AwsProvider(stack, "aws", { region: "eu-west-1" });
  return new MackerelServerless(stack, "mackerel", {
    apiKeySecretArn: SECRET,
    serviceName: "shop",
    code: (fn) => ({ filename: `build/${fn}.zip`, sourceCodeHash: `hash-of-${fn}` }),
    ...props,
  });
}

test.each([
  [{ httpChecks: [{ name: "bad name", url: "https://example.com/" }] }, "httpChecks[0].name: must be 1–64 characters"],
  [
    { httpChecks: [{ name: "web", url: "https://example.com/", schedule: "rate(1 minutes)" }] },
    'httpChecks: schedule "rate(1 minutes)" of web must be rate(...) or cron(...)',
  ],
  [{ httpChecks: [{ name: "web", url: "ftp://example.com/" }] }, "httpChecks[0].url: "],
  [
    { sfnExecutionChecks: [{ name: "orders", stateMachineArn: SFN, statuses: ["LOST" as never] }] },
    "sfnExecutionChecks[0].statuses",
  ],
])("literal items: a bad name or schedule is refused at synth (%#)", (props, message) => {
  expect(() => construct(props)).toThrow(message);
});

test("literal items with a name used twice are refused at synth, naming both lists", () => {
  expect(() =>
    construct({
      httpChecks: [{ name: "web", url: "https://example.com/" }],
      logFreshnessChecks: [{ name: "web", logGroupName: "/g", maxAgeMinutes: 5 }],
    }),
  ).toThrow(
    'Check names must be unique across logsInsightsChecks, httpChecks, sfnExecutionChecks, logFreshnessChecks, s3FreshnessChecks, opensearchQueryChecks, logRules: "web" is in httpChecks and logFreshnessChecks.',
  );
});

test.each([
  [
    { name: "creds", url: "https://u:p@example.com/" },
    "httpChecks[0].url: must not hold user info (user:password@); put the credentials in a Secrets Manager secret",
  ],
  [
    { name: "bearer", url: "https://example.com/", headers: { Authorization: "Bearer x" } },
    "httpChecks: headers of bearer set Authorization, Proxy-Authorization or Cookie",
  ],
])("literal HTTP items with credentials are refused at synth: %j", (item, message) => {
  expect(() => construct({ httpChecks: [item] })).toThrow(message);
});
