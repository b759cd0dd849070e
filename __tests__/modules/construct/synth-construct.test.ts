/**
 * The MackerelServerless construct with literal props, and the variables' validation applied to them
 * at synth, naming the prop.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack, Testing } from "cdktf";
import { MackerelServerless, type MackerelServerlessProps, PropValidationError } from "../../../modules/construct";
import { MackerelServerlessModuleStack } from "../../../modules/construct/module-stack";
import { type Json } from "../../support/construct";
import {
  allActions,
  KMS,
  metricResource,
  OPTIONAL_METRIC_STATEMENTS,
  SECRET,
  statements,
  synthConstruct,
} from "./synth-support";

describe("the MackerelServerless construct with literal props", () => {
  test("defaults: nodejs22.x, arm64, JSON logs, 30-day retention, the default base URL", () => {
    const tf = synthConstruct();
    const fn = metricResource(tf, "aws_lambda_function");
    expect(fn.runtime).toBe("nodejs22.x");
    expect(fn.architectures).toEqual(["arm64"]);
    expect(fn.logging_config.log_format).toBe("JSON");
    expect(fn.function_name).toBe("mackerel-serverless-metric");
    expect(fn.filename).toBe("build/metric.zip");
    expect(fn.source_code_hash).toBe("hash-of-metric");
    expect(metricResource(tf, "aws_cloudwatch_log_group")).toMatchObject({
      name: "/aws/lambda/mackerel-serverless-metric",
      retention_in_days: 30,
    });
    const env = fn.environment.variables as Record<string, string>;
    expect(env).toMatchObject({
      MACKEREL_API_KEY_SECRET_ARN: SECRET,
      MACKEREL_API_BASE_URL: "https://api.mackerelio.com/",
      MACKEREL_SERVICE_NAME: "orders",
      MACKEREL_HOST_NAME: "mackerel-serverless",
      MACKEREL_HOST_ID: "",
    });
    // Region and account come from the provider (never from the secret's ARN).
    expect(env.MACKEREL_HOST_CUSTOM_IDENTIFIER).toBe(
      '${format("mackerel-serverless/%s/%s/%s", local.aws.region, local.aws.account_id, "mackerel-serverless")}',
    );
    expect(Object.keys(tf.data).sort()).toEqual(["aws_caller_identity", "aws_partition", "aws_region"]);
    expect(tf.locals.aws).toEqual({
      partition: "${data.aws_partition.current.partition}",
      region: "${data.aws_region.current.id}",
      account_id: "${data.aws_caller_identity.current.account_id}",
    });
  });

  test("props override the defaults", () => {
    const tf = synthConstruct({
      name: "team-a",
      lambdaRuntime: "nodejs24.x",
      lambdaArchitecture: "x86_64",
      logRetentionDays: 7,
      mackerelApiBaseUrl: "https://kcps-mackerel.io/",
      host: { name: "pipeline", customIdentifier: "team-a/pipeline", id: "2eQGDXqtoXs" },
      tags: { team: "a" },
    });
    const fn = metricResource(tf, "aws_lambda_function");
    expect(fn).toMatchObject({
      function_name: "team-a-metric",
      runtime: "nodejs24.x",
      architectures: ["x86_64"],
      tags: { team: "a" },
    });
    expect(fn.environment.variables).toMatchObject({
      MACKEREL_API_BASE_URL: "https://kcps-mackerel.io/",
      MACKEREL_HOST_NAME: "pipeline",
      MACKEREL_HOST_CUSTOM_IDENTIFIER: "team-a/pipeline",
      MACKEREL_HOST_ID: "2eQGDXqtoXs",
    });
    expect(metricResource(tf, "aws_cloudwatch_log_group")).toMatchObject({
      name: "/aws/lambda/team-a-metric",
      retention_in_days: 7,
    });
  });

  test("without a KMS key the role has no kms statement at all", () => {
    const tf = synthConstruct();
    const policy = metricResource(tf, "aws_iam_role_policy").policy as string;
    expect(policy).not.toContain("kms");
    const found = statements(policy).filter((s) => !(s.sid in OPTIONAL_METRIC_STATEMENTS));
    expect(found).toEqual([
      expect.objectContaining({ sid: "WriteOwnLogs", actions: ["logs:CreateLogStream", "logs:PutLogEvents"] }),
      expect.objectContaining({
        sid: "ReadMackerelApiKey",
        actions: ["secretsmanager:GetSecretValue"],
        resource: JSON.stringify(SECRET),
      }),
    ]);
  });

  test("with a KMS key the role may decrypt with that key, via Secrets Manager only", () => {
    const tf = synthConstruct({ apiKeyKmsKeyArn: KMS });
    const found = statements(metricResource(tf, "aws_iam_role_policy").policy as string).filter(
      (s) => !(s.sid in OPTIONAL_METRIC_STATEMENTS),
    );
    expect(found.map((s) => s.sid)).toEqual(["WriteOwnLogs", "ReadMackerelApiKey", "DecryptMackerelApiKey"]);
    expect(found[2]).toMatchObject({ actions: ["kms:Decrypt"], resource: JSON.stringify(KMS) });
    expect(found[2]!.condition).toContain("kms:ViaService");
    for (const action of allActions(tf)) expect(action).not.toContain("*");
  });

  test("exposes the invoke policy and the own log groups to CDKTF users", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    new AwsProvider(stack, "aws", {});
    const construct = new MackerelServerless(stack, "m", {
      apiKeySecretArn: SECRET,
      serviceName: "orders",
      name: "x",
      code: () => ({ filename: "f.zip", sourceCodeHash: "h" }),
    });
    expect(construct.ownLogGroupNames).toEqual([
      "/aws/lambda/x-metric",
      "/aws/lambda/x-logs",
      "/aws/lambda/x-check",
      "/aws/lambda/x-sender",
    ]);
    expect(construct.metric.functionName).toBe("x-metric");
    expect(typeof construct.invokeMetricPolicyJson).toBe("string");
  });

  test("by default the zip shipped in the package is copied in as a CDKTF asset", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    new AwsProvider(stack, "aws", {});
    new MackerelServerless(stack, "m", { apiKeySecretArn: SECRET, serviceName: "orders" });
    const fn = metricResource(JSON.parse(Testing.synth(stack)) as Json, "aws_lambda_function");
    expect(fn.filename).toMatch(/^assets\/.+\/metric\.zip$/);
    expect(fn.source_code_hash).toEqual(expect.any(String));
  });
});

describe("literal props get the variables' validation at synth, naming the prop", () => {
  test.each<[Partial<MackerelServerlessProps>, string]>([
    [{ serviceName: "my service" }, "serviceName: must be 2-63 characters of A-Za-z0-9_-"],
    [{ name: "has spaces" }, "name: must be 1-40 characters"],
    [{ apiKeySecretArn: "mackerel-api-key" }, "apiKeySecretArn: must be a Secrets Manager secret ARN"],
    [{ apiKeyKmsKeyArn: "alias/mine" }, "apiKeyKmsKeyArn: must be a KMS key ARN"],
    [{ mackerelApiBaseUrl: "ftp://x" }, "mackerelApiBaseUrl: must be an http(s) URL"],
    [{ host: { name: "two words" } }, "host.name: must be 1-255 characters without whitespace"],
    [{ host: { id: "x" } }, "host.id: must be a Mackerel host id"],
    [{ lambdaRuntime: "nodejs20.x" }, "lambdaRuntime: must be nodejs22.x"],
    [{ lambdaArchitecture: "sparc" }, "lambdaArchitecture: must be arm64 or x86_64"],
    [{ logRetentionDays: 2 }, "logRetentionDays: must be one of CloudWatch Logs' retention values"],
    [{ spoolMaxAgeHours: 48 }, "spoolMaxAgeHours: must be a whole number of hours from 6"],
    [{ alarmSnsTopicArn: "ops" }, "alarmSnsTopicArn: must be an SNS topic ARN"],
    [{ vpcConfig: { subnetIds: [], securityGroupIds: ["sg-1"] } }, "vpcConfig: subnet_ids and security_group_ids"],
    [{ logSubscriptions: [{ logGroupName: "has space" }] }, "logSubscriptions[0].logGroupName: must be 1-512"],
    [
      { logFreshnessChecks: [{ name: "fresh", logGroupName: "/g", maxAgeMinutes: 0 }] },
      "logFreshnessChecks[0].maxAgeMinutes: must be at least 1",
    ],
  ])("%j", (props, message) => {
    expect(() => synthConstruct(props)).toThrow(PropValidationError);
    expect(() => synthConstruct(props)).toThrow(message);
  });

  test("the same values as tokens are left to Terraform (the module's variables check them at plan)", () => {
    expect(() => new MackerelServerlessModuleStack(Testing.app(), "module")).not.toThrow();
  });
});
