/**
 * One of the module's Lambda functions with what every one of them has: its own log group with
 * retention, its own role allowed only its own statements, JSON logs, `index.handler` from a zip.
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LambdaFunction, type LambdaFunctionVpcConfig } from "@cdktf/provider-aws/lib/lambda-function";
import { Fn, type IResolvable } from "cdktf";
import { Construct } from "constructs";
import { type AwsLocation, functionLogGroupName, namedLocal, ownArn } from "./context";

/** The functions the module ships; each is `dist/<name>.zip`. */
export const FUNCTION_NAMES = ["metric", "logs", "check", "sender"] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Where a function's zip is and its base64 SHA-256, as Terraform expressions or literals. */
export interface FunctionCode {
  filename: string;
  sourceCodeHash: string;
}

/** An IAM policy statement; Resource always names resources, never `*` unless the action has no resource type. */
export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow";
  Action: string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

export interface ModuleFunctionProps {
  /** Resource name prefix (var.name). */
  prefix: string;
  function: FunctionName;
  description: string;
  code: FunctionCode;
  runtime: string;
  architecture: string;
  logRetentionDays: number;
  memorySize: number;
  timeout: number;
  environment: Record<string, string>;
  /** Statements beyond writing its own logs. */
  statements: PolicyStatement[];
  /** Terraform list expressions of further statements that depend on inputs (e.g. KMS only when a key is given). */
  conditionalStatements?: IResolvable[];
  tags: Record<string, string>;
  /** The provider's partition, region and account: the function's own ARNs in its policy. */
  aws: AwsLocation;
  vpcConfig?: LambdaFunctionVpcConfig;
  reservedConcurrentExecutions?: number;
}

/** A Lambda function with its log group and least-privilege role. */
export class ModuleFunction extends Construct {
  readonly logGroup: CloudwatchLogGroup;
  readonly role: IamRole;
  readonly lambda: LambdaFunction;
  /** The function's name, known before the function exists (used for the log group). */
  readonly functionName: string;

  constructor(scope: Construct, id: string, props: ModuleFunctionProps) {
    super(scope, id);
    const fn = props.function;
    this.functionName = `${props.prefix}-${fn}`;

    this.logGroup = new CloudwatchLogGroup(this, "log-group", {
      name: functionLogGroupName(props.prefix, fn),
      retentionInDays: props.logRetentionDays,
      tags: props.tags,
    });
    this.logGroup.overrideLogicalId(`${fn}_function`);

    this.role = new IamRole(this, "role", {
      name: `${this.functionName}`,
      description: `Role of the mackerel-serverless ${fn} function`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags: props.tags,
    });
    this.role.overrideLogicalId(`${fn}_function`);

    const ownLogs: PolicyStatement = {
      Sid: "WriteOwnLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      // Composed (not the log group's attribute) so that the plan shows the policy in full.
      Resource: ownArn(props.aws, "logs", "log-group:/aws/lambda/", props.prefix, `-${fn}:*`),
    };
    // The statements as a local (`local.<fn>_function_statements`), one attribute a line in the module;
    // the policy only joins them with those that depend on inputs.
    const fixed = namedLocal(this, `${fn}_function_statements`, [ownLogs, ...props.statements]).expression;
    const conditional = props.conditionalStatements ?? [];
    const policy = Fn.jsonencode({
      Version: "2012-10-17",
      Statement: conditional.length > 0 ? Fn.concat([fixed, ...conditional]) : fixed,
    });
    const rolePolicy = new IamRolePolicy(this, "policy", {
      name: `${this.functionName}`,
      role: this.role.id,
      policy,
    });
    rolePolicy.overrideLogicalId(`${fn}_function`);

    this.lambda = new LambdaFunction(this, "function", {
      functionName: this.functionName,
      description: props.description,
      role: this.role.arn,
      handler: "index.handler",
      runtime: props.runtime,
      architectures: [props.architecture],
      filename: props.code.filename,
      sourceCodeHash: props.code.sourceCodeHash,
      memorySize: props.memorySize,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      loggingConfig: {
        logFormat: "JSON",
        logGroup: this.logGroup.name,
        applicationLogLevel: "INFO",
        systemLogLevel: "WARN",
      },
      environment: { variables: { NODE_OPTIONS: "--enable-source-maps", ...props.environment } },
      vpcConfig: props.vpcConfig,
      tags: props.tags,
      // The role's policy must exist before the function first runs and logs.
      dependsOn: [rolePolicy],
    });
    this.lambda.overrideLogicalId(fn);
  }
}
