/**
 * A local stand-in for AWS services that speak the JSON protocols (awsJson1_0 / awsJson1_1):
 * `POST /` with `X-Amz-Target: <prefix>.<Operation>`. The SDK v3 clients reach it through
 * `AWS_ENDPOINT_URL_<SERVICE>`; handlers implement the operations a test needs, as documented.
 * Used where no real implementation runs here (Secrets Manager, CloudWatch Logs, Step Functions, SQS).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Region and fake credentials for SDK clients that talk to the local stand-ins (add `endpoint`). */
export const LOCAL_AWS_CLIENT_CONFIG = {
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local-secret" },
};

/** An error the service answers with: `{"__type": type, "message": ...}` and an HTTP status. */
export class AwsServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
  }
}

/** `X-Amz-Target` → operation handler. */
export type AwsJsonHandlers = Record<string, (input: Record<string, unknown>) => unknown | Promise<unknown>>;

export interface AwsJsonCall {
  target: string;
  input: Record<string, unknown>;
  status: number;
}

/** A local AWS JSON-protocol endpoint. */
export class LocalAwsJsonServer {
  readonly calls: AwsJsonCall[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly handlers: AwsJsonHandlers,
  ) {}

  static async start(handlers: AwsJsonHandlers): Promise<LocalAwsJsonServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const instance = new LocalAwsJsonServer(server, `http://127.0.0.1:${port}`, handlers);
    server.on("request", (req, res) => void instance.handle(req, res));
    return instance;
  }

  /** Calls of one operation, e.g. `callsTo("secretsmanager.GetSecretValue")`. */
  callsTo(target: string): AwsJsonCall[] {
    return this.calls.filter((call) => call.target === target);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers["x-amz-target"] ?? "");
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(body));
    };
    let input: Record<string, unknown> = {};
    try {
      input = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : {};
    } catch {
      this.calls.push({ target, input, status: 400 });
      return reply(400, { __type: "SerializationException", message: "body is not JSON" });
    }
    if (!String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) {
      this.calls.push({ target, input, status: 403 });
      return reply(403, { __type: "MissingAuthenticationTokenException", message: "request is not signed" });
    }
    const handler = this.handlers[target];
    if (!handler) {
      this.calls.push({ target, input, status: 400 });
      return reply(400, { __type: "UnknownOperationException", message: `no handler for ${target}` });
    }
    try {
      const output = await handler(input);
      this.calls.push({ target, input, status: 200 });
      reply(200, output ?? {});
    } catch (error) {
      if (error instanceof AwsServiceError) {
        this.calls.push({ target, input, status: error.status });
        return reply(error.status, { __type: error.type, message: error.message });
      }
      this.calls.push({ target, input, status: 500 });
      reply(500, { __type: "InternalFailure", message: String(error) });
    }
  }
}

/**
 * Secrets Manager's GetSecretValue over a mutable map of secret ARN → SecretString (rotate a key by
 * setting a new value).
 */
export function secretsManagerHandlers(secrets: Map<string, string>): AwsJsonHandlers {
  return {
    "secretsmanager.GetSecretValue": (input) => {
      const id = String(input.SecretId ?? "");
      const value = secrets.get(id);
      if (value === undefined) {
        throw new AwsServiceError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
      }
      return {
        ARN: id,
        Name: id.split(":").pop(),
        SecretString: value,
        VersionId: "v1",
        VersionStages: ["AWSCURRENT"],
      };
    },
  };
}
