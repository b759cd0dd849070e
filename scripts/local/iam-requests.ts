/**
 * The IAM side of AWS calls that the local stand-ins received: each recorded call (JSON protocol,
 * `X-Amz-Target` + input) becomes the authorization request(s) AWS would evaluate for it — action, resource
 * ARN and the condition keys our policies use — so a test can check every call a function made against the
 * policies `terraform plan` gives its role (with `@cloud-copilot/iam-simulate`).
 */

/** One call a stand-in received. */
export interface RecordedAwsCall {
  /** `X-Amz-Target`, e.g. `secretsmanager.GetSecretValue`, `AmazonSQS.SendMessageBatch`. */
  readonly target: string;
  readonly input: Record<string, unknown>;
}

/** What AWS authorizes for a call. */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string | string[]>;
  /** The call it came from, to name it in a failure. */
  readonly call: string;
}

/** Where the calls are made: the provider's partition, region and account, and how to name local things. */
export interface IamScope {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** The queue name behind a (local) queue URL. */
  readonly queueName: (queueUrl: string) => string;
  /** The secret's full ARN for the `SecretId` a function sent (a partial ARN or a name resolve to it). */
  readonly secretArn?: (secretId: string) => string;
  /** The customer-managed key of a secret, when it has one: Secrets Manager then calls KMS for the caller. */
  readonly secretKmsKeyArn?: (secretArn: string) => string | undefined;
  /** Partition key attribute of the DynamoDB tables (for `dynamodb:LeadingKeys`). */
  readonly partitionKey?: string;
}

/** Calls whose target the mapping does not know: a test fails on them rather than letting them pass unchecked. */
export class UnmappedAwsCallError extends Error {
  override readonly name = "UnmappedAwsCallError";
}

const BATCH_ACTIONS: Record<string, string> = {
  SendMessageBatch: "SendMessage",
  DeleteMessageBatch: "DeleteMessage",
  ChangeMessageVisibilityBatch: "ChangeMessageVisibility",
};

const str = (value: unknown): string => (typeof value === "string" ? value : "");

/** The IAM requests of one recorded call. */
export function iamRequestsFor(call: RecordedAwsCall, scope: IamScope): IamRequest[] {
  const [prefix = "", operation = ""] = call.target.split(".");
  const arn = (service: string, rest: string) =>
    `arn:${scope.partition}:${service}:${scope.region}:${scope.account}:${rest}`;
  const request = (action: string, resource: string, context: IamRequest["context"] = {}): IamRequest => ({
    action,
    resource,
    context,
    call: call.target,
  });
  switch (prefix) {
    case "secretsmanager": {
      const secretId = str(call.input.SecretId);
      const secretArn = scope.secretArn?.(secretId) ?? secretId;
      const requests = [request(`secretsmanager:${operation}`, secretArn)];
      const key = scope.secretKmsKeyArn?.(secretArn);
      // Secrets Manager decrypts with the caller's permissions, through the service.
      if (key && operation === "GetSecretValue") {
        requests.push(
          request("kms:Decrypt", key, { "kms:ViaService": `secretsmanager.${scope.region}.amazonaws.com` }),
        );
      }
      return requests;
    }
    case "AmazonSQS":
      return [
        request(`sqs:${BATCH_ACTIONS[operation] ?? operation}`, arn("sqs", scope.queueName(str(call.input.QueueUrl)))),
      ];
    case "DynamoDB_20120810": {
      const table = arn("dynamodb", `table/${str(call.input.TableName)}`);
      const keys = leadingKeys(call.input, scope.partitionKey ?? "pk");
      return [request(`dynamodb:${operation}`, table, keys ? { "dynamodb:LeadingKeys": keys } : {})];
    }
    case "Logs_20140328": {
      if (operation === "GetQueryResults" || operation === "StopQuery") return [request(`logs:${operation}`, "*")];
      const groups = [
        ...((call.input.logGroupNames as string[] | undefined) ?? []),
        ...((call.input.logGroupIdentifiers as string[] | undefined) ?? []),
        ...(call.input.logGroupName ? [str(call.input.logGroupName)] : []),
        ...(call.input.logGroupIdentifier ? [str(call.input.logGroupIdentifier)] : []),
      ];
      // CloudWatch Logs authorizes a log group as `log-group:<name>:*` (the form its policies use).
      return groups.map((group) =>
        request(`logs:${operation}`, group.startsWith("arn:") ? group : arn("logs", `log-group:${group}:*`)),
      );
    }
    case "AWSStepFunctions":
      return [request(`states:${operation}`, str(call.input.stateMachineArn))];
    default:
      throw new UnmappedAwsCallError(`no IAM mapping for ${call.target}`);
  }
}

/** The partition key values a DynamoDB request touches (the `dynamodb:LeadingKeys` condition key). */
function leadingKeys(input: Record<string, unknown>, partitionKey: string): string[] | undefined {
  const key = input.Key as Record<string, { S?: string }> | undefined;
  if (key?.[partitionKey]?.S !== undefined) return [key[partitionKey].S];
  const expression = str(input.KeyConditionExpression);
  if (!expression) return undefined;
  const names = (input.ExpressionAttributeNames as Record<string, string> | undefined) ?? {};
  const values = (input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined) ?? {};
  for (const [, name, value] of expression.matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
    if ((names[name ?? ""] ?? name) === partitionKey && value && values[value]?.S !== undefined) {
      return [values[value].S as string];
    }
  }
  return undefined;
}

/** An S3 REST request the S3 stand-in recorded. */
export interface RecordedS3Request {
  readonly method: string;
  readonly bucket: string;
  readonly key?: string;
  readonly query: Record<string, string>;
}

/** The IAM request of an S3 call: ListObjectsV2 is `s3:ListBucket` on the bucket (with `s3:prefix`). */
export function s3IamRequest(request: RecordedS3Request, partition: string): IamRequest {
  const bucketArn = `arn:${partition}:s3:::${request.bucket}`;
  if (request.key === undefined || request.key === "") {
    return {
      action: "s3:ListBucket",
      resource: bucketArn,
      context: request.query.prefix !== undefined ? { "s3:prefix": request.query.prefix } : {},
      call: `s3 ${request.method} ${request.bucket}?${new URLSearchParams(request.query)}`,
    };
  }
  const action = request.method === "GET" || request.method === "HEAD" ? "s3:GetObject" : `s3:${request.method}`;
  return { action, resource: `${bucketArn}/${request.key}`, context: {}, call: `s3 ${request.method} ${request.key}` };
}

/** The IAM request of a signed OpenSearch Service call: `es:ESHttp<Method>` on the domain's path. */
export function openSearchIamRequest(
  request: { readonly method: string; readonly path: string },
  domainArn: string,
): IamRequest {
  const method = request.method.charAt(0) + request.method.slice(1).toLowerCase();
  return {
    action: `es:ESHttp${method}`,
    resource: `${domainArn}${request.path.split("?")[0]}`,
    context: {},
    call: `es ${request.method} ${request.path}`,
  };
}
