/**
 * The stack that synthesizes `modules/mackerel-serverless`: the module's variables, one
 * {@link MackerelServerless}, its outputs. A child module must carry no provider block and no backend
 * (callers could not use for_each on it), and pins the provider by range, not exactly.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, type IResolvable, TerraformOutput, TerraformStack, type TerraformVariable, Token } from "cdktf";
import { declareVariables, finishChildModule } from "./child-module";
import type { Construct } from "constructs";
import { FUNCTION_NAMES, type FunctionName } from "./module-function";
import { MackerelServerless } from "./mackerel-serverless";
import { fileOfPath, type ModuleFile, splitModule } from "./module-files";
import { OUTPUTS } from "./outputs";
import { VARIABLES } from "./variables";

type Json = Record<string, unknown>;

/** Provider range: hashicorp/aws 5.x (from 5.80, for every resource argument used) and 6.x. */
export const AWS_PROVIDER_VERSION = ">= 5.80, < 7.0";
/** Optional object attributes with defaults and cross-attribute conditionals need Terraform 1.5. */
export const TERRAFORM_VERSION = ">= 1.5";

export class MackerelServerlessModuleStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Only so that synthesis knows the resources' provider; its block is stripped in toTerraform().
    new AwsProvider(this, "aws", {});

    const vars = declareVariables(this, VARIABLES);
    const v = (name: string): TerraformVariable => {
      const variable = vars.get(name);
      if (!variable) throw new Error(`no variable ${name}`);
      return variable;
    };

    const module = new MackerelServerless(this, "mackerel-serverless", {
      name: v("name").stringValue,
      apiKeySecretArn: v("api_key_secret_arn").stringValue,
      apiKeyKmsKeyArn: v("api_key_kms_key_arn").stringValue,
      mackerelApiBaseUrl: v("mackerel_api_base_url").stringValue,
      serviceName: v("service_name").stringValue,
      host: v("host").value as IResolvable,
      lambdaRuntime: v("lambda_runtime").stringValue,
      lambdaArchitecture: v("lambda_architecture").stringValue,
      logRetentionDays: v("log_retention_days").numberValue,
      tags: Token.asStringMap(v("tags").value),
      code: moduleCode,
      alarmSnsTopicArn: v("alarm_sns_topic_arn").stringValue,
      spoolMaxAgeHours: v("spool_max_age_hours").numberValue,
      logsInsightsChecks: v("logs_insights_checks").value as IResolvable,
      httpChecks: v("http_checks").value as IResolvable,
      sfnExecutionChecks: v("sfn_execution_checks").value as IResolvable,
      logFreshnessChecks: v("log_freshness_checks").value as IResolvable,
      s3FreshnessChecks: v("s3_freshness_checks").value as IResolvable,
      opensearchQueryChecks: v("opensearch_query_checks").value as IResolvable,
      logSubscriptions: v("log_subscriptions").value as IResolvable,
      accountLogSubscription: v("account_log_subscription").value as IResolvable,
      logRules: v("log_rules").value as IResolvable,
      jobFailureMetrics: v("job_failure_metrics").value as IResolvable,
      vpcConfig: v("vpc_config").value as IResolvable,
    });

    for (const output of OUTPUTS) {
      new TerraformOutput(this, output.name, {
        value: output.value(module),
        description: output.description,
      }).overrideLogicalId(output.name);
    }
  }

  /** The file of each resource and data source (`resource.<type>.<name>`), by its construct's feature. */
  readonly files = new Map<string, ModuleFile>();

  override toTerraform(): Record<string, unknown> {
    const tf = super.toTerraform() as Record<string, unknown>;
    for (const key of ["resource", "data"]) {
      for (const [type, byName] of Object.entries((tf[key] ?? {}) as Record<string, Record<string, Json>>)) {
        for (const [name, body] of Object.entries(byName)) {
          const path = (body["//"] as { metadata?: { path?: string } } | undefined)?.metadata?.path ?? "";
          this.files.set(`${key}.${type}.${name}`, fileOfPath(path));
        }
      }
    }
    return finishChildModule(tf, {
      definitions: VARIABLES,
      requiredVersion: TERRAFORM_VERSION,
      requiredProviders: { aws: { source: "hashicorp/aws", version: AWS_PROVIDER_VERSION } },
    });
  }
}

/** Inside a child module, paths are relative to `path.module`; the hash lets Terraform see a new zip. */
function moduleCode(fn: FunctionName) {
  const filename = `\${path.module}/dist/${fn}.zip`;
  return { filename, sourceCodeHash: `\${filebase64sha256("${filename}")}` };
}

/** Synthesizes the module and returns its Terraform JSON. */
export function synthesizeModule(): Record<string, unknown> {
  return synthesizeModuleFiles().merged;
}

/** Synthesizes the module: its Terraform JSON, and the same in files by concern ({@link splitModule}). */
export function synthesizeModuleFiles(): {
  merged: Record<string, unknown>;
  files: Partial<Record<ModuleFile, Record<string, unknown>>>;
} {
  const app = new App({ outdir: "cdktf.out" });
  const stack = new MackerelServerlessModuleStack(app, "mackerel-serverless");
  // The stack's own rendering, not app.synth(): nothing is written to cdktf.out.
  const merged = stack.toTerraform();
  const files = splitModule(merged, (address) => {
    const file = stack.files.get(address);
    if (!file) throw new Error(`no file for ${address}`);
    return file;
  });
  return { merged, files };
}

export { FUNCTION_NAMES };
