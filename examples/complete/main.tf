provider "aws" {
  region = var.region
}

# The API key, encrypted with a customer-managed key. Terraform creates the secret but never sees the key:
# put its value out of band (README.md).
resource "aws_kms_key" "mackerel" {
  description         = "Encrypts the Mackerel API key secret"
  enable_key_rotation = true
}

resource "aws_secretsmanager_secret" "mackerel_api_key" {
  name       = "${var.name}/mackerel-api-key"
  kms_key_id = aws_kms_key.mackerel.arn
}

# Where the pipeline's own alarms go (function errors and throttles, dead letters, spool age).
resource "aws_sns_topic" "alarms" {
  name = "${var.name}-alarms"
}

resource "aws_sns_topic_subscription" "alarms_email" {
  count     = var.alarm_email == null ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

module "mackerel" {
  source = "../../modules/mackerel-serverless"

  name                = var.name
  api_key_secret_arn  = aws_secretsmanager_secret.mackerel_api_key.arn
  api_key_kms_key_arn = aws_kms_key.mackerel.arn
  service_name        = var.service_name
  host                = { name = "${var.name}-pipeline" }
  alarm_sns_topic_arn = aws_sns_topic.alarms.arn
  log_retention_days  = 14
  tags                = { system = "mackerel-serverless", env = "production" }

  # Log monitoring: the application log groups, and what counts as an alert.
  log_subscriptions = [for group in var.app_log_group_names : { log_group_name = group }]
  log_rules = [
    {
      name                  = "app-errors"
      include               = ["\tERROR\t", "\"level\":\"(ERROR|FATAL)\""]
      exclude               = ["healthcheck"]
      recover_after_minutes = 15
    },
    {
      name    = "lambda-timeouts"
      include = ["Task timed out after"]
      status  = "WARNING"
    },
  ]

  # Scheduled checks.
  logs_insights_checks = [{
    name            = "daily-errors"
    schedule        = "cron(5 0 * * ? *)"
    log_group_names = var.app_log_group_names
    query           = "fields level | filter level = \"ERROR\" | stats count(*) as errors by level"
    window_minutes  = 1440
    offset_minutes  = 5
    warning         = 1
    critical        = 100
  }]
  http_checks = [{
    name                = "api-health"
    url                 = var.health_check_url
    body_contains       = "\"status\":\"ok\""
    warning_latency_ms  = 1000
    critical_latency_ms = 3000
    max_check_attempts  = 3
  }]
  sfn_execution_checks = [{
    name                = "nightly-failures"
    state_machine_arn   = aws_sfn_state_machine.nightly.arn
    window_minutes      = 1440
    max_running_minutes = 120
  }]
  log_freshness_checks = [{
    name            = "orders-alive"
    log_group_name  = var.app_log_group_names[0]
    max_age_minutes = 30
  }]
}

# A nightly state machine: each job reports 1 (failed) or 0 (succeeded) to Mackerel, through the
# sfn-job-states module instead of four hand-written states per job.
module "extract_states" {
  source              = "../../modules/sfn-job-states"
  name                = "Extract"
  state               = { Type = "Task", Resource = var.extract_function_arn }
  metric_function_arn = module.mackerel.metric_function_arn
  metric_name         = "jobs.failed.extract"
  next                = "Load"
}

module "load_states" {
  source              = "../../modules/sfn-job-states"
  name                = "Load"
  state               = { Type = "Task", Resource = var.load_function_arn }
  metric_function_arn = module.mackerel.metric_function_arn
  metric_name         = "jobs.failed.load"
}

resource "aws_iam_role" "nightly" {
  name = "${var.name}-nightly"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "states.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "nightly_invoke_metric" {
  name   = "invoke-mackerel-metric"
  role   = aws_iam_role.nightly.id
  policy = module.mackerel.invoke_metric_policy_json
}

resource "aws_iam_role_policy" "nightly_invoke_jobs" {
  name = "invoke-jobs"
  role = aws_iam_role.nightly.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "lambda:InvokeFunction", Resource = [var.extract_function_arn, var.load_function_arn] }]
  })
}

resource "aws_sfn_state_machine" "nightly" {
  name     = "${var.name}-nightly"
  role_arn = aws_iam_role.nightly.arn
  definition = jsonencode({
    Comment = "Nightly extract and load; each job's outcome goes to Mackerel"
    StartAt = "Extract"
    States  = merge(module.extract_states.states, module.load_states.states)
  })
}
