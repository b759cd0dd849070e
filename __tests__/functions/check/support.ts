/**
 * Helpers of the check tests: one local AWS JSON endpoint serving the CloudWatch Logs and Step
 * Functions stand-ins, the SDK-backed APIs pointed at it through AWS_ENDPOINT_URL_*, and run contexts
 * with a real clock and a chosen budget.
 */
import type { LogsApi, SfnApi } from "../../../functions/check/aws";
import type { RunContext } from "../../../functions/check/run-context";
import { LocalAwsJsonServer, type AwsJsonHandlers } from "../../../scripts/local/aws-json-server";

const ENV_KEYS = [
  "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
  "AWS_ENDPOINT_URL_SFN",
  "AWS_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
] as const;

/**
 * Starts a local endpoint with `handlers` and points the SDK at it for this test file; returns the
 * functions' own lazily-loaded APIs (fresh module instances, so the environment is read now).
 */
export async function startAws(handlers: AwsJsonHandlers): Promise<{
  server: LocalAwsJsonServer;
  logs: () => Promise<LogsApi>;
  sfn: () => Promise<SfnApi>;
  close: () => Promise<void>;
}> {
  const server = await LocalAwsJsonServer.start(handlers);
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: server.url,
    AWS_ENDPOINT_URL_SFN: server.url,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "AKIDLOCAL",
    AWS_SECRET_ACCESS_KEY: "local-secret",
  });
  let aws: typeof import("../../../functions/check/aws") | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    aws = require("../../../functions/check/aws");
  });
  return {
    server,
    logs: () => aws!.loadLogsApi(),
    sfn: () => aws!.loadSfnApi(),
    close: async () => {
      for (const key of ENV_KEYS) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
      await server.close();
    },
  };
}

/** A run context with a real clock whose budget ends `budgetMs` from now. */
export function runContext(budgetMs: number, nowMs: number = Date.now()): RunContext {
  const deadline = Date.now() + budgetMs;
  return {
    nowMs,
    remainingMs: () => deadline - Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    clock: () => Date.now(),
  };
}
