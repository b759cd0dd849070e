/**
 * s3_freshness_checks and opensearch_query_checks in the Terraform module, planned offline: the rule
 * inputs carry the attributes' defaults, the role gets only what each check needs on only its bucket,
 * prefix, domain or collection, bad values fail at plan naming the variable and the rule, and check
 * names stay unique across all six lists. Also the construct with literal items (CDKTF users).
 */
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { type Json, synthUserStack, userStack } from "../../support/construct";
import { describeWithTerraform, expectCleanInit } from "../../support/terraform";

type Change = { address: string; change: { after: Json } };
type Statement = { Sid: string; Action: string[]; Resource: string | string[]; Condition?: Json };

const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mackerel-api-key-AbCdEf";
const DOMAIN = "https://search-app-logs-abc123def456ghi789.ap-northeast-1.es.amazonaws.com";
const VPC_DOMAIN = "https://vpc-audit-0a1b2c3d4e5f.eu-west-1.es.amazonaws.com";
const COLLECTION = "https://k3x9q7w2e1r8t5y4u6i0.us-east-1.aoss.amazonaws.com";

describeWithTerraform("terraform: S3 freshness and OpenSearch query checks", () => {
  let workspace: TerraformWorkspace;
  beforeAll(() => {
    workspace = TerraformWorkspace.rootModule(
      `
variable "s3" {
  type    = any
  default = []
}
variable "os" {
  type    = any
  default = []
}
variable "http" {
  type    = any
  default = []
}
module "mackerel" {
  source                  = "../../modules/mackerel-serverless"
  name                    = "ms"
  api_key_secret_arn      = "${SECRET}"
  service_name            = "shop"
  s3_freshness_checks     = var.s3
  opensearch_query_checks = var.os
  http_checks             = var.http
}
`,
      "examples/scratch-new-kinds",
    );
    expectCleanInit(workspace);
  });
  afterAll(() => workspace.remove());

  const planOk = (vars: Record<string, string>) => {
    const { result, plan } = workspace.planJson(vars);
    expect(result.stderr).toBe("");
    return plan!.resource_changes as Change[];
  };
  const planError = (vars: Record<string, string>) => {
    const result = workspace.plan(vars);
    expect(result.status).not.toBe(0);
    return result.stderr.replace(/\s+/g, " ");
  };
  const after = (changes: Change[], address: string) =>
    changes.find((c) => c.address === `module.mackerel.${address}`)?.change.after;
  const policy = (changes: Change[]) =>
    (
      JSON.parse(String(after(changes, "aws_iam_role_policy.check_function_checked_resources[0]")!.policy)) as {
        Statement: Statement[];
      }
    ).Statement;

  test("S3: ListBucket for the prefix only, GetObject on the prefix only when a body is checked; defaults in the input", () => {
    const changes = planOk({
      s3: `[
        { name = "nightly", bucket = "pulses", prefix = "jobs/nightly/", max_age_minutes = 30, body_contains = "\\"status\\":\\"ok\\"" },
        { name = "whole", bucket = "heartbeats.example", prefix = "", max_age_minutes = 10 },
      ]`,
    });
    expect(policy(changes)).toEqual([
      {
        Sid: "ListS3Pulses0",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: "arn:aws:s3:::pulses",
        Condition: { StringLike: { "s3:prefix": ["jobs/nightly/*"] } },
      },
      { Sid: "ListS3Pulses1", Effect: "Allow", Action: ["s3:ListBucket"], Resource: "arn:aws:s3:::heartbeats.example" },
      {
        Sid: "ReadS3Pulse0",
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: "arn:aws:s3:::pulses/jobs/nightly/*",
      },
    ]);
    expect(after(changes, 'aws_cloudwatch_event_rule.s3_freshness_check["nightly"]')).toMatchObject({
      name: "ms-check-nightly",
      schedule_expression: "rate(5 minutes)",
    });
    expect(
      JSON.parse(String(after(changes, 'aws_cloudwatch_event_target.s3_freshness_check["whole"]')!.input)),
    ).toEqual({
      check: {
        kind: "s3_freshness",
        name: "whole",
        schedule: "rate(5 minutes)",
        bucket: "heartbeats.example",
        prefix: "",
        max_age_minutes: 10,
        body_contains: null,
        notification_interval: null,
        max_check_attempts: null,
      },
    });
  });

  test("OpenSearch: ESHttpPost on the domain, APIAccessAll on the collection, derived from the endpoints", () => {
    const changes = planOk({
      os: `[
        { name = "daily-errors", endpoint = "${DOMAIN}", index = "app-logs-*", query = "level:ERROR OR level:WARN", group_by = "level.keyword", window_minutes = 1440, offset_minutes = 5, schedule = "cron(5 0 * * ? *)", dashboards_url = "https://dash.example.com/app/discover" },
        { name = "audit-count", endpoint = "${VPC_DOMAIN}", index = "audit", query = "{\\"match\\": {\\"outcome\\": \\"denied\\"}}", critical = 10 },
        { name = "serverless", endpoint = "${COLLECTION}", index = "events", query = "*", direction = "below", critical = 0 },
      ]`,
    });
    expect(policy(changes)).toEqual([
      {
        Sid: "QueryOpenSearchDomain0",
        Effect: "Allow",
        Action: ["es:ESHttpPost"],
        Resource: "arn:aws:es:ap-northeast-1:123456789012:domain/app-logs/*",
      },
      {
        Sid: "QueryOpenSearchDomain1",
        Effect: "Allow",
        Action: ["es:ESHttpPost"],
        Resource: "arn:aws:es:eu-west-1:123456789012:domain/audit/*",
      },
      {
        Sid: "QueryOpenSearchCollection2",
        Effect: "Allow",
        Action: ["aoss:APIAccessAll"],
        Resource: "arn:aws:aoss:us-east-1:123456789012:collection/k3x9q7w2e1r8t5y4u6i0",
      },
    ]);
    expect(
      JSON.parse(String(after(changes, 'aws_cloudwatch_event_target.opensearch_query_check["audit-count"]')!.input)),
    ).toEqual({
      check: {
        kind: "opensearch_query",
        name: "audit-count",
        schedule: "rate(5 minutes)",
        endpoint: VPC_DOMAIN,
        index: "audit",
        query: '{"match": {"outcome": "denied"}}',
        service: null,
        time_field: "@timestamp",
        window_minutes: 5,
        offset_minutes: 0,
        group_by: null,
        warning: null,
        critical: 10,
        direction: "above",
        dashboards_url: null,
        notification_interval: null,
        max_check_attempts: null,
      },
    });
    expect(
      after(changes, 'aws_cloudwatch_event_rule.opensearch_query_check["daily-errors"]')!.schedule_expression,
    ).toBe("cron(5 0 * * ? *)");
  });

  test.each([
    [
      "s3",
      `[{ name = "p", bucket = "s3://pulses", prefix = "", max_age_minutes = 5 }]`,
      "s3_freshness_checks: bucket must be an S3 bucket name",
    ],
    [
      "s3",
      `[{ name = "p", bucket = "pulses--usw2-az1--x-s3", prefix = "", max_age_minutes = 5 }]`,
      "s3_freshness_checks: bucket must be a general purpose bucket: directory buckets (--x-s3)",
    ],
    [
      "s3",
      `[{ name = "p", bucket = "pulses", prefix = "jobs/*", max_age_minutes = 5 }]`,
      "s3_freshness_checks: prefix must be a key prefix of at most 1024 characters without *",
    ],
    [
      "s3",
      `[{ name = "p", bucket = "pulses", prefix = "", max_age_minutes = 0 }]`,
      "s3_freshness_checks: max_age_minutes must be a whole number of minutes from 1 to 10080.",
    ],
    [
      "os",
      `[{ name = "q", endpoint = "https://logs.example.com", index = "a", query = "*" }]`,
      "opensearch_query_checks: endpoint must be an OpenSearch Service domain endpoint",
    ],
    [
      "os",
      `[{ name = "q", endpoint = "${DOMAIN}", service = "aoss", index = "a", query = "*" }]`,
      "opensearch_query_checks: service must be es (for a domain endpoint) or aoss (for a collection endpoint)",
    ],
    [
      "os",
      `[{ name = "q", endpoint = "${DOMAIN}", index = "Logs", query = "*" }]`,
      "opensearch_query_checks: index must be an index name or pattern",
    ],
    [
      "os",
      `[{ name = "q", endpoint = "${DOMAIN}", index = "a", query = "{\\"match\\": " }]`,
      "opensearch_query_checks: query must be 1 to 10000 characters: a query_string text, or query DSL as a JSON object",
    ],
    [
      "os",
      `[{ name = "q", endpoint = "${DOMAIN}", index = "a", query = "*", warning = 10, critical = 5 }]`,
      "opensearch_query_checks: warning must be reached before critical",
    ],
    [
      "os",
      `[{ name = "q", endpoint = "${DOMAIN}", index = "a", query = "*", group_by = "level keyword" }]`,
      "opensearch_query_checks: time_field and group_by must be field names",
    ],
  ])("bad %s values fail at plan naming the variable and the rule (%#)", (variable, value, message) => {
    expect(planError({ [variable]: value })).toContain(message);
  });

  test("check names are unique across all lists, the new ones included", () => {
    const message = planError({
      http: `[{ name = "pulse", url = "https://example.com/" }]`,
      s3: `[{ name = "pulse", bucket = "pulses", prefix = "", max_age_minutes = 5 }]`,
    });
    expect(message).toContain(
      "Check names must be unique across logs_insights_checks, http_checks, sfn_execution_checks, log_freshness_checks, s3_freshness_checks, opensearch_query_checks",
    );
    expect(message).toContain("repeated: pulse.");
  });
});

describe("the construct with literal items (CDKTF users)", () => {
  test("statements for literal S3 and OpenSearch items; an endpoint the role cannot be derived from is refused", () => {
    const tf = synthUserStack({
      apiKeySecretArn: SECRET,
      serviceName: "shop",
      s3FreshnessChecks: [{ name: "pulse", bucket: "pulses", prefix: "a/", maxAgeMinutes: 5, bodyContains: "ok" }],
      opensearchQueryChecks: [{ name: "errors", endpoint: COLLECTION, index: "events", query: "*" }],
    });
    const checked = String(tf.resource.aws_iam_role_policy.check_function_checked_resources.policy);
    for (const sid of ["ListS3Pulses0", "ReadS3Pulse0", "QueryOpenSearchCollection0"]) expect(checked).toContain(sid);
    expect(checked).toContain('"s3:prefix" = ["a/*"]');
    expect(checked).toContain(
      // Partition and account from the provider; the collection's region from its endpoint.
      '"arn:%s:aoss:%s:%s:collection/%s", local.aws.partition, "us-east-1", local.aws.account_id',
    );
    expect(tf.resource.aws_cloudwatch_event_rule.s3_freshness_check.for_each).toEqual({
      pulse: { name: "pulse", bucket: "pulses", prefix: "a/", max_age_minutes: 5, body_contains: "ok" },
    });

    expect(() =>
      userStack(
        {
          apiKeySecretArn: SECRET,
          serviceName: "shop",
          opensearchQueryChecks: [{ name: "errors", endpoint: "https://logs.example.com", index: "e", query: "*" }],
        },
        "bad-stack",
      ),
    ).toThrow('opensearch_query_checks: endpoint "https://logs.example.com" of errors must be a domain');
  });
});
