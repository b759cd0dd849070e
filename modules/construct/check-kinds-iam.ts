/**
 * What the S3 freshness and OpenSearch query checks need in the check function's role, on only their
 * resources, one statement per check (each has its own bucket/prefix or domain):
 * - S3: `s3:ListBucket` on the bucket with an `s3:prefix` condition (`<prefix>*`; none for the whole
 *   bucket), and `s3:GetObject` on `<bucket>/<prefix>*` only for checks with `body_contains`.
 * - OpenSearch: `es:ESHttpPost` (the check only POSTs `_count`/`_search`) on
 *   `arn:<partition>:es:<region>:<account>:domain/<domain>/*`, or `aoss:APIAccessAll` on
 *   `arn:<partition>:aoss:<region>:<account>:collection/<id>`, both derived from the endpoint (its region
 *   is the domain's; the plan refuses endpoints it cannot derive them from).
 * Lists are Terraform variables (for expressions, known at plan) or literal items (CDKTF users).
 */
import { Fn, type IResolvable, ref, Token } from "cdktf";
import type { Construct } from "constructs";
import { namedLocal } from "./context";
import type { PolicyStatement } from "./module-function";
import type { CheckItem, CheckList } from "./scheduled-checks";
import { TF_AOSS_ENDPOINT, TF_ES_ENDPOINT } from "./variables";

export interface ArnParts {
  partition: string;
  account: string;
}

/** `[for i, c in <list> : <body> if <cond>]` as a Terraform expression. */
function forEach(list: IResolvable, body: string, condition?: string): IResolvable {
  const expr = Token.asString(list);
  // ref(): a raw expression (tokens inside resolve to their expressions), unquoted inside concat().
  return ref(`[for i, c in ${expr} : ${body}${condition ? ` if ${condition}` : ""}]`);
}

/** Statements of the S3 freshness checks. */
export function s3FreshnessStatements(list: CheckList, arn: ArnParts): IResolvable[] {
  const bucketArn = (bucket: string) => Fn.format("arn:%s:s3:::%s", [arn.partition, bucket]);
  if (Array.isArray(list)) {
    const statements: PolicyStatement[] = [];
    list.forEach((item: CheckItem, i) => {
      const prefix = String(item.prefix ?? "");
      statements.push({
        Sid: `ListS3Pulses${i}`,
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: bucketArn(String(item.bucket)),
        ...(prefix === "" ? {} : { Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } } }),
      });
    });
    list.forEach((item: CheckItem, i) => {
      if (item.body_contains == null) return;
      statements.push({
        Sid: `ReadS3Pulse${i}`,
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: Fn.format("arn:%s:s3:::%s/%s*", [arn.partition, String(item.bucket), String(item.prefix ?? "")]),
      });
    });
    return statements.length > 0 ? [statements as unknown as IResolvable] : [];
  }
  const partition = Token.asString(arn.partition);
  return [
    // The condition only when there is a prefix: an empty prefix means the whole bucket, and a request
    // without a prefix carries no s3:prefix key to compare.
    forEach(
      list,
      `merge({ Sid = format("ListS3Pulses%d", i), Effect = "Allow", Action = ["s3:ListBucket"], Resource = format("arn:%s:s3:::%s", ${partition}, c.bucket) }, { for k, v in { Condition = { StringLike = { "s3:prefix" = [format("%s*", c.prefix)] } } } : k => v if c.prefix != "" })`,
    ),
    forEach(
      list,
      `{ Sid = format("ReadS3Pulse%d", i), Effect = "Allow", Action = ["s3:GetObject"], Resource = format("arn:%s:s3:::%s/%s*", ${partition}, c.bucket, c.prefix) }`,
      "c.body_contains != null",
    ),
  ];
}

/** The IAM resource of an OpenSearch endpoint (literal items), or undefined when none can be derived. */
export function openSearchResource(
  endpoint: string,
): { service: "es" | "aoss"; name: string; region: string } | undefined {
  const es = new RegExp(TF_ES_ENDPOINT).exec(endpoint);
  if (es) return { service: "es", name: es[1]!, region: es[2]! };
  const aoss = new RegExp(TF_AOSS_ENDPOINT).exec(endpoint);
  if (aoss) return { service: "aoss", name: aoss[1]!, region: aoss[2]! };
  return undefined;
}

/** Statements of the OpenSearch query checks. */
export function openSearchStatements(scope: Construct, list: CheckList, arn: ArnParts): IResolvable[] {
  if (Array.isArray(list)) {
    const statements = list.map((item: CheckItem, i): PolicyStatement => {
      const resource = openSearchResource(String(item.endpoint));
      if (!resource) {
        throw new Error(
          `opensearch_query_checks: endpoint ${JSON.stringify(item.endpoint)} of ${item.name} must be a domain (https://search-<domain>-<id>.<region>.es.amazonaws.com) or collection (https://<id>.<region>.aoss.amazonaws.com) endpoint.`,
        );
      }
      return resource.service === "es"
        ? {
            Sid: `QueryOpenSearchDomain${i}`,
            Effect: "Allow",
            Action: ["es:ESHttpPost"],
            Resource: Fn.format("arn:%s:es:%s:%s:domain/%s/*", [
              arn.partition,
              resource.region,
              arn.account,
              resource.name,
            ]),
          }
        : {
            Sid: `QueryOpenSearchCollection${i}`,
            Effect: "Allow",
            Action: ["aoss:APIAccessAll"],
            Resource: Fn.format("arn:%s:aoss:%s:%s:collection/%s", [
              arn.partition,
              resource.region,
              arn.account,
              resource.name,
            ]),
          };
    });
    return statements.length > 0 ? [statements as unknown as IResolvable] : [];
  }
  const partition = Token.asString(arn.partition);
  const account = Token.asString(arn.account);
  // The endpoint patterns once, as `local.opensearch_endpoint_patterns` (capture groups: name, region).
  const patterns = Token.asString(
    namedLocal(scope, "opensearch_endpoint_patterns", { es: TF_ES_ENDPOINT, aoss: TF_AOSS_ENDPOINT }).expression,
  );
  const es = `regex(${patterns}.es, c.endpoint)`;
  const aoss = `regex(${patterns}.aoss, c.endpoint)`;
  return [
    forEach(
      list,
      `{ Sid = format("QueryOpenSearchDomain%d", i), Effect = "Allow", Action = ["es:ESHttpPost"], Resource = format("arn:%s:es:%s:%s:domain/%s/*", ${partition}, ${es}[1], ${account}, ${es}[0]) }`,
      `can(${es})`,
    ),
    forEach(
      list,
      `{ Sid = format("QueryOpenSearchCollection%d", i), Effect = "Allow", Action = ["aoss:APIAccessAll"], Resource = format("arn:%s:aoss:%s:%s:collection/%s", ${partition}, ${aoss}[1], ${account}, ${aoss}[0]) }`,
      `can(${aoss})`,
    ),
  ];
}
