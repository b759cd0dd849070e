/**
 * Runs the examples' Step Functions definitions locally: renders the Terraform templates
 * (`examples/**\/*.asl.json`, `${var}` placeholders as `templatefile()` fills them), validates them with
 * asl-validator, and executes them with aws-local-stepfunctions with the metric Task states bound to a
 * local metric function (the built zip in {@link LocalLambda}) and the other Task states to local handlers.
 *
 * Also a local `ValidateStateMachineDefinition` for the AWS provider, which calls it at plan time.
 *
 * Used by the tests and by the local demo.
 */
import { fork } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import {
  type ExecutionError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from "aws-local-stepfunctions";
import { type AwsJsonHandlers, LocalAwsJsonServer } from "./aws-json-server";

export const ROOT = join(__dirname, "..", "..");

/** The optimized Lambda integration (`Parameters: {FunctionName, Payload}`, result under `Payload`). */
export const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };
type State = Record<string, unknown> & { Type: string };

// ---------------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------------

/** Every `*.asl.json` under `dir` (default `examples/`), sorted, skipping `.terraform` folders. */
export function findDefinitionTemplates(dir: string = join(ROOT, "examples")): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current).sort()) {
      if (entry === ".terraform" || entry === "node_modules") continue;
      const path = join(current, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith(".asl.json")) found.push(path);
    }
  };
  walk(dir);
  return found;
}

/** The variables a template uses (`${name}`; `$${` is an escaped literal). */
export function templatePlaceholders(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(/(\$?)\$\{\s*([^}]*?)\s*\}/g)) {
    if (match[1] === "$") continue;
    names.add(match[2]!);
  }
  return [...names].sort();
}

/**
 * Fills a template the way Terraform's `templatefile()` does for plain variable references: `${name}`
 * becomes the value, `$${` the literal `${`. Values land inside JSON strings, so they are JSON-escaped.
 * Anything but a plain variable name (expressions, `%{` directives) and any unknown variable is an
 * error, as in Terraform.
 */
export function renderTemplate(text: string, vars: Record<string, string>): string {
  if (/(^|[^%])%\{/.test(text)) throw new Error("template directives (%{...}) are not supported here");
  return text.replace(/(\$?)\$\{\s*([^}]*?)\s*\}/g, (whole, escape: string, name: string) => {
    if (escape === "$") return whole.slice(1);
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new Error(`unsupported template expression \${${name}}`);
    const value = vars[name];
    if (value === undefined) throw new Error(`template variable "${name}" is not given`);
    return JSON.stringify(value).slice(1, -1);
  });
}

/** Reads, renders and parses a definition template. */
export function loadDefinition(path: string, vars: Record<string, string>): StateMachineDefinition {
  const text = readFileSync(path, "utf8");
  try {
    return JSON.parse(renderTemplate(text, vars)) as StateMachineDefinition;
  } catch (error) {
    throw new Error(`${relative(ROOT, path)}: ${(error as Error).message}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------

type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errors: { message?: string; path?: string }[]; errorsText: (separator?: string) => string };

let validator: AslValidator | undefined;

/** Validates a definition with asl-validator (JSON schema, paths, transitions, ARNs). */
export function validateDefinition(definition: unknown): { isValid: boolean; errors: string[] } {
  // asl-validator has no type declarations; it is a CommonJS function export.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  validator ??= require("asl-validator") as AslValidator;
  // It annotates the definition it is given (QueryLanguage): validate a copy.
  const result = validator(jsonCopy(definition), { checkPaths: true, checkArn: true });
  return { isValid: result.isValid, errors: result.isValid ? [] : result.errorsText("\n").split("\n") };
}

/**
 * Step Functions' `ValidateStateMachineDefinition` (awsJson1_0, target `AWSStepFunctions.*`) answered by
 * asl-validator: the AWS provider calls it at plan time for every definition it knows, so an offline plan
 * points the provider's `sfn` endpoint at a {@link LocalAwsJsonServer} with these handlers.
 */
export function sfnValidationHandlers(onValidate?: (definition: unknown) => void): AwsJsonHandlers {
  return {
    "AWSStepFunctions.ValidateStateMachineDefinition": (input) => {
      let definition: unknown;
      try {
        definition = JSON.parse(String(input.definition ?? ""));
      } catch (error) {
        return {
          result: "FAIL",
          diagnostics: [{ severity: "ERROR", code: "INVALID_JSON_DESCRIPTION", message: String(error) }],
        };
      }
      onValidate?.(definition);
      const { isValid, errors } = validateDefinition(definition);
      return {
        result: isValid ? "OK" : "FAIL",
        diagnostics: errors.map((message) => ({ severity: "ERROR", code: "SCHEMA_VALIDATION_FAILED", message })),
      };
    },
  };
}

/** A {@link sfnValidationHandlers} endpoint running in a child process. */
export interface ValidationServerProcess {
  url: string;
  /** The definitions validated so far (read from the child's log). */
  validated(): unknown[];
  stop(): Promise<void>;
}

const SERVE_FLAG = "--serve-sfn-validation";

/**
 * Starts the `ValidateStateMachineDefinition` endpoint in its own Node.js process: the tests run
 * terraform with spawnSync, which would block a server in their own process until terraform gives up.
 * Every definition it validates is appended as a JSON line to `logFile`.
 */
export async function startValidationServerProcess(logFile: string): Promise<ValidationServerProcess> {
  const child = fork(__filename, [SERVE_FLAG, logFile], {
    execPath: process.execPath,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (message: { url: string }) => resolve(message.url));
    child.once("exit", (code) => reject(new Error(`the validation server exited with ${code}`)));
  });
  return {
    url,
    validated: () =>
      readFileSync(logFile, { encoding: "utf8", flag: "a+" })
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as unknown),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill();
      await exited;
    },
  };
}

if (require.main === module && process.argv[2] === SERVE_FLAG) {
  const logFile = process.argv[3]!;
  void LocalAwsJsonServer.start(
    sfnValidationHandlers((definition) => appendFileSync(logFile, `${JSON.stringify(definition)}\n`)),
  ).then((server) => {
    process.send?.({ url: server.url });
    process.on("disconnect", () => void server.close().then(() => process.exit(0)));
  });
}

// ---------------------------------------------------------------------------------------------------
// Walking definitions
// ---------------------------------------------------------------------------------------------------

/** Every state of a definition with its name, nested Parallel branches and Map processors included. */
export function statesOf(definition: unknown): { name: string; state: State }[] {
  const out: { name: string; state: State }[] = [];
  const visit = (machine: unknown) => {
    const states = (machine as { States?: Record<string, State> } | undefined)?.States ?? {};
    for (const [name, state] of Object.entries(states)) {
      out.push({ name, state });
      for (const branch of (state.Branches as unknown[] | undefined) ?? []) visit(branch);
      if (state.ItemProcessor) visit(state.ItemProcessor);
      if (state.Iterator) visit(state.Iterator);
    }
  };
  visit(definition);
  return out;
}

/** How the examples and the demo name the metric function in their definitions. */
export interface MetricFunctionRef {
  arn: string;
  name: string;
}

/** Whether a Task state calls the metric function, directly (Resource = ARN) or through lambda:invoke. */
export function isMetricTask(state: State, metric: MetricFunctionRef): boolean {
  if (state.Type !== "Task") return false;
  if (state.Resource === metric.arn) return true;
  if (state.Resource !== LAMBDA_INVOKE) return false;
  const parameters = (state.Parameters ?? state.Arguments) as { FunctionName?: unknown } | undefined;
  return parameters?.FunctionName === metric.name || parameters?.FunctionName === metric.arn;
}

/** Names of the Task states that call the metric function. */
export function metricTaskStates(definition: unknown, metric: MetricFunctionRef): string[] {
  return statesOf(definition)
    .filter(({ state }) => isMetricTask(state, metric))
    .map(({ name }) => name);
}

// ---------------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------------

/** Anything that invokes the metric function: a {@link LocalLambda}, or a stub. Throws errors named after errorType. */
export interface MetricInvoker {
  invokeOrThrow(event: unknown): Promise<unknown>;
}

export type TaskHandler = (input: JsonValue) => unknown;

export interface RunDefinitionOptions {
  /** The metric function: every Task state that calls it is bound to this. */
  metric: MetricInvoker;
  metricFunction: MetricFunctionRef;
  /** Handlers of the other Task states, by state name (e.g. the jobs). A Task without one fails the run. */
  tasks?: Record<string, TaskHandler>;
  /** Retry without waiting (default true): Retry intervals of 30 s have no place in a test. */
  fastRetries?: boolean;
  /** Context object (`$$`), e.g. to set `State.EnteredTime`. */
  context?: RunOptions["context"];
}

/** One call of the metric function made by a Task state. */
export interface MetricInvocation {
  state: string;
  event: unknown;
  outcome: { ok: true; result: unknown } | { ok: false; errorType: string; errorMessage: string };
}

export type ExecutionOutcome =
  { status: "SUCCEEDED"; output: unknown } | { status: "FAILED"; error: string; cause: string };

export interface RunResult {
  execution: ExecutionOutcome;
  /** Every metric function call, in order (retries included). */
  metricInvocations: MetricInvocation[];
  /** Every Task state handled locally (metric or not), in order: state name and input. */
  taskCalls: { state: string; input: unknown }[];
  /** aws-local-stepfunctions' event log. */
  events: { type: string; [key: string]: unknown }[];
}

/** The error an aws-local-stepfunctions execution failed with, unwrapped to the state's error name and cause. */
function describeFailure(error: unknown): { error: string; cause: string } {
  let current = error as (ExecutionError & { cause?: unknown }) | undefined;
  // ExecutionError wraps the error of the state (a Parallel state wraps its branch's).
  while (current && (current.name === "ExecutionError" || current.name === "States.BranchFailed") && current.cause) {
    current = current.cause as typeof current;
  }
  const name = (current as { name?: string } | undefined)?.name ?? "Error";
  const message = (current as { message?: string } | undefined)?.message ?? String(error);
  return { error: name, cause: message };
}

/**
 * Executes `definition` with `input`. Task states that call the metric function (see {@link isMetricTask})
 * invoke `options.metric` with their effective input (for lambda:invoke, the `Payload`, and the result is
 * wrapped as Step Functions does); the other Task states run `options.tasks[name]`. A handler's error
 * `name` is the error Step Functions matches in Retry and Catch, as Lambda's errorType is.
 */
export async function runDefinition(
  definition: StateMachineDefinition,
  input: unknown,
  options: RunDefinitionOptions,
): Promise<RunResult> {
  const metricInvocations: MetricInvocation[] = [];
  const taskCalls: { state: string; input: unknown }[] = [];
  const handlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
  const retryIntervalOverrides: Record<string, number> = {};

  for (const { name, state } of statesOf(definition)) {
    if (state.Retry && options.fastRetries !== false) retryIntervalOverrides[name] = 0;
    if (state.Type !== "Task") continue;
    const viaInvoke = state.Resource === LAMBDA_INVOKE;
    if (isMetricTask(state, options.metricFunction)) {
      handlers[name] = async (taskInput) => {
        taskCalls.push({ state: name, input: taskInput });
        const event = viaInvoke ? (taskInput as JsonObject).Payload : taskInput;
        try {
          const result = await options.metric.invokeOrThrow(event);
          metricInvocations.push({ state: name, event, outcome: { ok: true, result } });
          return (viaInvoke ? lambdaInvokeResult(result) : result) as JsonValue;
        } catch (error) {
          const { name: errorType, message: errorMessage } = error as Error;
          metricInvocations.push({ state: name, event, outcome: { ok: false, errorType, errorMessage } });
          throw error;
        }
      };
      continue;
    }
    handlers[name] = async (taskInput) => {
      taskCalls.push({ state: name, input: taskInput });
      const handler = options.tasks?.[name];
      if (!handler) throw new Error(`no local handler for Task state "${name}" (${String(state.Resource)})`);
      const result = await handler(viaInvoke ? ((taskInput as JsonObject).Payload ?? null) : taskInput);
      return (viaInvoke ? lambdaInvokeResult(result) : result) as JsonValue;
    };
  }

  const machine = new StateMachine(withoutRootResultPaths(definition), {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  const execution = machine.run(input as JsonValue, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
    context: options.context,
  });
  const events: RunResult["events"] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) events.push(event as unknown as RunResult["events"][number]);
  })();
  let outcome: ExecutionOutcome;
  try {
    outcome = { status: "SUCCEEDED", output: await execution.result };
  } catch (error) {
    outcome = { status: "FAILED", ...describeFailure(error) };
  }
  await collecting;
  return { execution: outcome, metricInvocations, taskCalls, events };
}

/**
 * The definition with every `"ResultPath": "$"` (of states and catchers) removed. Identical semantics —
 * ResultPath defaults to `$`, the whole result replaces the input — but aws-local-stepfunctions 3.0.0
 * mishandles an explicit `"$"` (it stores the result under a key named `$` instead of replacing the input).
 */
export function withoutRootResultPaths(definition: StateMachineDefinition): StateMachineDefinition {
  const copy = jsonCopy(definition);
  for (const { state } of statesOf(copy)) {
    if (state.ResultPath === "$") delete state.ResultPath;
    for (const catcher of (state.Catch as Record<string, unknown>[] | undefined) ?? []) {
      if (catcher.ResultPath === "$") delete catcher.ResultPath;
    }
  }
  return copy;
}

/**
 * A deep copy made in the caller's realm. Not structuredClone: under jest (a vm context) its objects
 * have another realm's Object.prototype, and aws-local-stepfunctions' plain-object checks then skip
 * nested payload templates.
 */
function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** What `arn:aws:states:::lambda:invoke` returns for a successful synchronous invocation. */
function lambdaInvokeResult(payload: unknown): JsonObject {
  return {
    ExecutedVersion: "$LATEST",
    Payload: (payload ?? null) as JsonValue,
    SdkHttpMetadata: { HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: "local" },
    StatusCode: 200,
  };
}
