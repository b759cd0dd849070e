variable "region" {
  type        = string
  description = "AWS region to deploy to (the checked log groups and state machine are in it)."
  default     = "us-east-1"
}

variable "name" {
  type        = string
  description = "Prefix of every resource name (the module's functions and rules, the secret)."
  default     = "mackerel-checks-example"
}

variable "service_name" {
  type        = string
  description = "Mackerel service that receives the checks.<name>.* metrics. It must already exist in Mackerel."
}

variable "app_log_group_names" {
  type        = list(string)
  description = "Log groups of the application whose errors are summed up once a day (JSON logs with a level field)."
}

variable "health_check_url" {
  type        = string
  description = "URL of the service's health endpoint, checked every minute; it answers 200 with {\"status\":\"ok\"}."

  validation {
    condition     = can(regex("^https?://[^/ ]+", var.health_check_url))
    error_message = "health_check_url: must be an http:// or https:// URL."
  }
}

variable "admin_status_url" {
  type        = string
  description = "URL of an admin status endpoint that needs credentials (kept in the admin-status-credentials secret)."

  validation {
    condition     = can(regex("^https?://[^/@ ]+", var.admin_status_url))
    error_message = "admin_status_url: must be an http:// or https:// URL without user info."
  }
}

variable "state_machine_arn" {
  type        = string
  description = "ARN of the (standard) Step Functions state machine whose failed executions alert."
}

variable "producer_log_group_name" {
  type        = string
  description = "Log group of a producer that logs at least every few minutes when healthy (the freshness check's dead-man's switch)."
}

variable "pulse_bucket" {
  type        = string
  description = "S3 bucket the nightly batch writes its heartbeat files to (under pulses/nightly-batch/)."
}

variable "opensearch_endpoint" {
  type        = string
  description = "Endpoint of the OpenSearch Service domain that keeps the application's logs (https://search-<domain>-<id>.<region>.es.amazonaws.com)."
}

variable "opensearch_dashboards_url" {
  type        = string
  description = "Link shown in the daily summary (e.g. a saved OpenSearch Dashboards search); null for none."
  default     = null
}
