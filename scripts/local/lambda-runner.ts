/**
 * Runs a built function zip locally the way Lambda does: unzipped into its own folder and started by AWS's own
 * runtime interface client (`aws-lambda-ric`, the bootstrap of the managed Node.js runtime) in a fresh Node.js
 * process, with the environment, memory flags and JSON log format of the managed runtime. Events go through a
 * local Runtime API ({@link RuntimeApiServer}), so an invocation ends exactly as Lambda reports it: the result,
 * or the `errorType` that Step Functions sees. The process stays warm between invocations, like a Lambda
 * container; a timed-out or crashed container is replaced by a fresh one (a new cold start) on the next event.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { unzipSync } from "fflate";
import { type LambdaNodeVersion, lambdaNodeBinary } from "../lib/lambda-node.js";
import { RuntimeApiServer, type RuntimeOutcome } from "./runtime-api.js";

const ROOT = join(__dirname, "..", "..");
export const DIST_DIR = join(ROOT, "modules", "mackerel-serverless", "dist");

export type { LambdaNodeVersion } from "../lib/lambda-node.js";

const RIC = join(ROOT, "node_modules", "aws-lambda-ric", "index.mjs");

/** Memory of every function of the module (see modules/construct): the default container size here. */
export const DEFAULT_MEMORY_MB = 256;

/**
 * Node.js version the zips run under when a test does not choose: `LOCAL_LAMBDA_NODE=24 npm test` runs
 * every zip-based test on Node 24 (see scripts/lib/lambda-node.ts).
 */
export function defaultNodeVersion(): LambdaNodeVersion {
  const wanted = process.env.LOCAL_LAMBDA_NODE ?? "22";
  if (wanted !== "22" && wanted !== "24") throw new Error(`LOCAL_LAMBDA_NODE must be 22 or 24, not ${wanted}`);
  return wanted;
}

export interface LocalLambdaOptions {
  /** The function's zip (default `modules/mackerel-serverless/dist/<name>.zip`). */
  zipPath?: string;
  /** Environment of the function (added to fake AWS credentials, region and the runtime's own variables). */
  env?: Record<string, string>;
  /** Function timeout in ms (default 30 s): the deadline the runtime gets; past it the container is killed. */
  timeoutMs?: number;
  /** Function memory in MB (default {@link DEFAULT_MEMORY_MB}): sets V8's heap limits as the managed runtime does. */
  memoryMb?: number;
  /** V8 old-space limit in MB, overriding the one derived from {@link memoryMb}. */
  maxOldSpaceMb?: number;
  /** Node.js major version of the managed runtime (default {@link defaultNodeVersion}). */
  node?: LambdaNodeVersion;
  /** Receives every line the function prints (stdout and stderr). */
  onLog?: (line: string) => void;
  /**
   * The function's clock (epoch ms) when a test shifts it (e.g. the fault suite's preloaded fake clock): the
   * deadline is given to the runtime in that clock. Default: the clock of the test preload
   * `__tests__/product/fault/support/fake-clock.cjs` when `env.FAULT_CLOCK_FILE` names its offset file, else `Date.now`.
   */
  sandboxNow?: () => number;
}

/** The clock the preload `fake-clock.cjs` gives a function whose environment names an offset file. */
function preloadedClock(env: Record<string, string> | undefined): (() => number) | undefined {
  const file = env?.FAULT_CLOCK_FILE;
  if (!file) return undefined;
  return () => Date.now() + (Number(readFileSync(file, "utf8")) || 0);
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

/**
 * The command line of the managed Node.js runtime's bootstrap: a tenth of the memory for the young generation
 * (half of it per semi-space), the rest for the old generation.
 */
export function runtimeNodeArgs(memoryMb: number, maxOldSpaceMb?: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [
    "--expose-gc",
    "--max-http-header-size",
    "81920",
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${maxOldSpaceMb ?? memoryMb - newSpace}`,
  ];
}

/** Peak resident memory of a process (Linux `VmHWM`), in bytes: what Lambda reports as Max Memory Used. */
function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!kb) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

/** A warm local container of one function. */
export class LocalLambda {
  /** Time from starting the process until the runtime first asked for an event (Lambda's Init Duration), in ms. */
  initMs = 0;
  /** Every line the function printed, across the containers it had. */
  readonly logs: string[] = [];
  private child: ChildProcess | undefined;
  private api: RuntimeApiServer | undefined;
  private starting: Promise<void> | undefined;
  private stopped = false;
  /** Containers started so far (1 + the cold starts after a timeout or crash). */
  containers = 0;

  private constructor(
    readonly name: string,
    private readonly codeDir: string,
    private readonly options: LocalLambdaOptions,
  ) {}

  /** Unzips the function and starts its container; resolves when the runtime is ready for events. */
  static async start(name: string, options: LocalLambdaOptions = {}): Promise<LocalLambda> {
    const zipPath = options.zipPath ?? join(DIST_DIR, `${name}.zip`);
    const codeDir = mkdtempSync(join(tmpdir(), `lambda-${name}-`));
    for (const [file, content] of Object.entries(unzipSync(readFileSync(zipPath)))) {
      mkdirSync(dirname(join(codeDir, file)), { recursive: true });
      writeFileSync(join(codeDir, file), content);
    }
    const lambda = new LocalLambda(name, codeDir, options);
    try {
      await lambda.coldStart();
    } catch (error) {
      await lambda.stop();
      throw error;
    }
    return lambda;
  }

  /** The Node.js version this container runs. */
  get node(): LambdaNodeVersion {
    return this.options.node ?? defaultNodeVersion();
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 30_000;
  }

  private get functionArn(): string {
    return `arn:aws:lambda:us-east-1:123456789012:function:${this.name}`;
  }

  /** Starts a fresh container: a new process and Runtime API, as Lambda does for a new sandbox. */
  private coldStart(): Promise<void> {
    this.starting ??= this.spawnContainer().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async spawnContainer(): Promise<void> {
    const api = await RuntimeApiServer.start(this.options.sandboxNow ?? preloadedClock(this.options.env));
    const memoryMb = this.options.memoryMb ?? DEFAULT_MEMORY_MB;
    const node = this.node;
    const started = performance.now();
    const child = spawn(lambdaNodeBinary(node), [...runtimeNodeArgs(memoryMb, this.options.maxOldSpaceMb), RIC], {
      cwd: this.codeDir,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH ?? "",
        TZ: "UTC",
        LANG: "en_US.UTF-8",
        AWS_REGION: "us-east-1",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "AKIDLOCAL",
        AWS_SECRET_ACCESS_KEY: "local-secret",
        AWS_SESSION_TOKEN: "local-session",
        AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${node}.x`,
        AWS_LAMBDA_FUNCTION_NAME: this.name,
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: `2026/01/01/[$LATEST]${randomUUID().replace(/-/g, "")}`,
        AWS_LAMBDA_LOG_FORMAT: "JSON",
        AWS_LAMBDA_RUNTIME_API: api.address,
        LAMBDA_TASK_ROOT: this.codeDir,
        LAMBDA_RUNTIME_DIR: dirname(RIC),
        _HANDLER: "index.handler",
        // The module sets this on every function (modules/construct/module-function.ts).
        NODE_OPTIONS: "--enable-source-maps",
        ...this.options.env,
      },
    });
    this.child = child;
    this.api = api;
    this.containers += 1;
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() === "") continue;
        this.logs.push(line);
        this.options.onLog?.(line);
      }
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.once("exit", (code, signal) => {
      if (this.child === child) this.child = undefined;
      api.abandonAll({
        ok: false,
        errorType: "Runtime.ExitError",
        errorMessage: `Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}`,
      });
      void api.stop();
    });
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code, signal) =>
        reject(new Error(`${this.name} exited (${signal ?? code}) during init:\n${this.logs.join("\n")}`)),
      ),
    );
    try {
      await Promise.race([api.ready(), exited]);
    } catch (error) {
      child.kill("SIGKILL");
      const init = api.initError;
      throw init ? new Error(`${this.name} init failed: ${init.errorType}: ${init.errorMessage}`) : error;
    }
    exited.catch(() => undefined);
    this.initMs = performance.now() - started;
  }

  /** Invokes the handler; never throws for function errors (see {@link InvokeOutcome}). */
  async invoke(event: unknown, options: { timeoutMs?: number } = {}): Promise<InvokeOutcome> {
    if (this.stopped) {
      return { ok: false, errorType: "Runtime.ExitError", errorMessage: `${this.name} is not running (stopped)` };
    }
    if (!this.child) {
      try {
        await this.coldStart();
      } catch (error) {
        return { ok: false, errorType: "Runtime.InitError", errorMessage: (error as Error).message };
      }
    }
    const api = this.api;
    const child = this.child;
    if (!api || !child) return { ok: false, errorType: "Runtime.ExitError", errorMessage: `${this.name} exited` };
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const requestId = randomUUID();
    const outcome = await new Promise<RuntimeOutcome>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      api.enqueue({
        requestId,
        event,
        timeoutMs,
        functionArn: this.functionArn,
        // Lambda stops a function at its deadline: the sandbox is killed and the next event gets a new one.
        onDispatch: () => {
          timer = setTimeout(() => {
            // This container is gone at once: the next event must not be queued to it while it dies.
            if (this.child === child) this.child = undefined;
            api.abandon(requestId, {
              ok: false,
              errorType: "Sandbox.Timedout",
              errorMessage: `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
            });
            child.kill("SIGKILL");
          }, timeoutMs);
        },
        settle: (result) => {
          clearTimeout(timer);
          resolve(result);
        },
      });
    });
    return outcome.ok
      ? { ok: true, result: outcome.result }
      : { ok: false, errorType: outcome.errorType, errorMessage: outcome.errorMessage };
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

  /** The container's peak resident memory so far (the whole process, as Lambda's Max Memory Used), in bytes. */
  async stats(): Promise<{ maxRssBytes: number }> {
    const pid = this.child?.pid;
    if (pid === undefined || this.child?.exitCode !== null) throw new Error(`${this.name} is not running`);
    return { maxRssBytes: peakRssBytes(pid) };
  }

  /** Stops the container and removes the unzipped code; later invocations are refused. */
  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
    await this.api?.stop().catch(() => undefined);
    rmSync(this.codeDir, { recursive: true, force: true });
  }
}
