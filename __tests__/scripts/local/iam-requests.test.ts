/**
 * The mapping from recorded stand-in calls to IAM requests, and the offline policy check that uses it: a call
 * the policy allows passes, one it does not (wrong resource, missing condition key, wrong action) is named.
 */
import { type IamScope, iamRequestsFor, UnmappedAwsCallError } from "../../../scripts/local/iam-requests";
import { deniedRequests } from "../../support/iam";

const ACCOUNT = "123456789012";
const SECRET = `arn:aws:secretsmanager:ap-northeast-1:${ACCOUNT}:secret:mackerel-api-key-AbCdEf`;
const KEY = `arn:aws:kms:ap-northeast-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const scope: IamScope = {
  partition: "aws",
  region: "ap-northeast-1",
  account: ACCOUNT,
  queueName: (url) => url.slice(url.lastIndexOf("/") + 1),
  secretArn: (id) => (id.startsWith("mackerel-api-key") ? SECRET : id),
  secretKmsKeyArn: (arn) => (arn === SECRET ? KEY : undefined),
};
const ROLE = `arn:aws:iam::${ACCOUNT}:role/mackerel-serverless-metric`;

test("each service's calls become the action, ARN and condition keys AWS authorizes", () => {
  expect(
    iamRequestsFor({ target: "secretsmanager.GetSecretValue", input: { SecretId: "mackerel-api-key" } }, scope),
  ).toEqual([
    { action: "secretsmanager:GetSecretValue", resource: SECRET, context: {}, call: "secretsmanager.GetSecretValue" },
    {
      action: "kms:Decrypt",
      resource: KEY,
      context: { "kms:ViaService": "secretsmanager.ap-northeast-1.amazonaws.com" },
      call: "secretsmanager.GetSecretValue",
    },
  ]);
  expect(
    iamRequestsFor(
      { target: "AmazonSQS.SendMessageBatch", input: { QueueUrl: "http://127.0.0.1:1/123456789012/spool.fifo" } },
      scope,
    ).map((r) => [r.action, r.resource]),
  ).toEqual([["sqs:SendMessage", `arn:aws:sqs:ap-northeast-1:${ACCOUNT}:spool.fifo`]]);
  expect(
    iamRequestsFor(
      {
        target: "DynamoDB_20120810.Query",
        input: {
          TableName: "state",
          KeyConditionExpression: "#pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeNames: { "#pk": "pk" },
          ExpressionAttributeValues: { ":pk": { S: "rule#errors" }, ":prefix": { S: "m#" } },
        },
      },
      scope,
    ),
  ).toEqual([
    {
      action: "dynamodb:Query",
      resource: `arn:aws:dynamodb:ap-northeast-1:${ACCOUNT}:table/state`,
      context: { "dynamodb:LeadingKeys": ["rule#errors"] },
      call: "DynamoDB_20120810.Query",
    },
  ]);
  expect(
    iamRequestsFor({ target: "Logs_20140328.StartQuery", input: { logGroupNames: ["/a", "/b"] } }, scope).map(
      (r) => r.resource,
    ),
  ).toEqual([
    `arn:aws:logs:ap-northeast-1:${ACCOUNT}:log-group:/a:*`,
    `arn:aws:logs:ap-northeast-1:${ACCOUNT}:log-group:/b:*`,
  ]);
  expect(iamRequestsFor({ target: "Logs_20140328.GetQueryResults", input: {} }, scope)[0]?.resource).toBe("*");
  expect(() => iamRequestsFor({ target: "AmazonS3.PutObject", input: {} }, scope)).toThrow(UnmappedAwsCallError);
});

describe("the offline policy check", () => {
  const policy = {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: SECRET },
      {
        Effect: "Allow",
        Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        Resource: `arn:aws:dynamodb:ap-northeast-1:${ACCOUNT}:table/state`,
        Condition: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": ["host"] } },
      },
    ],
  };
  const get = (pk: string) =>
    iamRequestsFor(
      { target: "DynamoDB_20120810.GetItem", input: { TableName: "state", Key: { pk: { S: pk } } } },
      {
        ...scope,
        secretKmsKeyArn: undefined,
      },
    );

  test("allows what the statements grant", async () => {
    const requests = [
      ...iamRequestsFor(
        { target: "secretsmanager.GetSecretValue", input: { SecretId: SECRET } },
        {
          ...scope,
          secretKmsKeyArn: undefined,
        },
      ),
      ...get("host"),
    ];
    expect(await deniedRequests([{ name: "inline", policy }], ROLE, ACCOUNT, requests)).toEqual([]);
  });

  test("names what they do not: another item, another action, the KMS key nobody granted", async () => {
    const requests = [
      ...get("rule#errors"),
      ...iamRequestsFor(
        { target: "DynamoDB_20120810.DeleteItem", input: { TableName: "state", Key: { pk: { S: "host" } } } },
        scope,
      ),
      ...iamRequestsFor({ target: "secretsmanager.GetSecretValue", input: { SecretId: SECRET } }, scope),
    ];
    const denied = await deniedRequests([{ name: "inline", policy }], ROLE, ACCOUNT, requests);
    expect(denied.map((d) => [d.request.action, d.result])).toEqual([
      ["dynamodb:GetItem", "ImplicitlyDenied"],
      ["dynamodb:DeleteItem", "ImplicitlyDenied"],
      ["kms:Decrypt", "ImplicitlyDenied"],
    ]);
  });
});
