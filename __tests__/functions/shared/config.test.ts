/**
 * The environment contract: one schema per function, what it requires required, parsed once, errors that name
 * the variable and the rule; and the committed module sets, for each function, what its schema requires and
 * nothing it does not read.
 */
import {
  checkEnvironment,
  logsEnvironment,
  metricEnvironment,
  parseEnvironment,
  senderEnvironment,
  tickEnvironment,
} from "../../../functions/shared/config";
import { ConfigurationError } from "../../../functions/shared/errors";
import { MODULE_DIR, readModule } from "../../../scripts/lib/committed-module";

const COMMON = {
  MACKEREL_API_KEY_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-AbCdEf",
  MACKEREL_SERVICE_NAME: "orders",
};

function configurationError(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).name).toBe("ConfigurationError");
    return error as ConfigurationError;
  }
  throw new Error("expected a ConfigurationError");
}

/** The variables a schema requires: those an empty environment is refused for. */
function requiredVariables(schema: Parameters<typeof parseEnvironment>[0]): string[] {
  const result = schema.safeParse({});
  return result.success ? [] : result.error.issues.map((issue) => String(issue.path[0])).sort();
}

describe("each function's schema", () => {
  test("the common variables: required ones named, defaults applied, blank optional values unset", () => {
    const env = parseEnvironment(metricEnvironment, { ...COMMON, MACKEREL_HOST_ID: "  ", SPOOL_QUEUE_URL: " q " });
    expect(env).toEqual({
      ...COMMON,
      MACKEREL_API_BASE_URL: "https://api.mackerelio.com/",
      MACKEREL_HOST_NAME: "mackerel-serverless",
      SPOOL_QUEUE_URL: "q",
    });
    expect(configurationError(() => parseEnvironment(checkEnvironment, {})).message).toBe(
      "MACKEREL_API_KEY_SECRET_ARN: is required; MACKEREL_SERVICE_NAME: is required",
    );
    expect(
      configurationError(() =>
        parseEnvironment(metricEnvironment, {
          ...COMMON,
          MACKEREL_SERVICE_NAME: "-x",
          MACKEREL_API_BASE_URL: "ftp://h",
        }),
      ).message,
    ).toBe(
      "MACKEREL_API_BASE_URL: must be an http(s) URL; MACKEREL_SERVICE_NAME: must be 2–63 characters of A-Za-z0-9_- not starting with - or _",
    );
  });

  test("what a function requires is required: the state table for logs and the tick, both queues for the sender", () => {
    expect(requiredVariables(metricEnvironment)).toEqual(["MACKEREL_API_KEY_SECRET_ARN", "MACKEREL_SERVICE_NAME"]);
    expect(requiredVariables(checkEnvironment)).toEqual(["MACKEREL_API_KEY_SECRET_ARN", "MACKEREL_SERVICE_NAME"]);
    expect(requiredVariables(tickEnvironment)).toEqual([
      "MACKEREL_API_KEY_SECRET_ARN",
      "MACKEREL_SERVICE_NAME",
      "STATE_TABLE_NAME",
    ]);
    expect(requiredVariables(logsEnvironment)).toEqual([
      "MACKEREL_API_KEY_SECRET_ARN",
      "MACKEREL_SERVICE_NAME",
      "STATE_TABLE_NAME",
    ]);
    expect(requiredVariables(senderEnvironment)).toEqual([
      "DEAD_LETTER_QUEUE_URL",
      "MACKEREL_API_KEY_SECRET_ARN",
      "MACKEREL_SERVICE_NAME",
      "SPOOL_QUEUE_URL",
    ]);

    expect(
      configurationError(() => parseEnvironment(logsEnvironment, { ...COMMON, STATE_TABLE_NAME: " " })).message,
    ).toBe("STATE_TABLE_NAME: is required by the logs function (per-minute counts and rule state)");
    expect(configurationError(() => parseEnvironment(tickEnvironment, COMMON)).message).toBe(
      "STATE_TABLE_NAME: is required by the tick (per-minute counts and rule state)",
    );
    expect(
      configurationError(() => parseEnvironment(senderEnvironment, { ...COMMON, SPOOL_QUEUE_URL: "q" })).message,
    ).toBe("DEAD_LETTER_QUEUE_URL: is required by the sender (where permanent refusals go)");
    const sender = parseEnvironment(senderEnvironment, { ...COMMON, SPOOL_QUEUE_URL: "q", DEAD_LETTER_QUEUE_URL: "d" });
    expect(sender).toMatchObject({ SPOOL_QUEUE_URL: "q", DEAD_LETTER_QUEUE_URL: "d" });
    const logs = parseEnvironment(logsEnvironment, {
      ...COMMON,
      STATE_TABLE_NAME: "t",
      MACKEREL_LOG_RULES_SHA256: "ab",
    });
    expect(logs).toMatchObject({ STATE_TABLE_NAME: "t", MACKEREL_LOG_RULES_SHA256: "ab" });
  });
});

describe("the committed module and the schemas agree", () => {
  // The module is written in files by concern; the functions are in whichever holds them.
  const module = readModule(MODULE_DIR) as {
    resource: { aws_lambda_function: Record<string, { environment: { variables: Record<string, string> } }> };
  };
  const functions = module.resource.aws_lambda_function;
  // NODE_OPTIONS is the runtime's (source maps), not the function's contract.
  const setFor = (id: string) =>
    Object.keys(functions[id]!.environment.variables)
      .filter((name) => name !== "NODE_OPTIONS")
      .sort();
  const keysOf = (...schemas: { shape: Record<string, unknown> }[]) =>
    [...new Set(schemas.flatMap((schema) => Object.keys(schema.shape)))].sort();

  test.each([
    ["metric", [metricEnvironment]],
    ["check", [checkEnvironment, tickEnvironment]],
    ["logs", [logsEnvironment]],
    ["sender", [senderEnvironment]],
  ] as const)("%s: every variable it requires is set, and every variable set is one it reads", (id, schemas) => {
    const set = setFor(id);
    for (const schema of schemas) for (const name of requiredVariables(schema)) expect(set).toContain(name);
    for (const name of set) expect(keysOf(...schemas)).toContain(name);
  });

  test("the module's functions are the four schemas' functions", () => {
    expect(Object.keys(functions).sort()).toEqual(["check", "logs", "metric", "sender"]);
  });
});
