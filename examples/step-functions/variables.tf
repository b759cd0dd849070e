variable "region" {
  type        = string
  description = "AWS region to deploy to."
  default     = "us-east-1"
}

variable "name" {
  type        = string
  description = "Prefix of every resource name (the module's functions, the secret, the state machines and their role)."
  default     = "mackerel-sfn-example"
}

variable "service_name" {
  type        = string
  description = "Mackerel service that receives the job metrics. It must already exist in Mackerel."
}

variable "job_a_function_arn" {
  type        = string
  description = "ARN of the Lambda function that does job A (the work whose outcome is reported to Mackerel)."

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[a-zA-Z0-9_-]+(:[a-zA-Z0-9_$-]+)?$", var.job_a_function_arn))
    error_message = "job_a_function_arn: must be a Lambda function ARN."
  }
}

variable "job_b_function_arn" {
  type        = string
  description = "ARN of the Lambda function that does job B."

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[a-zA-Z0-9_-]+(:[a-zA-Z0-9_$-]+)?$", var.job_b_function_arn))
    error_message = "job_b_function_arn: must be a Lambda function ARN."
  }
}
