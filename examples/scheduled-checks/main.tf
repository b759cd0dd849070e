provider "aws" {
  region = var.region
}

# The Mackerel API key lives in Secrets Manager. Terraform creates the secret but never sees the key:
# set its value out of band (README.md, "Set the API key").
resource "aws_secretsmanager_secret" "mackerel_api_key" {
  name        = "${var.name}/mackerel-api-key"
  description = "Mackerel API key with write permission, read by mackerel-serverless. Value set out of band."
}

# Credentials of the admin status endpoint, read by the check function when it runs, so they never travel
# in the rule's input or Terraform state: {"headers": {"Authorization": "Bearer ..."}} or
# {"username": "...", "password": "..."} (basic auth). Value set out of band like the API key's.
resource "aws_secretsmanager_secret" "admin_status_credentials" {
  name        = "${var.name}/admin-status-credentials"
  description = "Credentials of the admin status endpoint checked by mackerel-serverless. Value set out of band."
}

module "mackerel" {
  source = "../../modules/mackerel-serverless"

  name               = var.name
  api_key_secret_arn = aws_secretsmanager_secret.mackerel_api_key.arn
  service_name       = var.service_name

  # Every check posts one check report named after it (to the module's Mackerel host) and metrics
  # checks.<name>.* in var.service_name. Unset attributes take the module's defaults.

  logs_insights_checks = [
    {
      # The daily error summary: at 00:05 UTC, yesterday's ERROR/WARN counts by level
      # (window [00:00 yesterday, 00:00 today): 1440 minutes ending 5 minutes before the run).
      # Metrics checks.daily-errors.ERROR, .WARN, and their total checks.daily-errors.value.
      name            = "daily-errors"
      schedule        = "cron(5 0 * * ? *)"
      log_group_names = var.app_log_group_names
      query           = <<-EOT
        fields level
        | filter level = "ERROR" or level = "WARN"
        | stats count(*) as events by level
      EOT
      window_minutes  = 1440
      offset_minutes  = 5
      warning         = 1
      critical        = 100
    },
  ]

  http_checks = [
    {
      # The URL health check, every minute: 200 with {"status":"ok"} in under a second.
      # Alerts after 3 failures in a row, so one slow minute does not page anyone.
      name                = "api-health"
      schedule            = "rate(1 minute)"
      url                 = var.health_check_url
      expected_status     = [200]
      body_contains       = "\"status\":\"ok\""
      timeout_seconds     = 5
      warning_latency_ms  = 1000
      critical_latency_ms = 3000
      max_check_attempts  = 3
    },
    {
      # An endpoint behind authentication: the credentials come from the secret above.
      name               = "admin-status"
      schedule           = "rate(5 minutes)"
      url                = var.admin_status_url
      headers_secret_arn = aws_secretsmanager_secret.admin_status_credentials.arn
      body_contains      = "\"status\":\"ok\""
    },
  ]

  sfn_execution_checks = [
    {
      # Per-job failures the AWS integration cannot show: any FAILED, TIMED_OUT or ABORTED execution
      # started in the last hour is CRITICAL (critical defaults to 1), with the executions named;
      # one still RUNNING after 2 hours is CRITICAL too.
      name                = "orders-failures"
      state_machine_arn   = var.state_machine_arn
      window_minutes      = 60
      max_running_minutes = 120
    },
  ]

  log_freshness_checks = [
    {
      # The dead-man's switch: CRITICAL when the producer has not logged for 30 minutes.
      name            = "ingest-alive"
      log_group_name  = var.producer_log_group_name
      max_age_minutes = 30
    },
  ]

  s3_freshness_checks = [
    {
      # The heartbeat file of a scheduler that cannot log to CloudWatch: it writes
      # pulses/nightly-batch/<time>.json with {"status":"ok"} every 10 minutes. CRITICAL when the newest
      # one is over 20 minutes old, when there is none, or when it does not say "ok".
      name            = "batch-pulse"
      bucket          = var.pulse_bucket
      prefix          = "pulses/nightly-batch/"
      max_age_minutes = 20
      body_contains   = "\"status\":\"ok\""
    },
  ]

  opensearch_query_checks = [
    {
      # The daily error summary of logs kept in OpenSearch: at 00:10 UTC, yesterday's ERROR/WARN
      # documents by level. Metrics checks.daily-es-errors.total, .ERROR, .WARN.
      name           = "daily-es-errors"
      schedule       = "cron(10 0 * * ? *)"
      endpoint       = var.opensearch_endpoint
      index          = "app-logs-*"
      query          = "level:ERROR OR level:WARN"
      group_by       = "level.keyword"
      window_minutes = 1440
      offset_minutes = 10
      warning        = 1
      critical       = 100
      dashboards_url = var.opensearch_dashboards_url
    },
  ]
}
