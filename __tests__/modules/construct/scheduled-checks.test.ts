/**
 * The scheduled checks in the module: the permissions terraform plans for each kind.
 */
import { describeWithTerraform } from "../../support/terraform";
import { find, LOGS, plan, root, SFN, type Statement } from "./scheduled-checks-support";

describeWithTerraform("terraform: the scheduled checks' permissions", () => {
  test("each statement names only the configured resources; GetQueryResults/StopQuery are * as AWS requires", () => {
    const changes = plan(`
  logs_insights_checks = [
    { name = "errors", log_group_names = ["/aws/lambda/a", "/aws/lambda/b"], query = "fields @message" },
    { name = "more", log_group_names = ["/aws/lambda/b"], query = "fields @message" },
  ]
  http_checks          = [{ name = "web", url = "https://example.com/" }]
  sfn_execution_checks = [{ name = "orders", state_machine_arn = "${SFN}" }]
  log_freshness_checks = [{ name = "alive", log_group_name = "/ingest", max_age_minutes = 10 }]
`);
    const policy = JSON.parse(
      String(find(changes, "aws_iam_role_policy.check_function_checked_resources[0]")!.after.policy),
    ) as {
      Statement: Statement[];
    };
    expect(policy.Statement).toEqual([
      {
        Sid: "StartLogsInsightsQueries",
        Effect: "Allow",
        Action: ["logs:StartQuery"],
        Resource: [`${LOGS}/aws/lambda/a`, `${LOGS}/aws/lambda/b`, `${LOGS}/aws/lambda/a:*`, `${LOGS}/aws/lambda/b:*`],
      },
      {
        Sid: "ReadAndStopLogsInsightsQueries",
        Effect: "Allow",
        Action: ["logs:GetQueryResults", "logs:StopQuery"],
        Resource: "*",
      },
      { Sid: "ListStateMachineExecutions", Effect: "Allow", Action: ["states:ListExecutions"], Resource: [SFN] },
      {
        Sid: "FilterFreshnessLogGroups",
        Effect: "Allow",
        Action: ["logs:FilterLogEvents"],
        Resource: [`${LOGS}/ingest`, `${LOGS}/ingest:*`],
      },
    ]);
    expect(find(changes, "aws_lambda_permission.check_schedules[0]")!.after).toMatchObject({
      principal: "events.amazonaws.com",
      source_arn: "arn:aws:events:eu-west-1:123456789012:rule/ms-check-*",
    });
    expect(find(changes, 'aws_cloudwatch_event_rule.http_check["web"]')!.after.name).toBe("ms-check-web");
  });

  test("only the statements of the kinds configured; an HTTP check alone needs no AWS access", () => {
    const sfnOnly = plan(`sfn_execution_checks = [{ name = "orders", state_machine_arn = "${SFN}" }]`);
    const statements = (
      JSON.parse(String(find(sfnOnly, "aws_iam_role_policy.check_function_checked_resources[0]")!.after.policy)) as {
        Statement: Statement[];
      }
    ).Statement;
    expect(statements.map((s) => s.Sid)).toEqual(["ListStateMachineExecutions"]);

    const httpOnly = plan(`http_checks = [{ name = "web", url = "https://example.com/" }]`);
    expect(find(httpOnly, "aws_iam_role_policy.check_function_checked_resources[0]")).toBeUndefined();
    expect(find(httpOnly, "aws_lambda_permission.check_schedules[0]")).toBeDefined();
  });

  test("headers_secret_arn: GetSecretValue on exactly the secrets the HTTP checks name; the rule input holds the ARN only", () => {
    const a = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-auth-AbCdEf";
    const b = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-auth-GhIjKl";
    const changes = plan(`
  http_checks = [
    { name = "web", url = "https://example.com/", headers_secret_arn = "${a}" },
    { name = "web2", url = "https://example.com/2", headers_secret_arn = "${a}" },
    { name = "api", url = "https://api.example.com/health", headers_secret_arn = "${b}", headers = { "X-Trace" = "1" } },
    { name = "open", url = "https://example.com/open" },
  ]
`);
    const statements = (
      JSON.parse(String(find(changes, "aws_iam_role_policy.check_function_checked_resources[0]")!.after.policy)) as {
        Statement: Statement[];
      }
    ).Statement;
    expect(statements).toEqual([
      {
        Sid: "ReadHttpCheckHeadersSecrets",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [a, b],
      },
    ]);
    const input = JSON.parse(String(find(changes, 'aws_cloudwatch_event_target.http_check["api"]')!.after.input)) as {
      check: Record<string, unknown>;
    };
    expect(input.check).toMatchObject({ kind: "http", headers_secret_arn: b, headers: { "X-Trace": "1" } });
    // The function's own policy still reads only the API key secret.
    const own = String(find(changes, "aws_iam_role_policy.check_function")!.after.policy);
    expect(own).not.toContain("web-auth");
  });

  test.each([
    [
      "a url with user info",
      `{ name = "creds", url = "https://user:pass@example.com/" }`,
      "http_checks: the url of creds holds user info (user:password@), which is refused. Put the credentials in a Secrets Manager secret",
    ],
    [
      "an Authorization header",
      `{ name = "bearer", url = "https://example.com/", headers = { authorization = "Bearer x" } }`,
      "http_checks: headers of bearer set Authorization, Proxy-Authorization or Cookie",
    ],
    [
      "a headers_secret_arn that is not a secret ARN",
      `{ name = "bad", url = "https://example.com/", headers_secret_arn = "web-auth" }`,
      "http_checks: headers_secret_arn must be a Secrets Manager secret ARN",
    ],
  ])("plan refuses %s, naming the check and the supported way", (_what, item, message) => {
    const workspace = root(`  http_checks = [${item}, { name = "fine", url = "https://example.com/" }]`);
    try {
      expect(workspace.init().status).toBe(0);
      const result = workspace.plan();
      expect(result.status).not.toBe(0);
      expect(result.stderr.replace(/\s+/g, " ")).toContain(message);
    } finally {
      workspace.remove();
    }
  });

  test("no checks: no check rules, no check invoke permission, no checked-resources policy (only the tick)", () => {
    const changes = plan("");
    const checkResources = changes.filter(
      (c) =>
        /event_rule|event_target|lambda_permission\.check|checked_resources/.test(c.address) &&
        !/\.tick\b/.test(c.address),
    );
    expect(checkResources).toEqual([]);
    // The per-minute tick (log counts, recoveries, heartbeat) is always there.
    expect(
      changes.filter((c) => /\.tick\b/.test(c.address)).map((c) => c.address.replace(/^module\.\w+\./, "")),
    ).toEqual(expect.arrayContaining(["aws_cloudwatch_event_rule.tick", "aws_lambda_permission.tick"]));
    expect(find(changes, "aws_lambda_function.check")!.after.vpc_config).toEqual([]);
  });

  test("vpc_config places the function in the subnets, with the ENI permissions", () => {
    const changes = plan(`
  http_checks = [{ name = "internal", url = "http://10.0.0.5/health" }]
  vpc_config  = { subnet_ids = ["subnet-0a1b2c"], security_group_ids = ["sg-0d1e2f"] }
`);
    expect(find(changes, "aws_lambda_function.check")!.after.vpc_config).toEqual([
      expect.objectContaining({ subnet_ids: ["subnet-0a1b2c"], security_group_ids: ["sg-0d1e2f"] }),
    ]);
    // The ENI statement is in the function's own policy (it needs the log group's ARN, known after apply),
    // so it is checked in the synthesized expression below.
  });

  test("a long name is cut to EventBridge's 64 characters with a hash, and stays unique", () => {
    const long = "a".repeat(60);
    const changes = plan(`http_checks = [
    { name = "${long}-one", url = "https://example.com/" },
    { name = "${long}-two", url = "https://example.com/" },
  ]`);
    const names = changes
      .filter((c) => c.address.includes("aws_cloudwatch_event_rule.http_check"))
      .map((c) => String(c.change.after.name));
    expect(names).toHaveLength(2);
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(64);
      expect(name.startsWith("ms-check-")).toBe(true);
    }
    expect(new Set(names).size).toBe(2);
  });
});
