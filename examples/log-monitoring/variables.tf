variable "region" {
  type        = string
  description = "AWS region to deploy to (the watched log groups are in it)."
  default     = "us-east-1"
}

variable "name" {
  type        = string
  description = "Prefix of every resource name (the module's functions, table and rules, the secret)."
  default     = "mackerel-logs-example"
}

variable "service_name" {
  type        = string
  description = "Mackerel service that receives the logs.<rule>.count metrics. It must already exist in Mackerel."
}

variable "app_log_group_names" {
  type        = list(string)
  description = "Log groups of the application to watch, one subscription filter each (unless use_account_policy)."
  default     = []
}

variable "use_account_policy" {
  type        = bool
  description = "Watch every log group of the account with one account-level subscription policy instead of per-group filters (one such policy per account and region)."
  default     = false
}

variable "excluded_log_group_names" {
  type        = list(string)
  description = "With use_account_policy: log groups the policy leaves out, besides the module's own (always excluded)."
  default     = []
}

variable "filter_pattern" {
  type        = string
  description = "CloudWatch Logs filter pattern of the subscriptions: only these events reach the function (and cost an invocation). Empty sends every event."
  default     = "?ERROR ?Error ?error ?\"Task timed out\" ?Exception"
}
