/** The local world of the demo: the Mackerel recorder, the AWS stand-ins, a web site and the functions. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative } from "node:path";
import { LocalAwsJsonServer, secretsManagerHandlers } from "../local/aws-json-server";
import { type LocalDynamo, startDynalite } from "../local/dynalite";
import { LocalLambda } from "../local/lambda-runner";
import { LocalMackerelServer } from "../local/mackerel";
import { LocalSqs } from "../local/sqs";
import { ROOT } from "../local/step-functions";
import {
  DEMO_API_KEY,
  DEMO_CUSTOM_IDENTIFIER,
  DEMO_LOG_RULES,
  DEMO_OWN_LOG_GROUPS,
  DEMO_PREFIX,
  DEMO_SECRET_ARN,
  DEMO_SERVICE,
  DEMO_SPOOL_QUEUE,
  DEMO_STATE_TABLE,
  DemoError,
  FUNCTIONS,
  type FunctionName,
  scrub,
} from "./defaults";

/** Everything the demo starts; `stop()` stops all of it. */
export class World {
  mackerel!: LocalMackerelServer;
  sqs!: LocalSqs;
  private aws?: LocalAwsJsonServer;
  private dynamo?: LocalDynamo;
  private site?: Server;
  siteUrl = "";
  private readonly lambdas = new Map<FunctionName, LocalLambda>();
  private starting: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly distDir: string) {}

  start(update: (what: string) => void): Promise<void> {
    this.starting = this.startAll(update);
    return this.starting;
  }

  private async startAll(update: (what: string) => void): Promise<void> {
    update("Mackerel recorder, Secrets Manager, SQS, DynamoDB (dynalite), web site");
    [this.mackerel, this.aws, this.sqs, this.dynamo, this.site] = await Promise.all([
      LocalMackerelServer.start({ apiKeys: [DEMO_API_KEY], services: [DEMO_SERVICE] }),
      // Stored as the JSON form the README documents.
      LocalAwsJsonServer.start(
        secretsManagerHandlers(new Map([[DEMO_SECRET_ARN, JSON.stringify({ MACKEREL_API_KEY: DEMO_API_KEY })]])),
      ),
      LocalSqs.start(),
      startDynalite(),
      startSite(),
    ]);
    this.siteUrl = `http://127.0.0.1:${(this.site.address() as AddressInfo).port}`;
    this.sqs.createQueue(DEMO_SPOOL_QUEUE, { visibilityTimeoutSeconds: 360 });
    await this.dynamo.createStateTable(DEMO_STATE_TABLE);

    const common = {
      MACKEREL_API_KEY_SECRET_ARN: DEMO_SECRET_ARN,
      MACKEREL_API_BASE_URL: this.mackerel.url,
      MACKEREL_SERVICE_NAME: DEMO_SERVICE,
      MACKEREL_HOST_NAME: DEMO_PREFIX,
      MACKEREL_HOST_CUSTOM_IDENTIFIER: DEMO_CUSTOM_IDENTIFIER,
      SPOOL_QUEUE_URL: this.sqs.queueUrl(DEMO_SPOOL_QUEUE),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.aws.url,
      AWS_ENDPOINT_URL_SQS: this.sqs.url,
    };
    const logMonitoring = {
      STATE_TABLE_NAME: DEMO_STATE_TABLE,
      AWS_ENDPOINT_URL_DYNAMODB: this.dynamo.url,
      MACKEREL_LOG_RULES: JSON.stringify(DEMO_LOG_RULES),
      MACKEREL_SERVERLESS_OWN_LOG_GROUPS: JSON.stringify(DEMO_OWN_LOG_GROUPS),
    };
    const env: Record<FunctionName, Record<string, string>> = {
      metric: common,
      check: { ...common, ...logMonitoring },
      logs: { ...common, ...logMonitoring },
    };
    update(`functions ${FUNCTIONS.join(", ")} from ${relative(ROOT, this.distDir)}`);
    await Promise.all(
      FUNCTIONS.map(async (name) => {
        const lambda = await LocalLambda.start(name, {
          zipPath: join(this.distDir, `${name}.zip`),
          env: env[name],
          timeoutMs: 30_000,
        });
        this.lambdas.set(name, lambda);
      }),
    );
  }

  /** A running function; throws once the world is stopping (an interrupted run must not invoke anything). */
  lambda(name: FunctionName): LocalLambda {
    const lambda = this.closed ? undefined : this.lambdas.get(name);
    if (!lambda) throw new DemoError(`the ${name} function is not running`);
    return lambda;
  }

  /** Invokes a function; a function error becomes a DemoError naming the function. */
  async invoke(name: FunctionName, event: unknown): Promise<unknown> {
    const outcome = await this.lambda(name).invoke(event);
    if (!outcome.ok) {
      throw new DemoError(`the ${name} function failed: ${outcome.errorType}: ${outcome.errorMessage}`);
    }
    return outcome.result;
  }

  /** The last error and warning records each function logged, without the key (for error messages). */
  errorLogs(): string[] {
    const lines: string[] = [];
    for (const [name, lambda] of this.lambdas) {
      const problems = lambda.logs.filter((line) => /"level":"(ERROR|WARN)"|Error/.test(line)).slice(-3);
      for (const line of problems) lines.push(`  ${name}: ${scrub(line).slice(0, 300)}`);
    }
    return lines;
  }

  /** Stops everything started, after a start still in progress (so that nothing is left running). */
  async stop(): Promise<void> {
    this.closed = true;
    await this.starting?.catch(() => undefined);
    const site = this.site;
    await Promise.allSettled([
      ...[...this.lambdas.values()].map((lambda) => lambda.stop()),
      this.mackerel?.close(),
      this.aws?.close(),
      this.sqs?.close(),
      this.dynamo?.close(),
      site &&
        new Promise<void>((resolve) => {
          site.closeAllConnections();
          site.close(() => resolve());
        }),
    ]);
    this.lambdas.clear();
  }
}

/** The web site the HTTP checks request: a healthy page and one under maintenance. */
async function startSite(): Promise<Server> {
  const site = createServer((req, res) => {
    if (req.url === "/health") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"status":"ok","version":"1.4.2"}');
    } else {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("checkout is under maintenance, contact ops@example.com");
    }
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  return site;
}
