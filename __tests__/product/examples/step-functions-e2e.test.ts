/**
 * examples/step-functions executed end to end: metric Task states bound to the BUILT metric function,
 * posting to the local Mackerel server.
 */
import type { StateMachineDefinition } from "aws-local-stepfunctions";
import { LocalAwsJsonServer, secretsManagerHandlers } from "../../../scripts/local/aws-json-server";
import { LocalLambda } from "../../../scripts/local/lambda-runner";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";
import {
  isMetricTask,
  loadDefinition,
  metricTaskStates,
  runDefinition,
  statesOf,
} from "../../../scripts/local/step-functions";
import {
  fails,
  JOBS,
  JOBS_LAMBDA_INVOKE,
  METRIC,
  succeeds,
  templateCases,
  VARS,
  varsFor,
} from "./step-functions-support";

describe("executed end to end: built metric function → local Mackerel server", () => {
  const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-sfn-AbCdEf";
  const KEY = "sfn-example-key-0123456789";
  const HOST_ID = "HSFNEXAMPLE";
  let mackerel: LocalMackerelServer;
  let aws: LocalAwsJsonServer;
  let metric: LocalLambda;

  beforeAll(async () => {
    mackerel = await LocalMackerelServer.start({
      apiKeys: [KEY],
      services: ["orders"],
      // Kept across reset(): the function resolves it once per container.
      hosts: [{ id: HOST_ID, name: "sfn-example", customIdentifier: "sfn-example" }],
    });
    aws = await LocalAwsJsonServer.start(secretsManagerHandlers(new Map([[SECRET_ARN, KEY]])));
    metric = await LocalLambda.start("metric", {
      env: {
        MACKEREL_API_KEY_SECRET_ARN: SECRET_ARN,
        MACKEREL_API_BASE_URL: mackerel.url,
        MACKEREL_SERVICE_NAME: "orders",
        MACKEREL_HOST_NAME: "sfn-example",
        MACKEREL_HOST_CUSTOM_IDENTIFIER: "sfn-example",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      },
    });
  });
  afterAll(async () => {
    for (const line of metric?.logs ?? []) expect(line).not.toContain(KEY);
    await metric?.stop();
    await mackerel?.close();
    await aws?.close();
  });
  beforeEach(() => mackerel.reset());

  const run = (path: string, jobs: { a: () => unknown; b: () => unknown }, vars: Partial<typeof VARS> = {}) =>
    runDefinition(
      loadDefinition(path, { ...VARS, ...vars }) as StateMachineDefinition,
      {},
      {
        metric,
        metricFunction: METRIC,
        tasks: { "Job A": jobs.a, "Job B": jobs.b },
      },
    );

  const metricValues = () => Object.fromEntries(mackerel.serviceMetrics("orders").map((m) => [m.name, m.value]));

  test.each(templateCases)("%s runs with every job succeeding: each metric Task posts", async (_name, path) => {
    const definition = loadDefinition(path, varsFor(path));
    const jobs = Object.fromEntries(
      statesOf(definition)
        .filter(({ state }) => state.Type === "Task" && !isMetricTask(state, METRIC))
        .map(({ name }) => [name, succeeds]),
    );
    const result = await runDefinition(definition, {}, { metric, metricFunction: METRIC, tasks: jobs });
    expect(result.execution.status).toBe("SUCCEEDED");
    expect(result.metricInvocations.map((i) => i.state).sort()).toEqual(metricTaskStates(definition, METRIC).sort());
    expect(result.metricInvocations.every((i) => i.outcome.ok)).toBe(true);
    if (result.metricInvocations.length > 0) expect(mackerel.requests.some((r) => r.status === 200)).toBe(true);
  });

  test("(a) job A fails, job B succeeds → jobs.failed.job_a = 1, jobs.failed.job_b = 0, execution succeeds", async () => {
    const before = Math.floor(Date.now() / 1000);
    const result = await run(JOBS, { a: fails, b: succeeds });
    expect(result.execution).toEqual({
      status: "SUCCEEDED",
      output: [
        { posted: { serviceMetrics: 1, hostMetrics: 0, checkReports: 0 }, spooled: false },
        { posted: { serviceMetrics: 1, hostMetrics: 0, checkReports: 0 }, spooled: false },
      ],
    });
    expect(mackerel.serviceMetrics()).toEqual([
      { service: "orders", name: "jobs.failed.job_a", value: 1, time: expect.any(Number) },
      { service: "orders", name: "jobs.failed.job_b", value: 0, time: expect.any(Number) },
    ]);
    for (const point of mackerel.serviceMetrics()) {
      expect(Number.isInteger(point.time)).toBe(true);
      expect(point.time).toBeGreaterThanOrEqual(before);
    }
    // The metric function got exactly the Pass states' Result (ResultPath "$" replaced the Catch output).
    expect(result.metricInvocations.map((i) => i.event)).toEqual(
      expect.arrayContaining([
        { "service-name": "orders", "metric-name": "jobs.failed.job_a", "metric-value": 1 },
        { "service-name": "orders", "metric-name": "jobs.failed.job_b", "metric-value": 0 },
      ]),
    );
    expect(result.events.some((e) => e.type === "StateCaught")).toBe(true);
    expect(mackerel.checkReports()).toEqual([]);
  });

  test("(a) both jobs fail: the Catch paths post 1 twice and the execution still succeeds", async () => {
    const result = await run(JOBS, { a: fails, b: fails });
    expect(result.execution.status).toBe("SUCCEEDED");
    expect(metricValues()).toEqual({ "jobs.failed.job_a": 1, "jobs.failed.job_b": 1 });
  });

  test("(a) both jobs succeed → 0 and 0", async () => {
    const result = await run(JOBS, { a: succeeds, b: succeeds });
    expect(result.execution.status).toBe("SUCCEEDED");
    expect(metricValues()).toEqual({ "jobs.failed.job_a": 0, "jobs.failed.job_b": 0 });
  });

  test("(b) lambda:invoke: metrics and a check report per job", async () => {
    const result = await run(JOBS_LAMBDA_INVOKE, { a: fails, b: succeeds });
    expect(result.execution).toEqual({
      status: "SUCCEEDED",
      output: [
        { Payload: { posted: { serviceMetrics: 1, hostMetrics: 0, checkReports: 1 }, spooled: false } },
        { Payload: { posted: { serviceMetrics: 1, hostMetrics: 0, checkReports: 1 }, spooled: false } },
      ],
    });
    expect(metricValues()).toEqual({ "jobs.failed.job_a": 1, "jobs.failed.job_b": 0 });
    const reports = mackerel
      .checkReports()
      .map(({ hostId, name, status, message }) => ({ hostId, name, status, message }))
      .sort((x, y) => x.name.localeCompare(y.name));
    expect(reports).toEqual([
      { hostId: HOST_ID, name: "job-a", status: "CRITICAL", message: "job A failed: JobFailedError" },
      { hostId: HOST_ID, name: "job-b", status: "OK", message: "job B succeeded" },
    ]);
    expect(mackerel.openAlerts()).toEqual([expect.objectContaining({ checkName: "job-a", status: "CRITICAL" })]);
  });

  test("(b) Mackerel refuses for good (MackerelRejectedError): not retried, caught, the business workflow goes on", async () => {
    mackerel.injectFaults({
      mode: "status",
      status: 400,
      message: "metric refused by policy",
      pathPrefix: "/api/v0/services/orders/tsdb",
      count: 2,
    });
    const result = await run(JOBS_LAMBDA_INVOKE, { a: fails, b: succeeds });
    if (result.execution.status !== "SUCCEEDED") throw new Error(`execution ${JSON.stringify(result.execution)}`);
    const outputs = result.execution.output as { mackerelError?: { Error: string; Cause: string } }[];
    expect(outputs.map((o) => o.mackerelError?.Error)).toEqual(["MackerelRejectedError", "MackerelRejectedError"]);
    expect(outputs[0]!.mackerelError!.Cause).toContain("metric refused by policy");
    // One invocation per job: a refusal is never retried.
    expect(result.metricInvocations).toHaveLength(2);
    expect(mackerel.requests.filter((r) => r.path === "/api/v0/services/orders/tsdb")).toHaveLength(2);
  });

  test("MackerelUnavailableError is retried by the state machine until Mackerel is back", async () => {
    // Mackerel is down until the first invocation has given up (after its own in-call retries).
    mackerel.setOutage(true);
    const recovering = {
      invokeOrThrow: async (event: unknown) => {
        try {
          return await metric.invokeOrThrow(event);
        } catch (error) {
          mackerel.setOutage(false);
          throw error;
        }
      },
    };
    const result = await runDefinition(
      loadDefinition(JOBS, VARS),
      {},
      {
        metric: recovering,
        metricFunction: METRIC,
        tasks: { "Job A": fails, "Job B": succeeds },
      },
    );
    expect(result.execution.status).toBe("SUCCEEDED");
    const outcomes = result.metricInvocations.map((i) => (i.outcome.ok ? "ok" : i.outcome.errorType));
    const unavailable = outcomes.filter((o) => o === "MackerelUnavailableError").length;
    expect(unavailable).toBeGreaterThanOrEqual(1);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(2);
    expect(outcomes).toHaveLength(2 + unavailable);
    const retried = result.events.filter((e) => e.type === "StateRetried");
    expect(retried).toHaveLength(unavailable);
    expect(mackerel.requests.some((r) => r.fault === "outage")).toBe(true);
    expect(metricValues()).toEqual({ "jobs.failed.job_a": 1, "jobs.failed.job_b": 0 });
  });

  test.each([
    ["(a)", JOBS, "FAILED"],
    ["(b)", JOBS_LAMBDA_INVOKE, "SUCCEEDED"],
  ])(
    "%s MackerelRejectedError (unknown service) is not retried; without a Catch it fails the execution, with (b)'s it goes on",
    async (_variant, path, status) => {
      const result = await run(path, { a: fails, b: succeeds }, { service_name: "no-such-service" });
      expect(result.execution).toMatchObject(
        status === "FAILED" ? { status, error: "MackerelRejectedError" } : { status },
      );
      expect(result.metricInvocations.length).toBeLessThanOrEqual(2);
      expect(
        result.metricInvocations.every((i) => !i.outcome.ok && i.outcome.errorType === "MackerelRejectedError"),
      ).toBe(true);
      expect(result.events.filter((e) => e.type === "StateRetried")).toEqual([]);
      expect(mackerel.serviceMetrics()).toEqual([]);
    },
  );
});
