import { isOwnLogGroup, parseOwnLogGroups } from "../../../functions/logs/loop-guard";
import { ConfigurationError } from "../../../functions/shared/errors";

const OWN = ["/aws/lambda/mackerel-serverless-logs", "/aws/lambda/mackerel-serverless-sender"];

describe("isOwnLogGroup", () => {
  test.each(OWN)("the module's own log group %s is skipped", (group) => {
    expect(isOwnLogGroup(group, OWN)).toBe(true);
  });

  test.each([
    "/aws/lambda/mackerel-serverless-logs-v2", // a prefix is not enough
    "/aws/lambda/mackerel-serverless", // nor a longer own name
    "/aws/lambda/MACKEREL-SERVERLESS-LOGS", // log group names are case-sensitive
    "/aws/lambda/orders",
    "",
  ])("%j is a user's log group, processed normally", (group) => {
    expect(isOwnLogGroup(group, OWN)).toBe(false);
  });

  test("with no own log groups configured nothing is skipped", () => {
    expect(isOwnLogGroup("/aws/lambda/mackerel-serverless-logs", [])).toBe(false);
  });
});

describe("parseOwnLogGroups", () => {
  test("reads a JSON array of names", () => {
    expect(parseOwnLogGroups(JSON.stringify(OWN))).toEqual(OWN);
  });

  test.each([undefined, "", "   "])("%j (unset) means none", (raw) => {
    expect(parseOwnLogGroups(raw)).toEqual([]);
  });

  test.each([
    ["not json", /OWN_LOG_GROUPS must be a JSON array.*not valid JSON/],
    ['"/aws/lambda/x"', /OWN_LOG_GROUPS must be a JSON array of log group names/],
    ['["/a", 3]', /OWN_LOG_GROUPS\[1\]/],
    ['["/a", ""]', /OWN_LOG_GROUPS\[1\] must not be empty/],
  ])("%j is a ConfigurationError that names the variable", (raw, message) => {
    expect(() => parseOwnLogGroups(raw)).toThrow(ConfigurationError);
    expect(() => parseOwnLogGroups(raw)).toThrow(message);
  });

  test("the variable name in messages can be changed", () => {
    expect(() => parseOwnLogGroups("{", "MY_VAR")).toThrow(/^MY_VAR /);
  });
});
