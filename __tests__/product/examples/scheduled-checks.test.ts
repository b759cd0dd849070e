/**
 * examples/scheduled-checks: the Terraform root project plans offline with one rule per check (its
 * schedule, its spec as the target input), and bad schedules, thresholds and duplicate names fail at
 * plan with the variable named. Bad values are given the way a user would: an override file of the
 * example's module block.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../../scripts/lib/bundle";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { describeWithTerraform, expectCleanInit } from "../../support/terraform";
import { expectRootProject } from "../../support/examples";

const EXAMPLE = join(ROOT, "examples", "scheduled-checks");
const VARS = {
  service_name: "shop",
  app_log_group_names: '["/aws/lambda/app-a","/aws/lambda/app-b"]',
  health_check_url: "https://api.example.com/health",
  admin_status_url: "https://api.example.com/admin/status",
  state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:orders",
  producer_log_group_name: "/aws/lambda/ingest",
  pulse_bucket: "shop-batch-pulses",
  opensearch_endpoint: "https://search-shop-logs-abc123def456ghi789.us-east-1.es.amazonaws.com",
};

type Change = { address: string; change: { after: Record<string, unknown> } };

describe("the example project's files", () => {
  const read = (file: string) => readFileSync(join(EXAMPLE, file), "utf8");

  test("is a Terraform root project with the usual files and a README", () => {
    expectRootProject(EXAMPLE);
  });

  test("the README explains each check and how to set the key", () => {
    const readme = read("README.md");
    for (const name of [
      "daily-errors",
      "api-health",
      "admin-status",
      "orders-failures",
      "ingest-alive",
      "batch-pulse",
      "daily-es-errors",
    ])
      expect(readme).toContain(name);
    expect(readme).toMatch(/put-secret-value/);
  });
});

describeWithTerraform("terraform: examples/scheduled-checks", () => {
  let workspace: TerraformWorkspace;
  const override = () => join(workspace.dir, "bad_override.tf");

  beforeAll(() => {
    workspace = TerraformWorkspace.create(EXAMPLE);
    expectCleanInit(workspace);
  });
  afterAll(() => workspace.remove());
  afterEach(() => rmSync(override(), { force: true }));

  test("validates", () => {
    const result = workspace.validate();
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("The configuration is valid");
  });

  test("plans one rule per check with its schedule, and the spec as the target input", () => {
    const { result, plan } = workspace.planJson(VARS);
    expect(result.stderr).toBe("");
    const changes = plan!.resource_changes as Change[];
    const after = (address: string) => changes.find((c) => c.address === `module.mackerel.${address}`)?.change.after;

    const rules = changes.filter((c) => c.address.includes("aws_cloudwatch_event_rule."));
    expect(Object.fromEntries(rules.map((r) => [r.change.after.name, r.change.after.schedule_expression]))).toEqual({
      "mackerel-checks-example-check-daily-errors": "cron(5 0 * * ? *)",
      "mackerel-checks-example-check-api-health": "rate(1 minute)",
      "mackerel-checks-example-check-admin-status": "rate(5 minutes)",
      "mackerel-checks-example-check-orders-failures": "rate(5 minutes)",
      "mackerel-checks-example-check-ingest-alive": "rate(5 minutes)",
      "mackerel-checks-example-check-batch-pulse": "rate(5 minutes)",
      "mackerel-checks-example-check-daily-es-errors": "cron(10 0 * * ? *)",
      // The module's own per-minute tick (log counts, recoveries, heartbeat).
      "mackerel-checks-example-tick": "rate(1 minute)",
    });

    const input = (address: string) => JSON.parse(String(after(address)!.input)) as { check: Record<string, unknown> };
    expect(input('aws_cloudwatch_event_target.logs_insights_check["daily-errors"]')).toEqual({
      check: {
        kind: "logs_insights",
        name: "daily-errors",
        schedule: "cron(5 0 * * ? *)",
        log_group_names: ["/aws/lambda/app-a", "/aws/lambda/app-b"],
        query: 'fields level\n| filter level = "ERROR" or level = "WARN"\n| stats count(*) as events by level\n',
        window_minutes: 1440,
        offset_minutes: 5,
        value_field: null,
        warning: 1,
        critical: 100,
        // Defaults are in the variable's type: the plan shows what will run.
        direction: "above",
        notification_interval: null,
        max_check_attempts: null,
      },
    });
    expect(input('aws_cloudwatch_event_target.http_check["api-health"]').check).toMatchObject({
      kind: "http",
      url: "https://api.example.com/health",
      body_contains: '"status":"ok"',
      method: "GET",
      expected_status: [200],
      follow_redirects: true,
      max_check_attempts: 3,
    });
    expect(input('aws_cloudwatch_event_target.sfn_execution_check["orders-failures"]').check).toMatchObject({
      kind: "sfn_execution",
      statuses: ["FAILED", "TIMED_OUT", "ABORTED"],
      window_minutes: 60,
      critical: 1,
      max_running_minutes: 120,
    });
    expect(input('aws_cloudwatch_event_target.log_freshness_check["ingest-alive"]').check).toEqual({
      kind: "log_freshness",
      name: "ingest-alive",
      schedule: "rate(5 minutes)",
      log_group_name: "/aws/lambda/ingest",
      max_age_minutes: 30,
      notification_interval: null,
      max_check_attempts: null,
    });
    expect(input('aws_cloudwatch_event_target.s3_freshness_check["batch-pulse"]').check).toMatchObject({
      kind: "s3_freshness",
      bucket: "shop-batch-pulses",
      prefix: "pulses/nightly-batch/",
      body_contains: '"status":"ok"',
    });
    expect(input('aws_cloudwatch_event_target.opensearch_query_check["daily-es-errors"]').check).toMatchObject({
      kind: "opensearch_query",
      endpoint: VARS.opensearch_endpoint,
      group_by: "level.keyword",
      time_field: "@timestamp",
      dashboards_url: null,
    });
    const targets = changes.filter((c) => c.address.includes("aws_cloudwatch_event_target."));
    expect(targets.map((t) => t.change.after.target_id).sort()).toEqual([
      "check",
      "check",
      "check",
      "check",
      "check",
      "check",
      "check",
      "tick",
    ]);

    // The credentials secret is created in the same apply: the admin-status input, which names its ARN (and
    // never a credential), is known only then.
    const adminStatus = changes.find(
      (c) => c.address === 'module.mackerel.aws_cloudwatch_event_target.http_check["admin-status"]',
    ) as (Change & { change: { after_unknown?: Record<string, unknown> } }) | undefined;
    expect(adminStatus?.change.after_unknown?.input).toBe(true);

    expect(after("aws_lambda_permission.check_schedules[0]")).toMatchObject({
      principal: "events.amazonaws.com",
      action: "lambda:InvokeFunction",
      function_name: "mackerel-checks-example-check",
    });
    expect(after("aws_lambda_function.check")).toMatchObject({ timeout: 300, memory_size: 256, vpc_config: [] });
    expect(after("aws_iam_role_policy.check_function_checked_resources[0]")).toBeDefined();
  });

  function planWith(moduleArguments: string): string {
    writeFileSync(override(), `module "mackerel" {\n${moduleArguments}\n}\n`);
    const result = workspace.plan(VARS);
    expect(result.status).not.toBe(0);
    return result.stderr.replace(/\s+/g, " ");
  }

  test.each([
    [
      "rate(1 minutes) (EventBridge wants the singular)",
      `http_checks = [{ name = "api-health", url = "https://x.example/", schedule = "rate(1 minutes)" }]`,
      "http_checks: schedule must be an EventBridge expression",
    ],
    [
      "a cron without ? as day-of-month or day-of-week",
      `logs_insights_checks = [{ name = "q", log_group_names = ["/g"], query = "fields @message", schedule = "cron(0 0 * * * *)" }]`,
      "logs_insights_checks: schedule must be an EventBridge expression",
    ],
    [
      "a 5-field cron",
      `log_freshness_checks = [{ name = "f", log_group_name = "/g", max_age_minutes = 5, schedule = "cron(0 0 * * ?)" }]`,
      "log_freshness_checks: schedule must be an EventBridge expression",
    ],
  ])("a bad schedule fails at plan: %s", (_label, args, message) => {
    expect(planWith(args)).toContain(message);
  });

  test.each([
    [
      "warning above critical",
      `logs_insights_checks = [{ name = "q", log_group_names = ["/g"], query = "fields @message", warning = 10, critical = 5 }]`,
      "logs_insights_checks: warning must be reached before critical",
    ],
    [
      "warning below critical with direction below",
      `logs_insights_checks = [{ name = "q", log_group_names = ["/g"], query = "fields @message", warning = 1, critical = 5, direction = "below" }]`,
      "logs_insights_checks: warning must be reached before critical",
    ],
    [
      "a negative latency threshold",
      `http_checks = [{ name = "api-health", url = "https://x.example/", warning_latency_ms = -1 }]`,
      "http_checks: warning_latency_ms, critical_latency_ms must be zero or more.",
    ],
    [
      "warning above the default critical (1)",
      `sfn_execution_checks = [{ name = "s", state_machine_arn = "${VARS.state_machine_arn}", warning = 3 }]`,
      "sfn_execution_checks: warning must be reached before critical (default 1)",
    ],
    [
      "a direction that is neither above nor below",
      `logs_insights_checks = [{ name = "q", log_group_names = ["/g"], query = "fields @message", direction = "over" }]`,
      "logs_insights_checks: direction must be above or below.",
    ],
  ])("bad thresholds fail at plan: %s", (_label, args, message) => {
    expect(planWith(args)).toContain(message);
  });

  test("the same name in two lists fails at plan, naming the lists and the name", () => {
    const message = planWith(
      `log_freshness_checks = [{ name = "api-health", log_group_name = "/g", max_age_minutes = 5 }]`,
    );
    expect(message).toContain(
      "Check names must be unique across logs_insights_checks, http_checks, sfn_execution_checks, log_freshness_checks, s3_freshness_checks, opensearch_query_checks",
    );
    expect(message).toContain("repeated: api-health.");
  });

  test("the same name twice in one list fails at plan, naming the list", () => {
    const message = planWith(`http_checks = [
      { name = "web", url = "https://a.example/" },
      { name = "web", url = "https://b.example/" },
    ]`);
    expect(message).toContain("http_checks: names must be unique.");
  });

  test("a name Mackerel cannot take fails at plan", () => {
    expect(planWith(`http_checks = [{ name = "api health", url = "https://a.example/" }]`)).toContain(
      "http_checks: every name must be 1-64 characters of a-zA-Z0-9_-",
    );
  });
});
