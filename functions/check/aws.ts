/**
 * The AWS calls the checks make, behind small interfaces (tests pass fakes; the function passes the
 * SDK). The SDK clients are imported lazily, on the first check of a kind that needs them, so an HTTP
 * check never loads CloudWatch Logs or Step Functions code. Endpoints come from the SDK's own
 * configuration (`AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, `AWS_ENDPOINT_URL_SFN`, ...): never hard-coded.
 */
import { sdkClientConfig } from "../shared/aws-sdk.js";

/** Per-call options: every AWS call is bounded in time. */
export interface CallOptions {
  timeoutMs: number;
}

export interface ResultField {
  field?: string;
  value?: string;
}

export interface QueryStatistics {
  recordsMatched?: number;
  recordsScanned?: number;
  bytesScanned?: number;
  resultCount?: number;
}

export interface LogsApi {
  startQuery(
    input: { logGroupNames: string[]; startTime: number; endTime: number; queryString: string },
    options: CallOptions,
  ): Promise<{ queryId?: string }>;
  getQueryResults(
    input: { queryId: string },
    options: CallOptions,
  ): Promise<{ status?: string; results?: ResultField[][]; statistics?: QueryStatistics }>;
  stopQuery(input: { queryId: string }, options: CallOptions): Promise<{ success?: boolean }>;
  filterLogEvents(
    input: { logGroupName: string; startTime: number; limit: number; nextToken?: string },
    options: CallOptions,
  ): Promise<{ events?: { timestamp?: number; logStreamName?: string }[]; nextToken?: string }>;
}

export interface ExecutionItem {
  name?: string;
  executionArn?: string;
  status?: string;
  startDate?: Date;
  stopDate?: Date;
}

export interface SfnApi {
  listExecutions(
    input: { stateMachineArn: string; statusFilter: string; maxResults: number; nextToken?: string },
    options: CallOptions,
  ): Promise<{ executions?: ExecutionItem[]; nextToken?: string }>;
}

/** SDK retries: the standard mode retries throttling and 5xx with backoff; keep it short, checks have a deadline. */
const SDK_MAX_ATTEMPTS = 3;

type ExecutionStatusFilter = import("@aws-sdk/client-sfn").ExecutionStatus;

let logsApi: Promise<LogsApi> | undefined;
let sfnApi: Promise<SfnApi> | undefined;

/** The CloudWatch Logs calls, backed by the SDK client (loaded on first use, once per container). */
export function loadLogsApi(): Promise<LogsApi> {
  logsApi ??= import("@aws-sdk/client-cloudwatch-logs").then((sdk) => {
    const client = new sdk.CloudWatchLogsClient({ ...sdkClientConfig(), maxAttempts: SDK_MAX_ATTEMPTS });
    const opts = (o: CallOptions) => ({ abortSignal: AbortSignal.timeout(Math.max(1, Math.floor(o.timeoutMs))) });
    return {
      startQuery: (input, o) => client.send(new sdk.StartQueryCommand(input), opts(o)),
      getQueryResults: (input, o) => client.send(new sdk.GetQueryResultsCommand(input), opts(o)),
      stopQuery: (input, o) => client.send(new sdk.StopQueryCommand(input), opts(o)),
      filterLogEvents: (input, o) => client.send(new sdk.FilterLogEventsCommand(input), opts(o)),
    };
  });
  logsApi.catch(() => (logsApi = undefined));
  return logsApi;
}

/** The Step Functions calls, backed by the SDK client (loaded on first use, once per container). */
export function loadSfnApi(): Promise<SfnApi> {
  sfnApi ??= import("@aws-sdk/client-sfn").then((sdk) => {
    const client = new sdk.SFNClient({ ...sdkClientConfig(), maxAttempts: SDK_MAX_ATTEMPTS });
    return {
      listExecutions: (input, o) =>
        client.send(
          new sdk.ListExecutionsCommand({ ...input, statusFilter: input.statusFilter as ExecutionStatusFilter }),
          { abortSignal: AbortSignal.timeout(Math.max(1, Math.floor(o.timeoutMs))) },
        ),
    };
  });
  sfnApi.catch(() => (sfnApi = undefined));
  return sfnApi;
}

/** An AWS error for a message: `ThrottlingException: Rate exceeded`, or the timeout. */
export function describeAwsError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError" || error.name === "AbortError") return "the AWS call timed out";
    const message = error.message && error.message !== error.name ? `: ${error.message}` : "";
    return `${error.name}${message}`;
  }
  return String(error);
}

/** The AWS error code (`name` of SDK errors). */
export function awsErrorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
