/**
 * What the parts of the construct share: naming, common function settings, the Mackerel environment
 * every function gets, and the statements that read the API key. Each feature (metric, log monitoring,
 * scheduled checks, spool) lives in its own file and builds on this.
 */
import { Fn, type IResolvable } from "cdktf";
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
  };
  /** Environment every function that talks to Mackerel gets (never the key itself). */
  mackerelEnvironment: Record<string, string>;
  /** secretsmanager:GetSecretValue on the API key secret. */
  readSecret: PolicyStatement;
  /** kms:Decrypt on the secret's key, only when one is given (a Terraform list expression). */
  decryptSecret: IResolvable | undefined;
  /** Names of all the module's function log groups, known before the functions exist (the loop guard). */
  ownLogGroupNames: string[];
}

/** The log group name of one of the module's functions. */
export function functionLogGroupName(prefix: string, fn: FunctionName): string {
  return `/aws/lambda/${prefix}-${fn}`;
}

/** `Fn.format("%s:*", [arn])`: the ARN of everything under a resource (log streams, versions). */
export function arnWildcard(arn: string): string {
  return Fn.format("%s:*", [arn]);
}
