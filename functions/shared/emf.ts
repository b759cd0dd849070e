/**
 * The functions' own counts as CloudWatch embedded metric format (EMF) log lines: CloudWatch Logs turns
 * each line into metrics, with no API call and no extra permission.
 *
 * The line is written straight to stdout, not through `console`: with Lambda's JSON log format the
 * runtime wraps every console call in `{"timestamp","level","requestId","message":...}`, and CloudWatch
 * only extracts metrics from a log event whose top level is the EMF document.
 *
 * Measured against `@aws-lambda-powertools/metrics` when the spool was added: this module is a few hundred
 * bytes and costs nothing to import.
 */

/** The namespace of every metric the module's functions publish. */
export const METRICS_NAMESPACE = "MackerelServerless";

/** EMF allows at most 100 metrics per document. */
const MAX_METRICS_PER_DOCUMENT = 100;

export type MetricUnit = "Count" | "Milliseconds" | "Seconds" | "None";

export interface EmfOptions {
  /** Dimension name → value (default `{FunctionName: $AWS_LAMBDA_FUNCTION_NAME}`). */
  dimensions?: Record<string, string>;
  /** Unit of every metric in this document (default Count). */
  unit?: MetricUnit;
  namespace?: string;
  /** Epoch ms (default now). */
  timestamp?: number;
  /** Where the line goes (default stdout); tests capture it. */
  write?: (line: string) => void;
  /** Extra properties kept in the log event but not published as metrics (e.g. a request id). */
  properties?: Record<string, string | number | boolean>;
}

/** Builds the EMF documents for `metrics` (zero values included: alarms and graphs want explicit zeros). */
export function emfDocuments(metrics: Record<string, number>, options: EmfOptions = {}): Record<string, unknown>[] {
  const dimensions = options.dimensions ?? defaultDimensions();
  const names = Object.keys(metrics).filter((name) => Number.isFinite(metrics[name]));
  const documents: Record<string, unknown>[] = [];
  for (let i = 0; i < names.length; i += MAX_METRICS_PER_DOCUMENT) {
    const slice = names.slice(i, i + MAX_METRICS_PER_DOCUMENT);
    const document: Record<string, unknown> = {
      _aws: {
        Timestamp: options.timestamp ?? Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: options.namespace ?? METRICS_NAMESPACE,
            Dimensions: [Object.keys(dimensions)],
            Metrics: slice.map((name) => ({ Name: name, Unit: options.unit ?? "Count" })),
          },
        ],
      },
      ...options.properties,
      ...dimensions,
    };
    for (const name of slice) document[name] = metrics[name];
    documents.push(document);
  }
  return documents;
}

/** Writes `metrics` as EMF log lines. Never throws: metrics must not fail an invocation. */
export function emitMetrics(metrics: Record<string, number>, options: EmfOptions = {}): void {
  try {
    const write = options.write ?? ((line: string) => process.stdout.write(line));
    for (const document of emfDocuments(metrics, options)) write(`${JSON.stringify(document)}\n`);
  } catch {
    // Losing a metric line is better than failing the delivery it describes.
  }
}

function defaultDimensions(): Record<string, string> {
  return { FunctionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? "local" };
}
