/**
 * Runs a built function zip locally the way Lambda does: unzipped into its own folder, imported by a
 * fresh Node.js process (the project's Node 22), invoked with an event and a context whose
 * remaining time counts down. The process stays warm between invocations, like a Lambda container.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { unzipSync } from "fflate";

export const DIST_DIR = join(__dirname, "..", "..", "modules", "mackerel-serverless", "dist");

export interface LocalLambdaOptions {
  /** The function's zip (default `modules/mackerel-serverless/dist/<name>.zip`). */
  zipPath?: string;
  /** Environment of the function (added to fake AWS credentials and region). */
  env?: Record<string, string>;
  /** Function timeout in ms (default 30 s); the context's remaining time counts down from it. */
  timeoutMs?: number;
  /** V8 old-space limit in MB, as a small Lambda function has (e.g. to prove a payload fits 128 MB). */
  maxOldSpaceMb?: number;
  /** Receives every line the function prints (stdout and stderr). */
  onLog?: (line: string) => void;
}

/** What an invocation returned: the result, or the error type and message Lambda would report. */
export type InvokeOutcome = { ok: true; result: unknown } | { ok: false; errorType: string; errorMessage: string };

/** Raised by {@link LocalLambda.invokeOrThrow} with Lambda's errorType as `name`. */
export class LocalLambdaError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

type Pending = { resolve: (outcome: InvokeOutcome) => void; timer: NodeJS.Timeout };

/** A warm local container of one function. */
export class LocalLambda {
  /** Time the bundle took to import (the cold-start init), in ms. */
  initMs = 0;
  readonly logs: string[] = [];
  private readonly pending = new Map<string, Pending>();

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly codeDir: string,
    private readonly timeoutMs: number,
  ) {}

  /** Unzips and starts the function; resolves when its module has been imported. */
  static async start(name: string, options: LocalLambdaOptions = {}): Promise<LocalLambda> {
    const zipPath = options.zipPath ?? join(DIST_DIR, `${name}.zip`);
    const codeDir = mkdtempSync(join(tmpdir(), `lambda-${name}-`));
    for (const [file, content] of Object.entries(unzipSync(readFileSync(zipPath)))) {
      mkdirSync(dirname(join(codeDir, file)), { recursive: true });
      writeFileSync(join(codeDir, file), content);
    }
    const child = fork(join(__dirname, "lambda-bootstrap.mjs"), [codeDir], {
      execPath: process.execPath,
      execArgv: [
        "--enable-source-maps",
        ...(options.maxOldSpaceMb ? [`--max-old-space-size=${options.maxOldSpaceMb}`] : []),
      ],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: {
        PATH: process.env.PATH ?? "",
        AWS_REGION: "us-east-1",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "AKIDLOCAL",
        AWS_SECRET_ACCESS_KEY: "local-secret",
        AWS_LAMBDA_FUNCTION_NAME: name,
        TZ: "UTC",
        ...options.env,
      },
    });
    const lambda = new LocalLambda(name, child, codeDir, options.timeoutMs ?? 30_000);
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() === "") continue;
        lambda.logs.push(line);
        options.onLog?.(line);
      }
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`${name} exited with ${code} during init:\n${lambda.logs.join("\n")}`));
      child.once("exit", onExit);
      child.on("message", (message: { type: string; initMs?: number; errorMessage?: string }) => {
        if (message.type === "ready") {
          lambda.initMs = message.initMs ?? 0;
          child.off("exit", onExit);
          resolve();
        } else if (message.type === "init-error") {
          reject(new Error(`${name} init failed: ${message.errorMessage}`));
        } else lambda.settle(message as never);
      });
    });
    child.on("exit", () => {
      for (const [id, pending] of lambda.pending) {
        clearTimeout(pending.timer);
        pending.resolve({ ok: false, errorType: "Runtime.ExitError", errorMessage: `${name} exited` });
        lambda.pending.delete(id);
      }
    });
    return lambda;
  }

  /** Invokes the handler; never throws for function errors (see {@link InvokeOutcome}). */
  invoke(event: unknown, options: { timeoutMs?: number } = {}): Promise<InvokeOutcome> {
    if (!this.child.connected) {
      return Promise.resolve({
        ok: false,
        errorType: "Runtime.ExitError",
        errorMessage: `${this.name} is not running (stopped or exited)`,
      });
    }
    const requestId = randomUUID();
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        resolve({ ok: false, errorType: "Sandbox.Timedout", errorMessage: `Task timed out after ${timeoutMs} ms` });
      }, timeoutMs + 2000);
      this.pending.set(requestId, { resolve, timer });
      this.child.send({ type: "invoke", requestId, event, timeoutMs, functionName: this.name });
    });
  }

  /** Invokes and returns the result, or throws a {@link LocalLambdaError} named after Lambda's errorType. */
  async invokeOrThrow(event: unknown, options: { timeoutMs?: number } = {}): Promise<unknown> {
    const outcome = await this.invoke(event, options);
    if (outcome.ok) return outcome.result;
    throw new LocalLambdaError(outcome.errorType, outcome.errorMessage);
  }

  /**
   * The structured records the function logged: the `message` objects of Lambda's JSON log format,
   * with the record's `level` added.
   */
  jsonLogs(): Record<string, unknown>[] {
    const records: Record<string, unknown>[] = [];
    for (const line of this.logs) {
      if (!line.startsWith("{")) continue;
      try {
        const record = JSON.parse(line) as { level?: string; message?: unknown };
        if (record.message && typeof record.message === "object") {
          records.push({ level: record.level, ...(record.message as Record<string, unknown>) });
        }
      } catch {
        // Not every line is a record (e.g. Node warnings).
      }
    }
    return records;
  }

  /** The container's peak resident memory so far, in bytes. */
  stats(): Promise<{ maxRssBytes: number }> {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) return reject(new Error(`${this.name} is not running`));
      const onMessage = (message: { type: string; maxRssBytes?: number }) => {
        if (message.type !== "stats") return;
        this.child.off("message", onMessage);
        resolve({ maxRssBytes: message.maxRssBytes ?? 0 });
      };
      this.child.on("message", onMessage);
      this.child.send({ type: "stats" });
    });
  }

  /** Stops the process and removes the unzipped code. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill();
      await exited;
    }
    rmSync(this.codeDir, { recursive: true, force: true });
  }

  private settle(message: {
    type: string;
    requestId: string;
    result?: unknown;
    errorType?: string;
    errorMessage?: string;
  }) {
    const pending = this.pending.get(message.requestId);
    if (!pending) return;
    this.pending.delete(message.requestId);
    clearTimeout(pending.timer);
    pending.resolve(
      message.type === "result"
        ? { ok: true, result: message.result }
        : { ok: false, errorType: message.errorType ?? "Error", errorMessage: message.errorMessage ?? "" },
    );
  }
}
