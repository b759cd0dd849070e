/**
 * The synthesized module stack (modules/mackerel-serverless): variables, outputs, the metric function,
 * its role and the environment contract.
 */
import { AWS_PROVIDER_VERSION } from "../../../modules/construct/module-stack";
import { type Json } from "../../support/construct";
import {
  allActions,
  allStrings,
  ENVIRONMENT_CONTRACT,
  metricResource,
  OPTIONAL_METRIC_STATEMENTS,
  satisfies,
  statements,
  synthModule,
} from "./synth-support";

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
