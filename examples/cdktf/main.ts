/**
 * A CDKTF app that uses the MackerelServerless construct directly, in TypeScript: the secret, the
 * monitoring, and a state machine whose two jobs report to Mackerel through `jobStates()`.
 *
 *   npx cdktf synth     (or: npx tsx main.ts)
 *   npx cdktf deploy
 *
 * In your own project, import from the package instead: `import { jobStates, MackerelServerless } from "mackerel-serverless"`.
 */
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SfnStateMachine } from "@cdktf/provider-aws/lib/sfn-state-machine";
import { App, Fn, TerraformOutput, TerraformStack, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import { jobStates, MackerelServerless } from "../../modules/construct";

export class MonitoringStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, "aws", { region: "ap-northeast-1" });

    // The value is set out of band: aws secretsmanager put-secret-value --secret-id mackerel-api-key --secret-string ...
    const apiKey = new SecretsmanagerSecret(this, "api-key", {
      name: "mackerel-api-key",
      description: "Mackerel API key (write) for mackerel-serverless",
    });

    // The jobs are your own functions.
    const extractArn = new TerraformVariable(this, "extract_function_arn", {
      type: "string",
      description: "ARN of the Lambda function that runs the extract job",
    });
    const loadArn = new TerraformVariable(this, "load_function_arn", {
      type: "string",
      description: "ARN of the Lambda function that runs the load job",
    });

    const mackerel = new MackerelServerless(this, "mackerel", {
      name: "cdktf-demo",
      apiKeySecretArn: apiKey.arn,
      serviceName: "my-service",
    });

    const role = new IamRole(this, "state-machine-role", {
      name: "cdktf-demo-nightly",
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "states.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    });
    new IamRolePolicy(this, "invoke-metric", {
      name: "invoke-mackerel-metric",
      role: role.id,
      policy: mackerel.invokeMetricPolicyJson,
    });

    const parallel = {
      Type: "Parallel",
      End: true,
      Branches: [
        {
          StartAt: "Extract",
          States: jobStates({
            name: "Extract",
            state: { Type: "Task", Resource: extractArn.stringValue },
            metricFunctionArn: mackerel.metric.lambda.arn,
            metricName: "jobs.failed.extract",
          }),
        },
        {
          StartAt: "Load",
          States: jobStates({
            name: "Load",
            state: { Type: "Task", Resource: loadArn.stringValue },
            metricFunctionArn: mackerel.metric.lambda.arn,
            metricName: "jobs.failed.load",
          }),
        },
      ],
    };
    const stateMachine = new SfnStateMachine(this, "nightly", {
      name: "cdktf-demo-nightly",
      roleArn: role.arn,
      definition: Fn.jsonencode({ StartAt: "Nightly", States: { Nightly: parallel } }),
    });

    new TerraformOutput(this, "metric_function_arn", { value: mackerel.metric.lambda.arn });
    new TerraformOutput(this, "state_machine_arn", { value: stateMachine.arn });
  }
}

if (require.main === module) {
  const app = new App();
  new MonitoringStack(app, "monitoring");
  app.synth();
}
