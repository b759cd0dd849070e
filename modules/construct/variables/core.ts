/**
 * The module's general variables: naming, the API key, Mackerel's endpoint, service and host (first in
 * the module), and the functions' runtime, alarms, spool, tags and network (last).
 */
import { matches, TF_ARN, TF_ROLE_FULLNAME, TF_SERVICE_NAME, type VariableDefinition } from "./rules";

/** Naming, the API key, Mackerel's endpoint, service and host. */
export const MODULE_VARIABLES: VariableDefinition[] = [
  {
    name: "name",
    type: "string",
    default: "mackerel-serverless",
    description: "Prefix of every resource name (functions, roles, log groups, queues, table, rules).",
    validations: [
      {
        condition: 'can(regex("^[a-zA-Z0-9_-]{1,40}$", var.name))',
        errorMessage:
          "name: must be 1-40 characters of a-zA-Z0-9_- (it prefixes Lambda function names, limited to 64).",
      },
    ],
  },
  {
    name: "api_key_secret_arn",
    type: "string",
    description: "ARN of the Secrets Manager secret holding the Mackerel API key (write permission).",
    details:
      'ARN of the Secrets Manager secret holding the Mackerel API key (write permission), as the raw key or as JSON {"MACKEREL_API_KEY": "..."}. The key itself never passes through Terraform.',
    validations: [
      {
        condition: matches(`${TF_ARN("secretsmanager")}secret:.+$`, "var.api_key_secret_arn"),
        errorMessage:
          "api_key_secret_arn: must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>).",
      },
    ],
  },
  {
    name: "api_key_kms_key_arn",
    type: "string",
    default: null,
    description: "ARN of the customer-managed KMS key that encrypts the secret, if any (grants kms:Decrypt on it).",
    validations: [
      {
        condition: `var.api_key_kms_key_arn == null ? true : ${matches(`${TF_ARN("kms")}key/.+$`, "var.api_key_kms_key_arn")}`,
        errorMessage: "api_key_kms_key_arn: must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null.",
      },
    ],
  },
  {
    name: "mackerel_api_base_url",
    type: "string",
    default: "https://api.mackerelio.com/",
    description: "Mackerel API base URL (KCPS: https://kcps-mackerel.io/).",
    validations: [
      {
        condition: 'can(regex("^https?://[^/ ]+(/.*)?$", var.mackerel_api_base_url))',
        errorMessage: "mackerel_api_base_url: must be an http(s) URL such as https://api.mackerelio.com/.",
      },
    ],
  },
  {
    name: "service_name",
    type: "string",
    description: "Default Mackerel service for service metrics (it must exist in Mackerel).",
    validations: [
      {
        condition: matches(TF_SERVICE_NAME, "var.service_name"),
        errorMessage:
          "service_name: must be 2-63 characters of A-Za-z0-9_- not starting with - or _ (Mackerel's service name rule).",
      },
    ],
  },
  {
    name: "host",
    type: "object({ name = optional(string), custom_identifier = optional(string), id = optional(string), roles = optional(list(string), []) })",
    default: {},
    description: "The Mackerel host that check reports and the heartbeat attach to (found or registered on first use).",
    details:
      "The Mackerel host that check reports and the heartbeat attach to. Found or registered by custom_identifier on first use (default: mackerel-serverless/<region>/<account>/<name>) unless id is given. name defaults to var.name. roles: role full names (<service>:<role>) the host is registered with, so notification groups and the connectivity monitor of mackerel_monitors can be scoped to it (set at registration only; a host that already exists keeps its roles).",
    validations: [
      {
        condition: `var.host.name == null ? true : ${matches(String.raw`^[^\s]{1,255}$`, "var.host.name")}`,
        errorMessage: "host.name: must be 1-255 characters without whitespace.",
      },
      {
        condition: 'var.host.id == null ? true : can(regex("^[a-zA-Z0-9]{6,32}$", var.host.id))',
        errorMessage: "host.id: must be a Mackerel host id (letters and digits, e.g. 2eQGDXqtoXs).",
      },
      {
        condition: `alltrue([for r in var.host.roles : ${matches(TF_ROLE_FULLNAME, "r")}])`,
        errorMessage:
          "host.roles: each role must be <service>:<role>, both 2-63 characters of A-Za-z0-9_- not starting with - or _ (Mackerel's role full name), e.g. shop:serverless.",
      },
    ],
  },
];

/** Job failure metrics, the module's own alarms, the spool, the functions' runtime, tags and VPC. */
export const RUNTIME_VARIABLES: VariableDefinition[] = [
  {
    name: "job_failure_metrics",
    type: "list(string)",
    default: [],
    nullable: false,
    description:
      "Service metrics that are 1 when a job failed (e.g. each sfn-job-states module's metric_name), for mackerel_monitors.",
    details:
      "Service metrics (in service_name) that are 1 when a job failed and 0 when it succeeded, e.g. the metric_name of each sfn-job-states module: the mackerel_monitors output gets a service metric monitor for each, CRITICAL above 0 over the last point.",
    validations: [
      {
        condition: 'alltrue([for m in var.job_failure_metrics : can(regex("^[a-zA-Z0-9._-]{1,255}$", m))])',
        errorMessage: "job_failure_metrics: each must be a service metric name ([a-zA-Z0-9._-]+, Mackerel's rule).",
      },
      {
        condition: "length(distinct(var.job_failure_metrics)) == length(var.job_failure_metrics)",
        errorMessage: "job_failure_metrics: each metric may appear once.",
      },
    ],
  },
  {
    name: "alarm_sns_topic_arn",
    type: "string",
    default: null,
    description: "SNS topic for the alarm and OK actions of the module's own CloudWatch alarms.",
    details:
      "SNS topic for the module's own CloudWatch alarms (every function's errors and throttles, the spool's dead-letter queue not empty, a spooled write waiting over an hour): alarm and OK actions. Without it the alarms exist but notify nobody.",
    validations: [
      {
        condition: `var.alarm_sns_topic_arn == null ? true : ${matches(`${TF_ARN("sns")}.+$`, "var.alarm_sns_topic_arn")}`,
        errorMessage: "alarm_sns_topic_arn: must be an SNS topic ARN or null.",
      },
    ],
  },
  {
    name: "spool_max_age_hours",
    type: "number",
    default: 24,
    nullable: false,
    description: "Hours the sender retries a spooled write before the dead-letter queue (6-24).",
    details:
      "How long the sender retries a spooled write (growing delays up to 15 minutes) before it goes to the dead-letter queue, in whole hours. Mackerel drops metrics older than 24 h and check reports older than 6 h, and the sender drops such data itself, so the default 24 only dead-letters refusals.",
    validations: [
      {
        condition:
          "var.spool_max_age_hours >= 6 && var.spool_max_age_hours <= 24 && floor(var.spool_max_age_hours) == var.spool_max_age_hours",
        errorMessage:
          "spool_max_age_hours: must be a whole number of hours from 6 (Mackerel's check report window) to 24 (its metric window).",
      },
    ],
  },
  {
    name: "lambda_runtime",
    type: "string",
    default: "nodejs22.x",
    description: "Lambda runtime of the functions: nodejs22.x or later (nodejs24.x needs hashicorp/aws >= 6.19.0).",
    details:
      "Lambda runtime of the functions (Node.js 22 or later). The default nodejs22.x plans on every provider the module admits; nodejs24.x needs hashicorp/aws 6.19.0 or later (older providers refuse it at plan).",
    validations: [
      {
        condition: matches(String.raw`^nodejs(2[2-9]|[3-9][0-9])\.x$`, "var.lambda_runtime"),
        errorMessage: "lambda_runtime: must be nodejs22.x or a later nodejsNN.x (the bundles target Node 22).",
      },
    ],
  },
  {
    name: "lambda_architecture",
    type: "string",
    default: "arm64",
    description: "Lambda architecture: arm64 (20% cheaper per GB-second) or x86_64.",
    validations: [
      {
        condition: 'contains(["arm64", "x86_64"], var.lambda_architecture)',
        errorMessage: "lambda_architecture: must be arm64 or x86_64.",
      },
    ],
  },
  {
    name: "log_retention_days",
    type: "number",
    default: 30,
    description: "Retention of the functions' log groups, in days.",
    validations: [
      {
        condition:
          "contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)",
        errorMessage:
          "log_retention_days: must be one of CloudWatch Logs' retention values (1, 3, 5, 7, 14, 30, 60, 90, ... 3653).",
      },
    ],
  },
  {
    name: "tags",
    type: "map(string)",
    default: {},
    description: "Tags added to every resource that takes tags.",
  },
  {
    name: "vpc_config",
    type: "object({ subnet_ids = list(string), security_group_ids = list(string) })",
    default: null,
    description: "Subnets and security groups of the check function (for HTTP checks of private endpoints).",
    details:
      "Places the check function in these subnets (for HTTP checks of private endpoints). The subnets need a route to Mackerel and to the AWS APIs the checks call.",
    validations: [
      {
        condition:
          "var.vpc_config == null ? true : length(var.vpc_config.subnet_ids) > 0 && length(var.vpc_config.security_group_ids) > 0",
        errorMessage: "vpc_config: subnet_ids and security_group_ids must each list at least one id.",
      },
    ],
  },
];
