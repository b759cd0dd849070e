/**
 * The fault suite's world: the built metric and sender functions (LocalLambda, from their zips), the
 * local Mackerel server with fault injection, the SQS stand-in holding the FIFO spool and its dead-letter
 * queue, a Secrets Manager stand-in, and ONE controllable clock shared by all of them:
 *
 * - the Mackerel server and the queues read `clock.now`;
 * - the Lambda processes see the same time through a test-only preload (`fake-clock.cjs`, given with
 *   NODE_OPTIONS) that shifts Date by the offset the clock writes to a file. Nothing in the bundles reads
 *   a test variable.
 *
 * The clock runs in real time and jumps forward on `advance`, so request timeouts stay real.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MackerelWrite } from "../../../../functions/shared/mackerel-client";
import { encodeSpoolMessages } from "../../../../functions/shared/delivery/envelope";
import { SPOOL_MESSAGE_GROUP_ID } from "../../../../functions/shared/delivery/spool";
import { createServer, type Server, type Socket } from "node:net";
import {
  AwsServiceError,
  type AwsJsonHandlers,
  LocalAwsJsonServer,
  secretsManagerHandlers,
} from "../../../../scripts/local/aws-json-server";
import { LocalLambda } from "../../../../scripts/local/lambda-runner";
import { LocalMackerelServer } from "../../../../scripts/local/mackerel";
import { LocalSqs, SqsEventSource } from "../../../../scripts/local/sqs";

export const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-api-key-Fault1";
export const API_KEY = "fault-suite-api-key-0123456789";
export const SERVICE = "orders";
export const CUSTOM_IDENTIFIER = "mackerel-serverless/us-east-1/123456789012/fault-suite";
export const SPOOL = "fault-spool.fifo";
export const DEAD_LETTER = "fault-spool-dlq.fifo";
/** As the module configures them: 6 × the sender's 60 s timeout; maxReceiveCount for 24 h. */
const SPOOL_VISIBILITY_SECONDS = 360;
const MAX_RECEIVE_COUNT = 105;

/** One clock for the server, the queues and the functions. */
export class WorldClock {
  private offset = 0;
  constructor(private readonly file: string) {
    this.write();
  }
  readonly now = (): number => Date.now() + this.offset;
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
  advance(ms: number): void {
    this.offset += ms;
    this.write();
  }
  private write(): void {
    writeFileSync(this.file, String(this.offset));
  }
}

/** EMF documents a function printed (raw stdout lines with `_aws`), summed per metric name. */
export function emfTotals(lambda: LocalLambda, fromLine = 0): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const line of lambda.logs.slice(fromLine)) {
    if (!line.startsWith('{"_aws"')) continue;
    const document = JSON.parse(line) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
    };
    for (const { Name } of document._aws.CloudWatchMetrics[0]!.Metrics) {
      totals[Name] = (totals[Name] ?? 0) + Number(document[Name]);
    }
  }
  return totals;
}

/** How the Secrets Manager stand-in misbehaves for its next `count` calls. */
export interface SecretsFault {
  mode: "throttle" | "internalError" | "hang";
  count: number;
}

/**
 * Secrets Manager's GetSecretValue with fault injection: `ThrottlingException` (400, as AWS answers it),
 * `InternalServiceError` (500), or a request that is accepted and never answered.
 */
function faultySecretsManager(
  secrets: Map<string, string>,
  fault: () => SecretsFault | undefined,
  counts: Record<string, number>,
): AwsJsonHandlers {
  const real = secretsManagerHandlers(secrets);
  return {
    "secretsmanager.GetSecretValue": (input) => {
      const f = fault();
      if (f && f.count > 0) {
        f.count--;
        counts[f.mode] = (counts[f.mode] ?? 0) + 1;
        if (f.mode === "throttle") throw new AwsServiceError("ThrottlingException", "Rate exceeded", 400);
        if (f.mode === "internalError") {
          throw new AwsServiceError("InternalServiceError", "An error occurred on the server side.", 500);
        }
        return new Promise(() => undefined); // accepted, never answered
      }
      return real["secretsmanager.GetSecretValue"]!(input);
    },
  };
}

/**
 * A TCP endpoint that accepts connections and never answers: any AWS endpoint (SQS, DynamoDB, ...) or
 * Mackerel pointed at it hangs unless the caller has timeouts.
 */
export class BlackHole {
  private readonly sockets = new Set<Socket>();
  connections = 0;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}
  static async start(): Promise<BlackHole> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const hole = new BlackHole(server, `http://127.0.0.1:${port}`);
    server.on("connection", (socket) => {
      hole.connections++;
      hole.sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => hole.sockets.delete(socket));
      socket.resume(); // read and drop the request
    });
    return hole;
  }
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export class FaultWorld {
  metric!: LocalLambda;
  sender!: LocalLambda;
  source!: SqsEventSource;
  /** Sender invocations that failed as a whole (should stay 0). */
  senderErrors: string[] = [];

  /** The next Secrets Manager fault (consumed call by call). */
  secretsFault: SecretsFault | undefined;
  private constructor(
    readonly clock: WorldClock,
    readonly mackerel: LocalMackerelServer,
    readonly sqs: LocalSqs,
    readonly secrets: LocalAwsJsonServer,
    /** Secret ARN → SecretString served by the Secrets Manager stand-in. */
    readonly secretValues: Map<string, string>,
    /** Accepts connections, never answers. */
    readonly blackHole: BlackHole,
    /** Secrets Manager calls answered with each fault so far. */
    readonly secretsFaults: Record<string, number>,
    private readonly dir: string,
  ) {}

  static async start(): Promise<FaultWorld> {
    const dir = mkdtempSync(join(tmpdir(), "fault-world-"));
    const clock = new WorldClock(join(dir, "clock-offset"));
    const mackerel = await LocalMackerelServer.start({ apiKeys: [API_KEY], services: [SERVICE], now: clock.now });
    const sqs = await LocalSqs.start({ now: clock.now });
    const secretValues = new Map([[SECRET_ARN, API_KEY]]);
    // The handlers read the fault from the world, which exists only once the servers have started.
    const holder: { world?: FaultWorld } = {};
    const counts: Record<string, number> = {};
    const secrets = await LocalAwsJsonServer.start(
      faultySecretsManager(secretValues, () => holder.world?.secretsFault, counts),
    );
    const blackHole = await BlackHole.start();
    const world = new FaultWorld(clock, mackerel, sqs, secrets, secretValues, blackHole, counts, dir);
    holder.world = world;
    await world.fresh();
    return world;
  }

  /** A clean slate: Mackerel state, empty queues, new (cold) function containers. */
  async fresh(): Promise<void> {
    this.mackerel.reset();
    this.secretsFault = undefined;
    this.secretValues.set(SECRET_ARN, API_KEY);
    this.sqs.createQueue(DEAD_LETTER);
    this.sqs.createQueue(SPOOL, {
      visibilityTimeoutSeconds: SPOOL_VISIBILITY_SECONDS,
      redrive: { deadLetterQueue: DEAD_LETTER, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    await this.stopLambdas();
    const env = this.env();
    [this.metric, this.sender] = await Promise.all([
      LocalLambda.start("metric", { env, timeoutMs: 30_000 }),
      LocalLambda.start("sender", { env, timeoutMs: 60_000 }),
    ]);
    this.senderErrors = [];
    this.source = new SqsEventSource(this.sqs, SPOOL, async (event) => {
      const outcome = await this.sender.invoke(event);
      if (!outcome.ok) this.senderErrors.push(`${outcome.errorType}: ${outcome.errorMessage}`);
      return outcome;
    });
  }

  env(): Record<string, string> {
    return {
      MACKEREL_API_KEY_SECRET_ARN: SECRET_ARN,
      MACKEREL_API_BASE_URL: this.mackerel.url,
      MACKEREL_SERVICE_NAME: SERVICE,
      MACKEREL_HOST_NAME: "fault-suite",
      MACKEREL_HOST_CUSTOM_IDENTIFIER: CUSTOM_IDENTIFIER,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.secrets.url,
      AWS_ENDPOINT_URL_SQS: this.sqs.url,
      SPOOL_QUEUE_URL: this.sqs.queueUrl(SPOOL),
      DEAD_LETTER_QUEUE_URL: this.sqs.queueUrl(DEAD_LETTER),
      NODE_OPTIONS: `--require ${join(__dirname, "fake-clock.cjs")}`,
      FAULT_CLOCK_FILE: join(this.dir, "clock-offset"),
    };
  }

  /** Invokes the metric function; throws on a function error. */
  async postMetric(event: unknown): Promise<{ posted: Record<string, number>; spooled: boolean }> {
    return (await this.metric.invokeOrThrow(event)) as { posted: Record<string, number>; spooled: boolean };
  }

  /** Lets the sender take everything visible now (what Lambda's event source would do right away). */
  async pump(): Promise<void> {
    await this.source.drain(200);
  }

  /**
   * Runs the event source until the spool is empty, jumping the clock to the next message that becomes
   * visible; gives up after `maxWorldMs` of world time.
   */
  async settle(maxWorldMs = 2 * 60 * 60 * 1000): Promise<void> {
    const until = this.clock.now() + maxWorldMs;
    for (;;) {
      await this.pump();
      if (this.sqs.depth(SPOOL) === 0) return;
      const next = this.sqs.nextVisibleAt(SPOOL);
      if (next === undefined || next > until) return;
      this.clock.advance(Math.max(1000, next - this.clock.now()));
    }
  }

  /** Puts writes on the spool as another function would (same envelope code), e.g. data from an older outage. */
  spoolDirectly(writes: MackerelWrite[], origin: string): void {
    for (const body of encodeSpoolMessages(writes, { firstAttemptAt: this.clock.now(), origin })) {
      this.sqs.send(SPOOL, {
        MessageBody: body,
        MessageGroupId: SPOOL_MESSAGE_GROUP_ID,
        MessageDeduplicationId: createHash("sha256").update(body).digest("hex"),
      });
    }
  }

  /** The registered host of the suite (the one the functions find by custom identifier). */
  hostId(): string | undefined {
    return this.mackerel.hosts().find((h) => h.customIdentifier === CUSTOM_IDENTIFIER && !h.isRetired)?.id;
  }

  private async stopLambdas(): Promise<void> {
    await Promise.all([this.metric?.stop(), this.sender?.stop()]);
  }

  async close(): Promise<void> {
    await this.stopLambdas();
    await Promise.all([this.mackerel.close(), this.sqs.close(), this.secrets.close(), this.blackHole.close()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
