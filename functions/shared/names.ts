/**
 * Mackerel's naming rules (MACKEREL_API.md), in one place: the functions validate with them and the
 * Terraform module's validation blocks are generated from the same sources.
 */

/** Service metric name: `[a-zA-Z0-9._-]+`. */
export const SERVICE_METRIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Custom host metric name: `custom.` followed by dot-separated segments of `[-a-zA-Z0-9_]`, `*` or `#`. */
export const HOST_METRIC_NAME = /^custom(\.([-a-zA-Z0-9_]+|[*#]))+$/;

/** Service name: 2–63 characters of `A-Za-z0-9_-`, not starting with `-` or `_`. */
export const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{1,62}$/;

/**
 * Check monitor name. Mackerel documents no character rule for check names; we allow what
 * mackerel-agent configurations use in practice and what is safe in metric names derived from it
 * (`checks.<name>.*`), so one name serves both.
 */
export const CHECK_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Check report statuses. */
export const CHECK_STATUSES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** Mackerel cuts check messages at 1024 Unicode code points. */
export const CHECK_MESSAGE_MAX_CODE_POINTS = 1024;

/** Mackerel accepts at most 100 check reports per request. */
export const CHECK_REPORTS_PER_REQUEST = 100;

/** Metrics older than this are silently dropped by Mackerel. */
export const METRIC_RETENTION_SECONDS = 24 * 60 * 60;

/** Check reports whose occurredAt is this old or older are silently ignored by Mackerel. */
export const CHECK_REPORT_RETENTION_SECONDS = 6 * 60 * 60;

/** Replaces every character that a metric name segment may not hold, for names built from user data. */
export function sanitizeMetricSegment(raw: string): string {
  const cleaned = raw.replace(/[^a-zA-Z0-9_-]+/g, "_").replace(/^_+|_+$/g, "");
  return cleaned === "" ? "_" : cleaned.slice(0, 128);
}

/**
 * One metric segment per key, distinct (a repeat gets `_2`, `_3`, ...), never `reserved` (the segment of the
 * total posted beside them, e.g. `value` or `total`).
 */
export function distinctMetricSegments(keys: readonly string[], reserved: string): string[] {
  const used = new Set<string>([reserved]);
  return keys.map((key) => {
    const base = sanitizeMetricSegment(key);
    let segment = base;
    for (let n = 2; used.has(segment); n++) segment = `${base}_${n}`;
    used.add(segment);
    return segment;
  });
}

/**
 * Cuts `text` to at most `max` Unicode code points, never splitting a surrogate pair, and marks the cut
 * with an ellipsis (which counts towards `max`).
 */
export function truncateCodePoints(text: string, max: number = CHECK_MESSAGE_MAX_CODE_POINTS): string {
  // Fast path: UTF-16 length is an upper bound of the code point count.
  if (text.length <= max) return text;
  let codePoints = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) i++;
    codePoints++;
    if (codePoints > max) break;
  }
  if (codePoints <= max) return text;
  const cut: string[] = [];
  let n = 0;
  for (const ch of text) {
    if (n === max - 1) break;
    cut.push(ch);
    n++;
  }
  return `${cut.join("")}…`;
}
