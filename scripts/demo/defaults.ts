/** The demo's embedded defaults, what a run returns, and its error. */
import { join } from "node:path";
import type { DemoStream } from "../lib/demo-output";
import type {
  LocalHost,
  OpenAlert,
  RecordedCheckReport,
  RecordedHostMetric,
  RecordedServiceMetric,
} from "../local/mackerel";
import { ROOT } from "../local/step-functions";

/** The demo's fake Mackerel API key: only the local recorder accepts it, and it is never printed. */
export const DEMO_API_KEY = "demo-local-only-key-7f3a91c2e4b6d805";
export const DEMO_ACCOUNT = "123456789012";
export const DEMO_REGION = "us-east-1";
/** The module's default name prefix: functions, host name and custom identifier follow from it. */
export const DEMO_PREFIX = "mackerel-serverless";
export const DEMO_SERVICE = "my-service";
export const DEMO_SECRET_ARN = `arn:aws:secretsmanager:${DEMO_REGION}:${DEMO_ACCOUNT}:secret:mackerel-api-key-Demo01`;
/** What the module derives by default: mackerel-serverless/<region>/<account>/<name>. */
export const DEMO_CUSTOM_IDENTIFIER = `mackerel-serverless/${DEMO_REGION}/${DEMO_ACCOUNT}/${DEMO_PREFIX}`;
export const DEMO_STATE_TABLE = `${DEMO_PREFIX}-state`;
export const DEMO_SPOOL_QUEUE = `${DEMO_PREFIX}-spool.fifo`;
export const DEMO_STATE_MACHINE = join(
  ROOT,
  "examples",
  "step-functions",
  "state-machines",
  "jobs-lambda-invoke.asl.json",
);
export const DEMO_METRIC_FUNCTION = {
  arn: `arn:aws:lambda:${DEMO_REGION}:${DEMO_ACCOUNT}:function:${DEMO_PREFIX}-metric`,
  name: `${DEMO_PREFIX}-metric`,
};
/** The application log group whose subscription filter feeds the logs function. */
export const DEMO_LOG_GROUP = "/aws/lambda/orders";
/** The module's own log groups (the logs function's loop guard). */
export const DEMO_OWN_LOG_GROUPS = ["metric", "logs", "check", "sender"].map(
  (fn) => `/aws/lambda/${DEMO_PREFIX}-${fn}`,
);

/** `log_rules` as a Terraform user writes them (the module passes them as JSON). */
export const DEMO_LOG_RULES = [
  { name: "errors", include: ["\\bERROR\\b"], exclude: ["healthcheck"] },
  // Quiet for a minute is enough here, so the demo's tick can show an alert closing.
  { name: "timeouts", include: ["Task timed out"], recover_after_minutes: 1 },
  { name: "access_denied", include: ["AccessDenied", "not authorized"], status: "WARNING", max_samples: 2 },
];

/** The log burst: a deterministic payload (seeded), 600 events over three whole minutes. */
export const DEMO_LOG_BURST = { events: 600, errorRate: 0.05, seed: 7, stepMs: 300, minutes: 3 };
/**
 * The burst's first minute, counted back from the current minute. Its last minute is then the last minute
 * the tick considers closed (a minute is flushed two minutes after it ends), so one tick posts all of it.
 */
export const DEMO_LOG_BURST_MINUTES_AGO = 5;

/** The HTTP checks, as their EventBridge rules carry them (`http_checks` items), for a site at `baseUrl`. */
export function demoHttpChecks(baseUrl: string): { check: Record<string, unknown> }[] {
  return [
    { check: { kind: "http", name: "site-health", url: `${baseUrl}/health`, body_contains: '"status":"ok"' } },
    { check: { kind: "http", name: "site-checkout", url: `${baseUrl}/checkout`, timeout_seconds: 5 } },
  ];
}

export const FUNCTIONS = ["metric", "check", "logs"] as const;
export type FunctionName = (typeof FUNCTIONS)[number];
export const STEPS = 6;

/** What the local Mackerel received, and what the demo sent. */
export interface DemoResult {
  serviceMetrics: RecordedServiceMetric[];
  hostMetrics: RecordedHostMetric[];
  /** Accepted check reports in arrival order. */
  checkReports: RecordedCheckReport[];
  openAlerts: OpenAlert[];
  hosts: LocalHost[];
  /** The decoded subscription payload given to the logs function. */
  logPayload: { logGroup: string; logEvents: { id: string; timestamp: number; message: string }[] };
  /** Base URL of the local web site the HTTP checks requested. */
  siteUrl: string;
  /** Messages left in the spool (0 when Mackerel took everything). */
  spooled: number;
  /** Wall time of the whole run. */
  seconds: number;
}

/** A step of the demo failed; `hint` says what to do about it. */
export class DemoError extends Error {
  override readonly name = "DemoError";
  /** The last errors and warnings the functions logged. */
  logs?: string[];
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface DemoOptions {
  /** Where the header, progress and tables go (default process.stdout). */
  out?: DemoStream;
  /** Progress in place (default: whether `out` is a TTY). */
  tty?: boolean;
  /** Folder of the built zips (default modules/mackerel-serverless/dist). */
  distDir?: string;
  /** Gives up after this long (default 50 s). */
  timeoutMs?: number;
  /** Stops the demo (and everything it started) when aborted, e.g. on Ctrl-C. */
  signal?: AbortSignal;
}

/** The text without the demo's API key. */
export function scrub(text: string): string {
  return text.replaceAll(DEMO_API_KEY, "[key]");
}
