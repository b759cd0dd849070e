provider "aws" {
  region = var.region
}

# The Mackerel API key lives in Secrets Manager. Terraform creates the secret but never sees the key:
# set its value out of band (README.md, "Set the API key").
resource "aws_secretsmanager_secret" "mackerel_api_key" {
  name        = "${var.name}/mackerel-api-key"
  description = "Mackerel API key with write permission, read by mackerel-serverless. Value set out of band."
}

module "mackerel" {
  source = "../../modules/mackerel-serverless"

  name               = var.name
  api_key_secret_arn = aws_secretsmanager_secret.mackerel_api_key.arn
  service_name       = var.service_name

  # Variant 1 (default): one subscription filter per application log group.
  log_subscriptions = [
    for group in var.app_log_group_names : { log_group_name = group, filter_pattern = var.filter_pattern }
    if !var.use_account_policy
  ]

  # Variant 2 (use_account_policy = true): one account-level subscription policy for every log group of the
  # account and region, except the module's own (always) and var.excluded_log_group_names.
  account_log_subscription = var.use_account_policy ? {
    filter_pattern      = var.filter_pattern
    excluded_log_groups = var.excluded_log_group_names
  } : null

  # Each rule is one Mackerel check (named after the rule, on the module's host) and one metric
  # logs.<name>.count in var.service_name. A match opens the alert at once; recover_after_minutes of quiet
  # (default 10) closes it with an OK report.
  log_rules = [
    {
      # Errors of any Lambda function, in the text format (<time>\t<request id>\tERROR\t...) or the JSON
      # log format ("level":"ERROR"); health checks are not errors.
      name                  = "app-errors"
      log_groups            = ["/aws/lambda/*"]
      include               = ["\tERROR\t", "\"level\":\"(ERROR|FATAL)\""]
      exclude               = ["healthcheck"]
      recover_after_minutes = 15
    },
    {
      # Lambda's own timeout line, in every subscribed log group.
      name                  = "lambda-timeouts"
      include               = ["Task timed out after"]
      status                = "WARNING"
      notification_interval = 60
    },
    {
      # A business signal: declined payments, case-insensitive; card numbers never leave the account.
      name                  = "payment-declines"
      log_groups            = ["/aws/lambda/payments*", "/ecs/payments"]
      include               = ["(?i)card declined"]
      redact                = ["card=[0-9]+"]
      status                = "WARNING"
      recover_after_minutes = 30
      max_samples           = 3
    },
  ]
}
