/**
 * What the parts of the construct share: naming, common function settings, the Mackerel environment
 * every function gets, and the statements that read the API key. Each feature (metric, log monitoring,
 * scheduled checks, spool) lives in its own file and builds on this.
 */
import { Fn, type IResolvable, Op, TerraformLocal, Token } from "cdktf";
import type { Construct } from "constructs";
import type { FunctionCode, FunctionName, PolicyStatement } from "./module-function";

export interface FeatureContext {
  /** var.name. */
  prefix: string;
  code: (fn: FunctionName) => FunctionCode;
  /** Settings every function shares (runtime, architecture, retention, tags, name prefix). */
  common: {
    prefix: string;
    runtime: string;
    architecture: string;
    logRetentionDays: number;
    tags: Record<string, string>;
    aws: AwsLocation;
  };
  /** Environment every function that talks to Mackerel gets (never the key itself; includes SPOOL_QUEUE_URL). */
  mackerelEnvironment: Record<string, string>;
  /**
   * sqs:SendMessage on the spool only. Every function that writes to Mackerel adds it to its statements and
   * passes `runtime.spool` to `deliver`, so retryable failures are spooled, never lost (spool.ts).
   */
  sendToSpool: PolicyStatement;
  /** secretsmanager:GetSecretValue on the API key secret. */
  readSecret: PolicyStatement;
  /** kms:Decrypt on the secret's key, only when one is given (a Terraform list expression). */
  decryptSecret: IResolvable | undefined;
  /** Names of all the module's function log groups, known before the functions exist (the loop guard). */
  ownLogGroupNames: string[];
  /** Where the module's own resources are: from the provider, never from an input ARN ({@link AwsLocation}). */
  aws: AwsLocation;
}

/**
 * Partition, region and account of the stack's AWS provider, as Terraform expressions (locals over the
 * `aws_partition`, `aws_region` and `aws_caller_identity` data sources). Every ARN the module composes for
 * its own resources uses these: an input ARN (the API key secret, which may be shared from another
 * account or region) says nothing about where the module runs.
 */
export interface AwsLocation {
  partition: string;
  region: string;
  accountId: string;
}

/** The log group name of one of the module's functions. */
export function functionLogGroupName(prefix: string, fn: FunctionName): string {
  return `/aws/lambda/${prefix}-${fn}`;
}

/**
 * The ARN of one of the module's own resources, composed from the provider's location and the resource's
 * name (given in parts, e.g. `"table/", prefix, "-state"`): known at plan (so policies show in full) and
 * never taken from an input ARN.
 */
export function ownArn(aws: AwsLocation, service: string, ...resource: string[]): string {
  // The resource's parts as arguments, never a token inside a literal (which cdktf cannot escape).
  return Fn.format(`arn:%s:%s:%s:%s:${"%s".repeat(resource.length)}`, [
    aws.partition,
    service,
    aws.region,
    aws.accountId,
    ...resource,
  ]);
}

/**
 * A named `locals` entry (`local.<name>`) holding `value`: what the module computes once and refers to by
 * name. Objects and lists stay structured in the Terraform JSON, one attribute a line.
 */
export function namedLocal(scope: Construct, name: string, value: unknown): TerraformLocal {
  const local = new TerraformLocal(scope, name, value);
  local.overrideLogicalId(name);
  return local;
}

/** `Fn.format("%s:*", [arn])`: the ARN of everything under a resource (log streams, versions). */
export function arnWildcard(arn: string): string {
  return Fn.format("%s:*", [arn]);
}

/** A Terraform condition that is true when `value` (a token that may be null) is null or empty. */
export function isNullOrEmpty(value: string): IResolvable {
  return Op.lt(Fn.lengthOf(Fn.compact([value])), 1);
}

/** `value` when given, else `fallback`; a token that may be null becomes a Terraform conditional. */
export function orDefault(value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  if (!Token.isUnresolved(value)) return value;
  return Token.asString(Fn.conditional(isNullOrEmpty(value), fallback, value));
}

/**
 * `condition ? a : b` for objects of different shapes: Terraform wants both results of a conditional to
 * have one type, so this chooses between their JSON encodings and decodes the one chosen.
 */
export function chooseObject(condition: IResolvable, whenTrue: unknown, whenFalse: unknown): IResolvable {
  return Fn.jsondecode(Fn.conditional(condition, Fn.jsonencode(whenTrue), Fn.jsonencode(whenFalse))) as IResolvable;
}
