/**
 * The Mackerel side as code: the `mackerel_monitors` output (planned offline) holds monitor definitions
 * that the strict local Mackerel server's monitors validation accepts, in the `{"monitors": [...]}`
 * layout of `mkr monitors pull`/`push`; `host.roles` reaches the functions and the host registration
 * (`roleFullnames`), and bad roles or metric names fail at plan.
 */
import { StaticApiKey } from "../../../functions/shared/api-key";
import { HostResolver } from "../../../functions/shared/host";
import { MackerelClient } from "../../../functions/shared/mackerel-client";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { LocalMackerelServer, validateMonitorDefinitions } from "../../../scripts/local/mackerel";
import { userStack } from "../../support/construct";
import { describeWithTerraform, expectCleanInit } from "../../support/terraform";

const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mackerel-api-key-AbCdEf";

describe("validateMonitorDefinitions (the local Mackerel server's monitors check)", () => {
  test("accepts documented service and connectivity monitors; names each broken field", () => {
    expect(
      validateMonitorDefinitions({
        monitors: [
          {
            type: "service",
            name: "a",
            service: "shop",
            metric: "jobs.x.failed",
            operator: ">",
            critical: 0,
            duration: 1,
          },
          { type: "connectivity", name: "b", scopes: ["shop:serverless"], alertStatusOnGone: "WARNING" },
        ],
      }),
    ).toEqual([]);
    expect(
      validateMonitorDefinitions({
        monitors: [
          {
            type: "service",
            name: "a",
            service: "shop",
            metric: "bad metric",
            operator: ">=",
            duration: 0,
            threshold: 1,
          },
          { type: "connectivity", name: "a", scopes: ["shop:serverless:x"] },
          { type: "expression", name: "c" },
        ],
        extra: 1,
      }),
    ).toEqual([
      'unknown top-level field "extra"',
      'monitors[0]: field "threshold" is not documented for service monitors',
      "monitors[0].metric must be a service metric name ([a-zA-Z0-9._-]+)",
      "monitors[0].operator must be > or <",
      "monitors[0]: warning or critical must be set",
      "monitors[0].duration must be a whole number of points, at least 1",
      'monitors[1].name "a" repeats monitors[0]',
      'monitors[1].scopes[0] "shop:serverless:x" must be <service> or <service>:<role>',
      'monitors[2].type "expression" is not a type this stand-in checks (service, connectivity)',
    ]);
  });
});

test("the host is registered with its roles (roleFullnames) when they are given", async () => {
  const server = await LocalMackerelServer.start({ apiKeys: ["k"], services: ["shop"] });
  try {
    const client = new MackerelClient({ baseUrl: server.url, apiKey: new StaticApiKey("k") });
    const resolver = new HostResolver(
      { name: "pipeline", customIdentifier: "ms/roles", roles: ["shop:serverless", "ops:pipelines"] },
      client,
    );
    const id = await resolver.hostId();
    expect(server.hosts().find((h) => h.id === id)!.roles).toEqual({ shop: ["serverless"], ops: ["pipelines"] });
    await new HostResolver({ name: "plain", customIdentifier: "ms/plain", roles: [] }, client).hostId();
    expect(server.hosts().find((h) => h.name === "plain")!.roles).toEqual({});
  } finally {
    await server.close();
  }
});

test("every function gets the host's roles as MACKEREL_HOST_ROLES (comma-separated)", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { synthesizeModule } = require("../../../modules/construct/module-stack");
  const tf = synthesizeModule() as {
    resource: { aws_lambda_function: Record<string, { environment: { variables: Record<string, string> } }> };
  };
  for (const fn of Object.values(tf.resource.aws_lambda_function)) {
    expect(fn.environment.variables.MACKEREL_HOST_ROLES).toBe('${join(",", var.host.roles)}');
  }
});

test("CDKTF users with literal props get the same monitors as a plain object", () => {
  const { construct: m } = userStack({
    name: "cdk",
    apiKeySecretArn: SECRET,
    serviceName: "shop",
    host: { roles: ["shop:pipeline"] },
    jobFailureMetrics: ["jobs.nightly.failed"],
    logRules: [{ name: "errors", include: ["ERROR"], status: "WARNING" }],
  });
  const monitors = m.mackerelMonitors as { monitors: Record<string, unknown>[] };
  expect(monitors.monitors.map((x) => [x.type, x.name, x.metric ?? x.scopes, x.warning ?? x.critical ?? null])).toEqual(
    [
      ["service", "cdk job jobs.nightly.failed", "jobs.nightly.failed", 0],
      ["service", "cdk log rule errors", "logs.errors.count", 0],
      ["connectivity", "cdk heartbeat", ["shop:pipeline"], null],
    ],
  );
  expect(monitors.monitors[1]).toHaveProperty("warning", 0);
  expect(monitors.monitors[1]).not.toHaveProperty("critical");
  expect(validateMonitorDefinitions(monitors)).toEqual([]);
});

describeWithTerraform("terraform: mackerel_monitors and host.roles", () => {
  let workspace: TerraformWorkspace;
  beforeAll(() => {
    workspace = TerraformWorkspace.rootModule(
      `
variable "host" {
  type    = any
  default = {}
}
variable "job_failure_metrics" {
  type    = any
  default = []
}
variable "log_rules" {
  type    = any
  default = []
}
module "mackerel" {
  source              = "../../modules/mackerel-serverless"
  name                = "ms"
  api_key_secret_arn  = "${SECRET}"
  service_name        = "shop"
  host                = var.host
  job_failure_metrics = var.job_failure_metrics
  log_rules           = var.log_rules
}
output "monitors" {
  value = module.mackerel.mackerel_monitors
}
`,
      "examples/scratch-monitors",
    );
    expectCleanInit(workspace);
  });
  afterAll(() => workspace.remove());

  const planned = (vars: Record<string, string>) => {
    const { result, plan } = workspace.planJson(vars);
    expect(result.stderr).toBe("");
    const p = plan as { planned_values: { outputs: { monitors: { value: unknown } } } };
    return { monitors: p.planned_values.outputs.monitors.value };
  };

  test("one monitor per job-failure metric and per log rule, a connectivity monitor scoped to the host's roles", () => {
    const { monitors } = planned({
      host: `{ name = "pipeline", roles = ["shop:serverless"] }`,
      job_failure_metrics: `["jobs.import.failed", "jobs.export.failed"]`,
      log_rules: `[
        { name = "app-errors", include = ["ERROR"] },
        { name = "slow", include = ["slow"], status = "WARNING", notification_interval = 60 },
      ]`,
    });
    expect(monitors).toEqual({
      monitors: [
        {
          type: "service",
          name: "ms job jobs.import.failed",
          memo: expect.stringContaining("the job failed"),
          service: "shop",
          metric: "jobs.import.failed",
          operator: ">",
          critical: 0,
          duration: 1,
          maxCheckAttempts: 1,
        },
        expect.objectContaining({ name: "ms job jobs.export.failed", metric: "jobs.export.failed", critical: 0 }),
        {
          type: "service",
          name: "ms log rule app-errors",
          memo: expect.stringContaining("matched the log rule"),
          service: "shop",
          metric: "logs.app-errors.count",
          operator: ">",
          critical: 0,
          duration: 1,
          maxCheckAttempts: 1,
        },
        {
          type: "service",
          name: "ms log rule slow",
          memo: expect.any(String),
          service: "shop",
          metric: "logs.slow.count",
          operator: ">",
          warning: 0,
          duration: 1,
          maxCheckAttempts: 1,
          notificationInterval: 60,
        },
        {
          type: "connectivity",
          name: "ms heartbeat",
          memo: expect.stringContaining("heartbeat"),
          scopes: ["shop:serverless"],
          alertStatusOnGone: "CRITICAL",
        },
      ],
    });
    expect(validateMonitorDefinitions(monitors)).toEqual([]);
  });

  test("without roles no connectivity monitor (Mackerel's default one covers the host); nothing declared, no monitors", () => {
    const { monitors } = planned({ log_rules: `[{ name = "e", include = ["x"] }]` });
    expect((monitors as { monitors: { type: string }[] }).monitors.map((m) => m.type)).toEqual(["service"]);
    expect(planned({}).monitors).toEqual({ monitors: [] });
  });

  test.each([
    [{ host: `{ roles = ["shop"] }` }, "host.roles: each role must be <service>:<role>"],
    [{ host: `{ roles = ["shop:-x"] }` }, "host.roles: each role must be <service>:<role>"],
    [{ job_failure_metrics: `["jobs import"]` }, "job_failure_metrics: each must be a service metric name"],
    [{ job_failure_metrics: `["a", "a"]` }, "job_failure_metrics: each metric may appear once."],
  ])("bad values fail at plan naming the variable (%#)", (vars, message) => {
    const result = workspace.plan(vars as Record<string, string>);
    expect(result.status).not.toBe(0);
    expect(result.stderr.replace(/\s+/g, " ")).toContain(message);
  });
});
