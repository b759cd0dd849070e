/**
 * A local Lambda Runtime API (the interface between a Lambda sandbox and the function's runtime), so that a
 * built zip runs under AWS's own runtime interface client (`aws-lambda-ric`, the bootstrap of the managed
 * Node.js runtime) exactly as in Lambda: the client long-polls `invocation/next`, runs the handler and
 * posts `response` or `error`; an error body carries the `errorType` that Step Functions sees.
 *
 * One server per container: invocations are handed out one at a time, in order, as Lambda does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const API = "/2018-06-01/runtime";

/** What an invocation ended with, as Lambda reports it. */
export type RuntimeOutcome =
  { ok: true; result: unknown } | { ok: false; errorType: string; errorMessage: string; trace?: string[] };

/** One event waiting for (or being run by) the runtime. */
export interface RuntimeInvocation {
  readonly requestId: string;
  readonly event: unknown;
  /** Function timeout: the deadline handed to the runtime is this far from the moment it takes the event. */
  readonly timeoutMs: number;
  readonly functionArn: string;
  /** Called once the runtime has taken the event (the function's time starts then). */
  readonly onDispatch?: () => void;
  readonly settle: (outcome: RuntimeOutcome) => void;
}

/** An init failure the runtime reported (`/runtime/init/error`). */
export interface InitError {
  readonly errorType: string;
  readonly errorMessage: string;
}

/** The Runtime API endpoint of one container. */
export class RuntimeApiServer {
  private readonly queue: RuntimeInvocation[] = [];
  private readonly inFlight = new Map<string, RuntimeInvocation>();
  private waiting: ServerResponse | undefined;
  private firstPoll: (() => void) | undefined;
  private readonly firstPolled: Promise<void>;
  /** Set when the runtime reported that its init failed. */
  initError: InitError | undefined;
  private onInitError: ((error: InitError) => void) | undefined;

  private constructor(
    private readonly server: Server,
    private readonly now: () => number,
  ) {
    this.firstPolled = new Promise((resolve) => (this.firstPoll = resolve));
    server.on("request", (req, res) => void this.route(req, res));
  }

  /**
   * Starts a server on a free loopback port.
   *
   * @param now - the sandbox's clock (epoch ms), in which the deadline header is written: a test that shifts
   *   the function's `Date` passes the same clock, so `getRemainingTimeInMillis()` stays true.
   */
  static async start(now: () => number = Date.now): Promise<RuntimeApiServer> {
    const server = createServer({ keepAlive: true });
    const api = new RuntimeApiServer(server, now);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return api;
  }

  /** `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`. */
  get address(): string {
    const { port } = this.server.address() as AddressInfo;
    return `127.0.0.1:${port}`;
  }

  /** Resolves when the runtime first asks for an event (its init is over), rejects when init failed. */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.initError) return reject(this.initError);
      this.onInitError = reject;
      void this.firstPolled.then(resolve);
    });
  }

  /** Queues an event; it is handed to the runtime when it next polls. */
  enqueue(invocation: RuntimeInvocation): void {
    this.queue.push(invocation);
    this.dispatch();
  }

  /** Ends every queued and running invocation with `outcome` (the container died or timed out). */
  abandonAll(outcome: RuntimeOutcome): void {
    for (const invocation of [...this.inFlight.values(), ...this.queue]) invocation.settle(outcome);
    this.inFlight.clear();
    this.queue.length = 0;
  }

  /** Ends one running invocation with `outcome` (e.g. its deadline passed). */
  abandon(requestId: string, outcome: RuntimeOutcome): void {
    const invocation = this.inFlight.get(requestId);
    if (!invocation) return;
    this.inFlight.delete(requestId);
    invocation.settle(outcome);
  }

  async stop(): Promise<void> {
    this.waiting?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private dispatch(): void {
    const res = this.waiting;
    const invocation = this.queue[0];
    if (!res || !invocation) return;
    this.queue.shift();
    this.waiting = undefined;
    const deadlineMs = this.now() + invocation.timeoutMs;
    this.inFlight.set(invocation.requestId, invocation);
    const body = JSON.stringify(invocation.event ?? null);
    // aws-lambda-cpp needs a Content-Length (it does not read chunked bodies).
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
      "Lambda-Runtime-Aws-Request-Id": invocation.requestId,
      "Lambda-Runtime-Deadline-Ms": String(deadlineMs),
      "Lambda-Runtime-Invoked-Function-Arn": invocation.functionArn,
      "Lambda-Runtime-Trace-Id": `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${invocation.requestId.replace(/-/g, "").slice(0, 24)};Sampled=0`,
    });
    res.end(body);
    invocation.onDispatch?.();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const url = req.url ?? "";
    if (req.method === "GET" && url === `${API}/invocation/next`) {
      this.firstPoll?.();
      this.waiting = res;
      this.dispatch();
      return;
    }
    if (req.method === "POST" && url === `${API}/init/error`) {
      const error = parseError(body, req);
      this.initError = error;
      this.onInitError?.(error);
      return accepted(res);
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === "POST" && match) {
      const requestId = decodeURIComponent(match[1] ?? "");
      const invocation = this.inFlight.get(requestId);
      if (!invocation) {
        // Lambda refuses a response for an invocation that is not running (e.g. after its timeout).
        res.writeHead(400, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ errorType: "InvalidRequestID", errorMessage: `unknown request id ${requestId}` }));
        return;
      }
      this.inFlight.delete(requestId);
      if (match[2] === "response") {
        invocation.settle({ ok: true, result: body === "" ? null : JSON.parse(body) });
      } else {
        invocation.settle({ ok: false, ...parseError(body, req) });
      }
      return accepted(res);
    }
    res.writeHead(404, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ errorType: "NotFound", errorMessage: `${req.method} ${url}` }));
  }
}

function accepted(res: ServerResponse): void {
  res.writeHead(202, { "Content-Type": "application/json" });
  res.end('{"status":"OK"}');
}

function parseError(body: string, req: IncomingMessage): InitError & { trace?: string[] } {
  const header = req.headers["lambda-runtime-function-error-type"];
  try {
    const parsed = JSON.parse(body) as { errorType?: string; errorMessage?: string; trace?: string[] };
    return {
      errorType: parsed.errorType ?? (typeof header === "string" ? header : "Error"),
      errorMessage: parsed.errorMessage ?? "",
      trace: parsed.trace,
    };
  } catch {
    return { errorType: typeof header === "string" ? header : "Runtime.Unknown", errorMessage: body };
  }
}
