/**
 * The S3 freshness and OpenSearch query checks' variables (the newer kinds: attributes with
 * `optional(type, default)`, so a plan shows what will run).
 */
import {
  CHECK_ALERT_ATTRIBUTES,
  checkListValidations,
  every,
  matches,
  nullOr,
  OFFSET_MINUTES_RULE,
  positiveInt,
  thresholdOrder,
  thresholdValidation,
  type VariableDefinition,
} from "./rules";

/** S3 bucket names: 3-63 of a-z 0-9 . - */
const TF_S3_BUCKET = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$";
/**
 * OpenSearch endpoints the module can derive the IAM resource from: managed domains
 * `https://search-<domain>-<id>.<region>.es.amazonaws.com` (VPC: `vpc-...`) and serverless collections
 * `https://<collection-id>.<region>.aoss.amazonaws.com`. Capture groups: domain, region / collection, region.
 */
export const TF_ES_ENDPOINT =
  "^https://(?:search|vpc)-([a-z][a-z0-9-]{2,27})-[a-z0-9]+[.]([a-z]{2}(?:-[a-z]+)+-[0-9]+)[.]es[.]amazonaws[.]com(?:[.]cn)?/?$";
export const TF_AOSS_ENDPOINT =
  "^https://([a-z0-9]{3,40})[.]([a-z]{2}(?:-[a-z]+)+-[0-9]+)[.]aoss[.]amazonaws[.]com(?:[.]cn)?/?$";
const TF_OPENSEARCH_INDEX = "^[a-z0-9*.][a-z0-9*._+,:-]{0,511}$";
const TF_OPENSEARCH_FIELD = "^[A-Za-z0-9@_.-]{1,256}$";

export const S3_FRESHNESS_CHECKS: VariableDefinition = {
  name: "s3_freshness_checks",
  type: `list(object({ name = string, schedule = optional(string, "rate(5 minutes)"), bucket = string, prefix = string, max_age_minutes = number, body_contains = optional(string), ${CHECK_ALERT_ATTRIBUTES} }))`,
  default: [],
  description: "S3 pulse checks: CRITICAL when the newest object under a prefix is older than max_age_minutes.",
  details:
    "S3 pulse checks, the dead-man's switch of schedulers that drop a file in S3 (default schedule rate(5 minutes)): the newest object under prefix (ListObjectsV2, every page; empty prefix = the whole bucket) must be at most max_age_minutes old, else CRITICAL naming the object and its age; no object, or no bucket, is CRITICAL. body_contains: the newest object's first 64 KiB (GetObject with a Range) must contain this text. The role gets s3:ListBucket on the bucket for the prefix only (s3:prefix condition) and s3:GetObject on <bucket>/<prefix>* only when body_contains is set. Metrics: checks.<name>.age_seconds, checks.<name>.objects.",
  validations: [
    ...checkListValidations("s3_freshness_checks"),
    {
      condition: every(
        "s3_freshness_checks",
        `${matches(TF_S3_BUCKET, "item.bucket")} && !strcontains(item.bucket, "..")`,
      ),
      errorMessage:
        "s3_freshness_checks: bucket must be an S3 bucket name (3-63 characters of a-z 0-9 . -, no ARN, no s3:// prefix).",
    },
    {
      condition: every("s3_freshness_checks", 'length(item.prefix) <= 1024 && !strcontains(item.prefix, "*")'),
      errorMessage:
        's3_freshness_checks: prefix must be a key prefix of at most 1024 characters without * (it is a prefix, not a pattern; "" is the whole bucket).',
    },
    {
      condition: every("s3_freshness_checks", '!endswith(item.bucket, "--x-s3")'),
      errorMessage:
        "s3_freshness_checks: bucket must be a general purpose bucket: directory buckets (--x-s3) need s3express:CreateSession, which the module does not grant.",
    },
    positiveInt("s3_freshness_checks", "max_age_minutes", 10080, "minutes"),
    {
      condition: every("s3_freshness_checks", nullOr("body_contains", "length(item.body_contains) > 0")),
      errorMessage: "s3_freshness_checks: body_contains must not be empty (leave it unset to check the age only).",
    },
  ],
};

export const OPENSEARCH_QUERY_CHECKS: VariableDefinition = {
  name: "opensearch_query_checks",
  type: `list(object({ name = string, schedule = optional(string, "rate(5 minutes)"), endpoint = string, index = string, query = string, service = optional(string), time_field = optional(string, "@timestamp"), window_minutes = optional(number, 5), offset_minutes = optional(number, 0), group_by = optional(string), warning = optional(number), critical = optional(number), direction = optional(string, "above"), dashboards_url = optional(string), ${CHECK_ALERT_ATTRIBUTES} }))`,
  default: [],
  description: "Scheduled document counts in OpenSearch Service domains or Serverless collections.",
  details:
    'Scheduled counts in Amazon OpenSearch Service domains or OpenSearch Serverless collections (the daily error summary), signed with SigV4 (service es or aoss; default: aoss for *.aoss.amazonaws.com endpoints, else es). endpoint: the domain\'s (search-/vpc-<domain>-<id>.<region>.es.amazonaws.com) or collection\'s (<id>.<region>.aoss.amazonaws.com) https endpoint; VPC endpoints need vpc_config. query: query DSL JSON (one clause, e.g. {"match": {"level": "ERROR"}}) or a query_string text; it is ANDed with time_field in [now - offset - window, now - offset). Without group_by: _count; with group_by: a terms aggregation (top 50) posting checks.<name>.<bucket> per bucket. The total, checks.<name>.total, is compared with warning/critical (reached at >=, or <= with direction below). The message shows the counts (per hour for windows of a day or more) and dashboards_url. The role gets es:ESHttpPost (the only method the check uses) on the domain only, or aoss:APIAccessAll on the collection only (which also needs a data access policy granting the role aoss:ReadDocument on the index).',
  validations: [
    ...checkListValidations("opensearch_query_checks"),
    {
      condition: every(
        "opensearch_query_checks",
        `${matches(TF_ES_ENDPOINT, "item.endpoint")} || ${matches(TF_AOSS_ENDPOINT, "item.endpoint")}`,
      ),
      errorMessage:
        "opensearch_query_checks: endpoint must be an OpenSearch Service domain endpoint (https://search-<domain>-<id>.<region>.es.amazonaws.com, or vpc-...) or a serverless collection endpoint (https://<collection-id>.<region>.aoss.amazonaws.com), without a path: the role's permission is derived from it.",
    },
    {
      condition: every(
        "opensearch_query_checks",
        `item.service == null ? true : (item.service == "aoss" ? ${matches(TF_AOSS_ENDPOINT, "item.endpoint")} : item.service == "es" && ${matches(TF_ES_ENDPOINT, "item.endpoint")})`,
      ),
      errorMessage:
        "opensearch_query_checks: service must be es (for a domain endpoint) or aoss (for a collection endpoint), matching the endpoint; leave it unset to take it from the endpoint.",
    },
    {
      condition: every("opensearch_query_checks", matches(TF_OPENSEARCH_INDEX, "item.index")),
      errorMessage:
        "opensearch_query_checks: index must be an index name or pattern (lowercase a-z 0-9 * . _ + , : -, e.g. logs-*).",
    },
    {
      condition: every(
        "opensearch_query_checks",
        'length(trimspace(item.query)) > 0 && length(item.query) <= 10000 && (startswith(trimspace(item.query), "{") ? can(keys(jsondecode(item.query))) : true)',
      ),
      errorMessage:
        'opensearch_query_checks: query must be 1 to 10000 characters: a query_string text, or query DSL as a JSON object (one clause, e.g. {"match": {"level": "ERROR"}}).',
    },
    {
      condition: every(
        "opensearch_query_checks",
        `${matches(TF_OPENSEARCH_FIELD, "item.time_field")} && (${nullOr("group_by", matches(TF_OPENSEARCH_FIELD, "item.group_by"))})`,
      ),
      errorMessage:
        "opensearch_query_checks: time_field and group_by must be field names (A-Za-z0-9 @ _ . -, e.g. level.keyword).",
    },
    positiveInt("opensearch_query_checks", "window_minutes", 10080, "minutes"),
    {
      condition: every("opensearch_query_checks", OFFSET_MINUTES_RULE),
      errorMessage: "opensearch_query_checks: offset_minutes must be a whole number of minutes from 0 to 10080.",
    },
    thresholdValidation("opensearch_query_checks", ["warning", "critical"]),
    {
      condition: every("opensearch_query_checks", 'contains(["above", "below"], item.direction)'),
      errorMessage: "opensearch_query_checks: direction must be above or below.",
    },
    thresholdOrder(
      "opensearch_query_checks",
      "warning",
      { expression: "item.critical", name: "critical" },
      "item.direction",
    ),
    {
      condition: every(
        "opensearch_query_checks",
        nullOr("dashboards_url", 'can(regex("^https?://[^/ ]+", item.dashboards_url))'),
      ),
      errorMessage: "opensearch_query_checks: dashboards_url must be an http:// or https:// URL.",
    },
  ],
};
