/**
 * Synth tests of the CDKTF construct: the module stack (Terraform variables in, child module out) and the
 * `MackerelServerless` construct in a plain stack with literal props. No terraform binary needed.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack, Testing } from "cdktf";
import { synthUserStack } from "../../support/construct";
import { inlineLocals } from "../../support/locals";
import { allActions, allStrings, satisfies, statements } from "../../support/synth-text";
import { MackerelServerless, type MackerelServerlessProps, PropValidationError } from "../../../modules/construct";
import { AWS_PROVIDER_VERSION, MackerelServerlessModuleStack } from "../../../modules/construct/module-stack";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mackerel-api-key-AbCdEf";
const KMS = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

function synthModule(): Json {
  const stack = new MackerelServerlessModuleStack(Testing.app(), "mackerel-serverless");
  return inlineLocals(JSON.parse(Testing.synth(stack)) as Json);
}

function synthConstruct(props: Partial<MackerelServerlessProps> = {}): Json {
  return synthUserStack({ apiKeySecretArn: SECRET, serviceName: "orders", ...props });
}

/** The metric function's resources, by their stable logical ids (other features add other functions). */
function metricResource(tf: Json, type: string): Json {
  const id = type === "aws_lambda_function" ? "metric" : "metric_function";
  const resource = tf.resource?.[type]?.[id] as Json | undefined;
  if (!resource) throw new Error(`no ${type}.${id} in ${Object.keys(tf.resource?.[type] ?? {}).join(", ")}`);
  return resource;
}

/** Environment variables the functions' environment contract (functions/shared/config.ts) may carry. */
const ENVIRONMENT_CONTRACT = [
  "MACKEREL_API_KEY_SECRET_ARN",
  "MACKEREL_API_BASE_URL",
  "MACKEREL_SERVICE_NAME",
  "MACKEREL_HOST_NAME",
  "MACKEREL_HOST_CUSTOM_IDENTIFIER",
  "MACKEREL_HOST_ID",
  "MACKEREL_HOST_ROLES",
  "MACKEREL_SERVERLESS_OWN_LOG_GROUPS",
  "STATE_TABLE_NAME",
  "SPOOL_QUEUE_URL",
  "DEAD_LETTER_QUEUE_URL",
  "NODE_OPTIONS",
];

/**
 * Statements the metric function's role may hold beyond the required ones: the spool (a later feature)
 * lets it send what Mackerel could not take to its own queue.
 */
const OPTIONAL_METRIC_STATEMENTS: Record<string, { actions: string[]; resource: RegExp }> = {
  // ARNs of the module's own resources are composed from the provider's location and their names.
  SpoolWritesMackerelCouldNotTake: {
    actions: ["sqs:SendMessage"],
    resource:
      /^format\("arn:%s:%s:%s:%s:%s%s", local\.aws\.partition, "sqs", local\.aws\.region, local\.aws\.account_id, var\.name, "-spool\.fifo"\)$/,
  },
  // The host id shared through the state table (a LeadingKeys condition limits it to the host item).
  MackerelHostId: {
    actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
    resource: /"dynamodb", local\.aws\.region, local\.aws\.account_id, "table\/", var\.name, "-state"/,
  },
  // Distinct occurredAt seconds per (host, check), limited to the `check#…` items.
  CheckReportSeconds: {
    actions: ["dynamodb:UpdateItem"],
    resource: /"dynamodb", local\.aws\.region, local\.aws\.account_id, "table\/", var\.name, "-state"/,
  },
};

describe("the module stack (modules/mackerel-serverless)", () => {
  const tf = synthModule();
  const fn = metricResource(tf, "aws_lambda_function");
  const policy = metricResource(tf, "aws_iam_role_policy").policy as string;

  test("is a child module: no provider block, no backend", () => {
    expect(tf.provider).toBeUndefined();
    expect(tf.terraform.backend).toBeUndefined();
    expect(Object.keys(tf.terraform).sort()).toEqual(["required_providers", "required_version"]);
    expect(JSON.stringify(tf)).not.toMatch(/"backend"|"cloud"|"\/\/"/);
  });

  test("required_providers pins hashicorp/aws by a range that admits 5.x and 6.x", () => {
    expect(tf.terraform.required_providers).toEqual({
      aws: { source: "hashicorp/aws", version: AWS_PROVIDER_VERSION },
    });
    const range = tf.terraform.required_providers.aws.version as string;
    for (const version of ["5.80.0", "5.100.0", "6.0.0", "6.25.1"]) expect(satisfies(version, range)).toBe(true);
    for (const version of ["4.67.0", "5.79.9", "7.0.0"]) expect(satisfies(version, range)).toBe(false);
  });

  test("every file path is under ${path.module}", () => {
    expect(fn.filename).toBe("${path.module}/dist/metric.zip");
    expect(fn.source_code_hash).toBe('${filebase64sha256("${path.module}/dist/metric.zip")}');
    const paths = allStrings(tf).filter((s) => /\.zip|dist\//.test(s));
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) {
      for (const mention of path.match(/[^"(]*\.zip/g) ?? []) expect(mention).toMatch(/^\$\{path\.module\}\/dist\//);
    }
    expect(JSON.stringify(tf)).not.toContain(process.cwd());
    expect(JSON.stringify(tf)).not.toMatch(/assets\//);
  });

  test("the metric function: runtime and architecture from variables defaulting to nodejs22.x / arm64", () => {
    expect(fn.runtime).toBe("${var.lambda_runtime}");
    expect(fn.architectures).toEqual(["${var.lambda_architecture}"]);
    expect(tf.variable.lambda_runtime.default).toBe("nodejs22.x");
    expect(tf.variable.lambda_architecture.default).toBe("arm64");
    expect(fn.handler).toBe("index.handler");
    expect(fn.function_name).toBe("${var.name}-metric");
    expect(tf.variable.name.default).toBe("mackerel-serverless");
  });

  test("JSON log format into its own log group with retention", () => {
    expect(fn.logging_config).toMatchObject({
      log_format: "JSON",
      log_group: "${aws_cloudwatch_log_group.metric_function.name}",
    });
    const group = metricResource(tf, "aws_cloudwatch_log_group");
    expect(group.name).toBe("/aws/lambda/${var.name}-metric");
    expect(group.retention_in_days).toBe("${var.log_retention_days}");
  });

  test("environment: secret ARN, base URL, service and host settings — never the key", () => {
    const env = fn.environment.variables as Record<string, string>;
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        "MACKEREL_API_BASE_URL",
        "MACKEREL_API_KEY_SECRET_ARN",
        "MACKEREL_HOST_CUSTOM_IDENTIFIER",
        "MACKEREL_HOST_ID",
        "MACKEREL_HOST_NAME",
        "MACKEREL_SERVICE_NAME",
      ]),
    );
    for (const name of Object.keys(env)) expect(ENVIRONMENT_CONTRACT).toContain(name);
    expect(env.MACKEREL_API_KEY_SECRET_ARN).toBe("${var.api_key_secret_arn}");
    expect(env.MACKEREL_API_BASE_URL).toBe("${var.mackerel_api_base_url}");
    expect(env.MACKEREL_SERVICE_NAME).toBe("${var.service_name}");
    expect(env.MACKEREL_HOST_NAME).toContain("var.host.name");
    expect(env.MACKEREL_HOST_CUSTOM_IDENTIFIER).toContain("var.host.custom_identifier");
    expect(env.MACKEREL_HOST_ID).toContain("var.host.id");
    // No variable that could carry the key itself.
    expect(Object.keys(tf.variable).filter((v) => /api_key(?!_secret_arn|_kms_key_arn)/.test(v))).toEqual([]);
  });

  test("the role may only read the secret, write its own logs, and decrypt with the given key", () => {
    const all = statements(policy);
    expect(all.every((s) => s.effect === "Allow")).toBe(true);
    // Anything beyond the three is an allowed feature statement, scoped to its own resource.
    const extra = all.filter((s) => !["WriteOwnLogs", "ReadMackerelApiKey", "DecryptMackerelApiKey"].includes(s.sid));
    for (const statement of extra) {
      const allowed = OPTIONAL_METRIC_STATEMENTS[statement.sid];
      expect([statement.sid, allowed !== undefined]).toEqual([statement.sid, true]);
      expect(statement.actions).toEqual(allowed!.actions);
      expect(statement.resource).toMatch(allowed!.resource);
      expect(statement.conditional).toBe(false);
    }
    const found = all.filter((s) => !extra.includes(s));
    expect(found.map((s) => s.sid)).toEqual(["WriteOwnLogs", "ReadMackerelApiKey", "DecryptMackerelApiKey"]);
    const [logs, secret, kms] = found;
    expect(logs).toMatchObject({
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      // Composed from the provider's location and the log group's name (known at plan).
      resource:
        'format("arn:%s:%s:%s:%s:%s%s%s", local.aws.partition, "logs", local.aws.region, local.aws.account_id, "log-group:/aws/lambda/", var.name, "-metric:*")',
      conditional: false,
    });
    expect(secret).toMatchObject({
      actions: ["secretsmanager:GetSecretValue"],
      // Complete ARNs as given; partial ones (no 6-character suffix) in AWS's form for them.
      resource:
        'can(regex("-[A-Za-z0-9]{6}$", var.api_key_secret_arn)) ? var.api_key_secret_arn : format("%s-??????", var.api_key_secret_arn)',
      conditional: false,
    });
    expect(kms).toMatchObject({ actions: ["kms:Decrypt"], resource: "var.api_key_kms_key_arn", conditional: true });
    expect(kms!.condition).toContain('"kms:ViaService" = format("secretsmanager.%s.amazonaws.com"');
    // The KMS statement exists only when the variable is set.
    expect(policy).toContain("(length(compact([var.api_key_kms_key_arn])) < 1) ? [] : [");
    expect(tf.variable.api_key_kms_key_arn.default).toBeNull();
  });

  test("the role is assumable by Lambda only", () => {
    const role = metricResource(tf, "aws_iam_role");
    expect(JSON.parse(role.assume_role_policy as string)).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    expect(metricResource(tf, "aws_iam_role_policy").role).toBe("${aws_iam_role.metric_function.id}");
    expect(fn.role).toBe("${aws_iam_role.metric_function.arn}");
  });

  test("no IAM action anywhere is a wildcard", () => {
    const actions = allActions(tf);
    expect(actions).toEqual(
      expect.arrayContaining([
        "logs:CreateLogStream",
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
        "lambda:InvokeFunction",
        "sts:AssumeRole",
      ]),
    );
    for (const action of actions) expect(action).not.toContain("*");
  });

  test("outputs", () => {
    expect(Object.keys(tf.output).sort()).toEqual(
      expect.arrayContaining([
        "invoke_metric_policy_json",
        "metric_function_arn",
        "metric_function_name",
        "own_log_group_names",
      ]),
    );
    expect(tf.output.metric_function_arn.value).toBe("${aws_lambda_function.metric.arn}");
    expect(tf.output.metric_function_name.value).toBe("${aws_lambda_function.metric.function_name}");
    expect(tf.output.own_log_group_names.value).toContain("/aws/lambda/${var.name}-metric");
    const invoke = statements(tf.output.invoke_metric_policy_json.value as string);
    expect(invoke).toEqual([
      expect.objectContaining({
        actions: ["lambda:InvokeFunction"],
        resource: '[aws_lambda_function.metric.arn, format("%s:*", aws_lambda_function.metric.arn)]',
      }),
    ]);
    for (const output of Object.values(tf.output as Json)) expect(output.description).toEqual(expect.any(String));
  });

  test("variables have descriptions; required ones have no default", () => {
    for (const [name, variable] of Object.entries(tf.variable as Json)) {
      expect([name, typeof variable.description]).toEqual([name, "string"]);
    }
    expect("default" in tf.variable.api_key_secret_arn).toBe(false);
    expect("default" in tf.variable.service_name).toBe(false);
  });
});

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
