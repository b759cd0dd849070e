variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "ap-northeast-1"
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "mackerel-complete"
}

variable "service_name" {
  description = "Mackerel service that receives the service metrics (it must exist in Mackerel)."
  type        = string
}

variable "app_log_group_names" {
  description = "Log groups of your applications to watch for errors."
  type        = list(string)
  default     = ["/aws/lambda/orders", "/aws/lambda/payments"]
}

variable "extract_function_arn" {
  description = "ARN of the Lambda function that runs the nightly extract job."
  type        = string
}

variable "load_function_arn" {
  description = "ARN of the Lambda function that runs the nightly load job."
  type        = string
}

variable "health_check_url" {
  description = "A URL that must answer 200 with {\"status\":\"ok\"}."
  type        = string
  default     = "https://example.com/health"
}

variable "alarm_email" {
  description = "E-mail address subscribed to the pipeline's own alarms (null: no subscription)."
  type        = string
  default     = null
}
