/**
 * Runs one check of any kind. Never throws: a check that cannot run (an AWS error, a bug) is an
 * UNKNOWN outcome with the reason, so Mackerel always hears from every check.
 */
import type { LogsApi, SfnApi } from "./aws.js";
import type { S3Api } from "./aws-s3.js";
import { runHttpCheck, type SecretHeadersSource } from "./http.js";
import type { SearchApi } from "./opensearch-client.js";
import { runOpenSearchCheck } from "./opensearch.js";
import { runS3FreshnessCheck } from "./s3-freshness.js";
import { runLogFreshnessCheck } from "./log-freshness.js";
import { runLogsInsightsCheck } from "./logs-insights.js";
import { type CheckOutcome, unknown } from "./outcome.js";
import type { RunContext } from "./run-context.js";
import { runSfnExecutionCheck } from "./sfn-executions.js";
import type { CheckSpec } from "./spec.js";

export interface CheckApis {
  /** Loaded only for the kinds that need them. */
  logs: () => Promise<LogsApi>;
  sfn: () => Promise<SfnApi>;
  s3: () => Promise<S3Api>;
  search: () => Promise<SearchApi>;
  fetch?: typeof fetch;
  /** Reads HTTP checks' `headers_secret_arn`. */
  secretHeaders?: SecretHeadersSource;
}

export async function runCheck(spec: CheckSpec, apis: CheckApis, context: RunContext): Promise<CheckOutcome> {
  try {
    switch (spec.kind) {
      case "http":
        return await runHttpCheck(spec, context, apis.fetch, apis.secretHeaders);
      case "logs_insights":
        return await runLogsInsightsCheck(spec, await apis.logs(), context);
      case "sfn_execution":
        return await runSfnExecutionCheck(spec, await apis.sfn(), context);
      case "log_freshness":
        return await runLogFreshnessCheck(spec, await apis.logs(), context);
      case "s3_freshness":
        return await runS3FreshnessCheck(spec, await apis.s3(), context);
      case "opensearch_query":
        return await runOpenSearchCheck(spec, await apis.search(), context);
    }
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return unknown(`the ${spec.kind} check could not run: ${reason}`);
  }
}
