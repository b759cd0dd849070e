/**
 * Where the module runs, from the provider: the `aws_partition`, `aws_region` and `aws_caller_identity`
 * data sources behind one readable local, `local.aws`. The provider learns its account from STS when it
 * plans (the tests point it at a local STS stand-in), so plans show real ARNs.
 */
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { Fn, propertyAccess, TerraformLocal, Token } from "cdktf";
import type { Construct } from "constructs";
import type { AwsLocation } from "./context";

/** Declares the data sources and `local.aws` in `scope`; returns its attributes as expressions. */
export function awsLocation(scope: Construct): AwsLocation {
  const partition = new DataAwsPartition(scope, "partition");
  partition.overrideLogicalId("current");
  const region = new DataAwsRegion(scope, "region");
  region.overrideLogicalId("current");
  const identity = new DataAwsCallerIdentity(scope, "caller-identity");
  identity.overrideLogicalId("current");
  const local = new TerraformLocal(scope, "aws", {
    partition: partition.partition,
    // `id` is the region's name in hashicorp/aws 5.x and 6.x alike; `name` is deprecated in 6.x.
    region: region.id,
    account_id: identity.accountId,
  });
  local.overrideLogicalId("aws");
  const attribute = (name: string) => Token.asString(propertyAccess(local.expression, [name]));
  return { partition: attribute("partition"), region: attribute("region"), accountId: attribute("account_id") };
}

/** A full secret ARN ends in `-` and the 6 characters Secrets Manager appends to the name. */
export const FULL_SECRET_ARN = "-[A-Za-z0-9]{6}$";

/**
 * The IAM Resource that lets a role read the secret `arn` names: the ARN itself when it is complete, and
 * `<arn>-??????` (AWS's documented form for a partial ARN, the name without its suffix) when it is not.
 * A secret whose own name ends in a hyphen and six letters or digits looks complete (AWS advises
 * against such names: partial ARNs cannot tell them apart either).
 */
export function secretResource(arn: string): string {
  if (!Token.isUnresolved(arn)) return new RegExp(FULL_SECRET_ARN).test(arn) ? arn : `${arn}-??????`;
  return Token.asString(Fn.conditional(Fn.can(Fn.regex(FULL_SECRET_ARN, arn)), arn, Fn.format("%s-??????", [arn])));
}
