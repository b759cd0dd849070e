/**
 * Every AWS call a function makes is allowed by the role `terraform plan` gives it. One root module with every
 * feature is planned offline (provider in ap-northeast-1, account from the local STS stand-in); each built zip
 * then runs with the environment the plan gives it (only endpoints, and what AWS assigns at apply, swapped for
 * the local stand-ins), does its work — metric posts and a spool write, a log payload, the tick, every planned
 * check's rule input, the sender draining the spool — and every call the stand-ins received (Secrets Manager
 * with the key's KMS decrypt, SQS including the event source mapping's own calls, DynamoDB through a recording
 * proxy in front of dynalite, CloudWatch Logs, Step Functions, S3, OpenSearch) is evaluated against that
 * function's planned inline policies with an IAM policy simulator.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { MODULE_DIR, readModule } from "../../../scripts/lib/module-writer";
import { TerraformWorkspace } from "../../../scripts/lib/terraform";
import { LocalAwsJsonServer, secretsManagerHandlers } from "../../../scripts/local/aws-json-server";
import { CloudWatchLogsStub, evaluateQuery } from "../../../scripts/local/cloudwatch-logs-stub";
import { type LocalDynamo, startDynalite } from "../../../scripts/local/dynalite";
import {
  type IamRequest,
  type IamScope,
  iamRequestsFor,
  openSearchIamRequest,
  type RecordedAwsCall,
  s3IamRequest,
} from "../../../scripts/local/iam-requests";
import { LocalLambda } from "../../../scripts/local/lambda-runner";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";
import { OpenSearchStub } from "../../../scripts/local/opensearch-stub";
import { RecordingProxy } from "../../../scripts/local/recording-proxy";
import { S3Stub } from "../../../scripts/local/s3-stub";
import { SfnStub } from "../../../scripts/local/sfn-stub";
import { LocalSqs, SqsEventSource } from "../../../scripts/local/sqs";
import { makeSubscriptionEvent, textLine } from "../../functions/logs/fixtures";
import { deniedRequests, plannedRolePolicies, type PlannedRoles } from "../../support/iam";
import { describeWithTerraform, expectCleanInit } from "../../support/terraform";

const REGION = "ap-northeast-1";
const ACCOUNT = "123456789012";
const PREFIX = "iam";
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:mackerel-api-key-AbCdEf`;
const KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const HEADERS_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:health-auth-Qw12Er`;
/** The headers secret's own customer-managed key: the check function decrypts it through Secrets Manager. */
const HEADERS_KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/9876fedc-98fe-76dc-54ba-0987654321fe`;
const STATE_MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:nightly`;
const DOMAIN_ENDPOINT = `https://search-app-logs-abc123def456ghi789.${REGION}.es.amazonaws.com`;
const DOMAIN_ARN = `arn:aws:es:${REGION}:${ACCOUNT}:domain/app-logs`;
const API_KEY = "iam-conformance-key-0123456789";
/** The key policy AWS gives a new key: it lets the account's IAM policies grant use of the key. */
const DEFAULT_KEY_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "Enable IAM User Permissions",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "kms:*",
      Resource: "*",
    },
  ],
};
const SERVICE = "shop";
const MIN = 60_000;

interface PlannedChange {
  address: string;
  type: string;
  change: { after: Record<string, unknown>; after_unknown?: Record<string, unknown> };
}

const ROOT = (healthUrl: string) => `
module "mackerel" {
  source              = "../../modules/mackerel-serverless"
  name                = "${PREFIX}"
  api_key_secret_arn  = "${SECRET}"
  api_key_kms_key_arn = "${KMS_KEY}"
  service_name        = "${SERVICE}"
  host                = { name = "iam-pipeline" }
  log_subscriptions   = [{ log_group_name = "/aws/lambda/orders" }]
  log_rules           = [{ name = "errors", include = ["ERROR"] }]
  logs_insights_checks = [{ name = "daily-errors", log_group_names = ["/aws/lambda/orders"], query = "fields @message | filter @message like /ERROR/" }]
  http_checks          = [{ name = "health", url = "${healthUrl}", headers_secret_arn = "${HEADERS_SECRET}", headers_secret_kms_key_arn = "${HEADERS_KMS_KEY}" }]
  sfn_execution_checks = [{ name = "nightly-failures", state_machine_arn = "${STATE_MACHINE}" }]
  log_freshness_checks = [{ name = "orders-fresh", log_group_name = "/aws/lambda/orders", max_age_minutes = 30 }]
  s3_freshness_checks  = [{ name = "pulse", bucket = "pulses", prefix = "nightly/", max_age_minutes = 10, body_contains = "ok" }]
  opensearch_query_checks = [{ name = "es-errors", endpoint = "${DOMAIN_ENDPOINT}", index = "app-*", query = "level:ERROR" }]
}
output "host_custom_identifier" { value = module.mackerel.host_custom_identifier }
output "own_log_group_names" { value = module.mackerel.own_log_group_names }
`;

let mackerel: LocalMackerelServer;
let aws: LocalAwsJsonServer;
let sqs: LocalSqs;
let dynamo: LocalDynamo;
let dynamoProxy: RecordingProxy;
let web: Server;
const logs = new CloudWatchLogsStub();
const sfn = new SfnStub();
const s3 = new S3Stub();
const search = new OpenSearchStub("es");
const lambdas: LocalLambda[] = [];

beforeAll(async () => {
  const now = Date.now();
  mackerel = await LocalMackerelServer.start({ apiKeys: [API_KEY], services: [SERVICE] });
  logs.addLogGroup("/aws/lambda/orders", [{ logStreamName: "s", timestamp: now - 2 * MIN, message: "ERROR boom" }]);
  logs.responder = (input, events) => evaluateQuery(input, events);
  sfn.addStateMachine(STATE_MACHINE, [{ name: "run-1", status: "FAILED", startDate: now - 10 * MIN }]);
  aws = await LocalAwsJsonServer.start({
    ...secretsManagerHandlers(
      new Map([
        [SECRET, API_KEY],
        [HEADERS_SECRET, JSON.stringify({ headers: { Authorization: "Bearer iam-conformance-token" } })],
      ]),
    ),
    ...logs.handlers(),
    ...sfn.handlers(),
  });
  sqs = await LocalSqs.start();
  dynamo = await startDynalite();
  dynamoProxy = await RecordingProxy.start(dynamo.url);
  s3.addBucket("pulses", { "nightly/1.json": { body: '{"status":"ok"}', lastModifiedMs: now - MIN } });
  await s3.start();
  search.addIndex("app-2026", [{ "@timestamp": now - 2 * MIN, level: "ERROR" }]);
  await search.start();
  web = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
  await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  await Promise.all(lambdas.map((l) => l.stop()));
  web?.closeAllConnections();
  await new Promise<void>((resolve) => web?.close(() => resolve()));
  await Promise.all([
    mackerel?.close(),
    aws?.close(),
    sqs?.close(),
    dynamoProxy?.close(),
    dynamo?.close(),
    s3.close(),
    search.close(),
  ]);
});

describeWithTerraform("every AWS call of every function is allowed by its planned role", () => {
  let roles: PlannedRoles;
  let changes: PlannedChange[];
  let outputs: Record<string, { value?: unknown }>;
  const names = { spool: "", deadLetter: "", table: "" };
  /** The calls each function's role made, as IAM requests. */
  const made = new Map<string, IamRequest[]>();

  const scope = (): IamScope => ({
    partition: "aws",
    region: REGION,
    account: ACCOUNT,
    queueName: (url) => url.slice(url.lastIndexOf("/") + 1),
    secretKmsKeyArn: (arn) => (arn === SECRET ? KMS_KEY : arn === HEADERS_SECRET ? HEADERS_KMS_KEY : undefined),
  });

  /** Runs `work` and files the JSON-protocol calls the stand-ins received meanwhile under `fn`. */
  async function recordCalls(fn: string, work: () => Promise<void>): Promise<void> {
    const sources = [aws.calls, sqs.calls, dynamoProxy.calls] as RecordedAwsCall[][];
    const marks = sources.map((calls) => calls.length);
    const s3Mark = s3.requests.length;
    const searchMark = search.requests.length;
    await work();
    const requests = sources.flatMap((calls, i) => calls.slice(marks[i]).flatMap((c) => iamRequestsFor(c, scope())));
    requests.push(...s3.requests.slice(s3Mark).map((r) => s3IamRequest(r, "aws")));
    requests.push(...search.requests.slice(searchMark).map((r) => openSearchIamRequest(r, DOMAIN_ARN)));
    made.set(fn, [...(made.get(fn) ?? []), ...requests]);
  }

  /**
   * The zip of `fn` with the environment the module gives it. The plan shows a function's whole environment
   * as unknown (it holds the queue URLs, known after apply), so the keys come from the committed module and
   * each value from the plan's known values: the names it planned, its outputs, the rules item it writes.
   */
  async function startPlanned(fn: string, extraEnv: Record<string, string> = {}): Promise<LocalLambda> {
    const module = readModule(MODULE_DIR) as {
      resource: { aws_lambda_function: Record<string, { environment: { variables: Record<string, string> } }> };
    };
    const rulesItem = changes.find((c) => c.type === "aws_dynamodb_table_item")?.change.after.item;
    const known: Record<string, string> = {
      NODE_OPTIONS: "--enable-source-maps",
      MACKEREL_API_KEY_SECRET_ARN: SECRET,
      MACKEREL_API_BASE_URL: mackerel.url,
      MACKEREL_SERVICE_NAME: SERVICE,
      MACKEREL_HOST_NAME: "iam-pipeline",
      MACKEREL_HOST_CUSTOM_IDENTIFIER: String(outputs.host_custom_identifier?.value),
      MACKEREL_HOST_ID: "",
      MACKEREL_HOST_ROLES: "",
      SPOOL_QUEUE_URL: sqs.queueUrl(names.spool),
      DEAD_LETTER_QUEUE_URL: sqs.queueUrl(names.deadLetter),
      STATE_TABLE_NAME: names.table,
      MACKEREL_LOG_RULES_SHA256: createHash("sha256")
        .update((JSON.parse(String(rulesItem)) as { json: { S: string } }).json.S)
        .digest("hex"),
      MACKEREL_SERVERLESS_OWN_LOG_GROUPS: JSON.stringify(outputs.own_log_group_names?.value),
    };
    const env: Record<string, string> = {};
    for (const key of Object.keys(module.resource.aws_lambda_function[fn]!.environment.variables)) {
      if (!(key in known)) throw new Error(`${fn}: the module sets ${key}; say here what the plan gives it`);
      env[key] = known[key]!;
    }
    const lambda = await LocalLambda.start(`${PREFIX}-${fn}`, {
      zipPath: `${__dirname}/../../../modules/mackerel-serverless/dist/${fn}.zip`,
      timeoutMs: 30_000,
      env: {
        ...env,
        MACKEREL_API_BASE_URL: mackerel.url,
        AWS_REGION: REGION,
        AWS_DEFAULT_REGION: REGION,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
        AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: aws.url,
        AWS_ENDPOINT_URL_SFN: aws.url,
        AWS_ENDPOINT_URL_SQS: sqs.url,
        AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.url,
        AWS_ENDPOINT_URL_S3: s3.url,
        ...extraEnv,
      },
    });
    lambdas.push(lambda);
    return lambda;
  }

  beforeAll(async () => {
    const healthUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}/health`;
    const workspace = TerraformWorkspace.rootModule(ROOT(healthUrl), "examples/scratch-iam", {
      region: REGION,
      accountId: ACCOUNT,
    });
    try {
      expectCleanInit(workspace);
      const { result, plan } = workspace.planJson();
      expect(result.stderr).toBe("");
      changes = plan!.resource_changes as PlannedChange[];
      roles = plannedRolePolicies(plan!);
      outputs = (plan!.planned_values as { outputs: Record<string, { value?: unknown }> }).outputs;
    } finally {
      workspace.remove();
    }
    const after = (type: string, pattern: RegExp) =>
      changes.filter((c) => c.type === type && pattern.test(c.address)).map((c) => c.change.after);
    const queues = after("aws_sqs_queue", /./).map((q) => String(q.name));
    names.spool = queues.find((q) => !q.includes("dlq")) ?? "";
    names.deadLetter = queues.find((q) => q.includes("dlq")) ?? "";
    names.table = String(after("aws_dynamodb_table", /./)[0]?.name);
    expect(names).toEqual({
      spool: `${PREFIX}-spool.fifo`,
      deadLetter: `${PREFIX}-spool-dlq.fifo`,
      table: `${PREFIX}-state`,
    });
    sqs.createQueue(names.deadLetter);
    sqs.createQueue(names.spool, { redrive: { deadLetterQueue: names.deadLetter, maxReceiveCount: 105 } });
    await dynamo.createStateTable(names.table);
    // What terraform apply writes: the table items the module plans (the log rules).
    for (const item of after("aws_dynamodb_table_item", /./)) {
      await dynamo.client.send(new PutItemCommand({ TableName: names.table, Item: JSON.parse(String(item.item)) }));
    }
  });

  test("the plan gives each of the four functions a role with inline policies known at plan time", () => {
    expect([...roles.keys()].sort()).toEqual(["check", "logs", "metric", "sender"].map((fn) => `${PREFIX}-${fn}`));
  });

  test("metric: posts (key read through KMS, host id and report seconds in the table), then spools in an outage", async () => {
    const metric = await startPlanned("metric");
    await recordCalls("metric", async () => {
      expect(
        await metric.invokeOrThrow({
          metrics: [{ name: "jobs.nightly.failed", value: 0 }],
          hostMetrics: [{ name: "custom.jobs.duration", value: 3 }],
          checks: [{ name: "nightly", status: "OK" }],
        }),
      ).toMatchObject({ spooled: false });
      mackerel.setOutage(true);
      try {
        expect(await metric.invokeOrThrow({ name: "jobs.nightly.duration", value: 1 })).toMatchObject({
          spooled: true,
        });
      } finally {
        mackerel.setOutage(false);
      }
    });
    expect(sqs.depth(names.spool)).toBeGreaterThan(0);
  });

  test("logs: a subscription payload (rules read from the table item, counts and state written)", async () => {
    const fn = await startPlanned("logs");
    await recordCalls("logs", async () => {
      const result = await fn.invokeOrThrow(
        makeSubscriptionEvent({
          logGroup: "/aws/lambda/orders",
          events: [{ message: textLine("ERROR", "payment failed"), timestamp: Date.now() - MIN }],
        }),
      );
      expect(result).toMatchObject({ reports: { posted: 1 } });
    });
  });

  test("check: the tick and every planned check's rule input", async () => {
    const inputs = changes
      .filter((c) => c.type === "aws_cloudwatch_event_target" && typeof c.change.after.input === "string")
      .map((c) => JSON.parse(String(c.change.after.input)) as { check?: Record<string, unknown>; tick?: unknown });
    const kinds = inputs.flatMap((i) => (i.check ? [String(i.check.kind)] : ["tick"])).sort();
    expect(kinds).toEqual(
      ["http", "log_freshness", "logs_insights", "opensearch_query", "s3_freshness", "sfn_execution", "tick"].sort(),
    );
    const check = await startPlanned("check");
    await recordCalls("check", async () => {
      for (const input of inputs) {
        // The OpenSearch domain is reached at the stand-in (its IAM resource stays the planned domain's).
        const event =
          input.check?.kind === "opensearch_query" ? { check: { ...input.check, endpoint: search.url } } : input;
        const outcome = await check.invoke(event);
        expect(outcome).toMatchObject({ ok: true });
        const status = (outcome as { result: { status?: string } }).result.status;
        // A check that could not run is UNKNOWN: access problems would show here first.
        if (status !== undefined) expect([input.check?.name, status]).not.toEqual([input.check?.name, "UNKNOWN"]);
      }
    });
  });

  test("sender: drains the spool; the event source mapping's SQS calls run as its role too", async () => {
    const sender = await startPlanned("sender");
    await recordCalls("sender", async () => {
      const source = new SqsEventSource(sqs, names.spool, (event) => sender.invoke(event));
      await source.drain(5);
    });
    // The stand-in event source reads the queue directly; Lambda's event source mapping makes these calls
    // with the function's role (AWS's documented permissions for an SQS event source).
    const queue = `arn:aws:sqs:${REGION}:${ACCOUNT}:${names.spool}`;
    made.get("sender")!.push(
      ...["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"].map((action) => ({
        action,
        resource: queue,
        context: {},
        call: "event source mapping",
      })),
    );
    expect(sqs.depth(names.spool)).toBe(0);
  });

  test("no call was denied, and every function's calls were checked", async () => {
    const denials: string[] = [];
    for (const fn of ["metric", "logs", "check", "sender"]) {
      const requests = made.get(fn) ?? [];
      expect([fn, requests.length > 0]).toEqual([fn, true]);
      const role = `${PREFIX}-${fn}`;
      const found = await deniedRequests(
        roles.get(role) ?? [],
        `arn:aws:iam::${ACCOUNT}:role/${role}`,
        ACCOUNT,
        requests,
        (request) =>
          request.resource === KMS_KEY || request.resource === HEADERS_KMS_KEY ? DEFAULT_KEY_POLICY : undefined,
      );
      for (const d of found) {
        denials.push(`${fn}: ${d.request.action} on ${d.request.resource} (${d.request.call}) → ${d.result}`);
      }
    }
    const checked = [...made.entries()].map(([fn, r]) => `${fn} ${r.length}`).join(", ");
    console.log(`IAM conformance: calls checked against the planned roles: ${checked}; denied: ${denials.length}`);
    expect(denials).toEqual([]);
    // The calls that matter were made, so the check above had something to deny.
    const actions = new Set([...made.values()].flat().map((r) => r.action));
    for (const action of [
      "secretsmanager:GetSecretValue",
      "kms:Decrypt",
      "sqs:SendMessage",
      "dynamodb:UpdateItem",
      "dynamodb:GetItem",
      "logs:StartQuery",
      "logs:FilterLogEvents",
      "states:ListExecutions",
      "s3:ListBucket",
      "s3:GetObject",
      "es:ESHttpPost",
    ]) {
      expect([action, actions.has(action)]).toEqual([action, true]);
    }
  });
});
