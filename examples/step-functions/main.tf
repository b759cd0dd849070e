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
}

locals {
  # The variables of the state machine templates in state-machines/*.asl.json.
  state_machine_template_vars = {
    metric_function_arn  = module.mackerel.metric_function_arn
    metric_function_name = module.mackerel.metric_function_name
    service_name         = var.service_name
    job_a_function_arn   = var.job_a_function_arn
    job_b_function_arn   = var.job_b_function_arn
  }
}

# One role for both state machines: it may invoke the two jobs and the metric function, nothing else.
resource "aws_iam_role" "state_machine" {
  name = "${var.name}-state-machine"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "invoke_metric" {
  name   = "invoke-mackerel-metric"
  role   = aws_iam_role.state_machine.id
  policy = module.mackerel.invoke_metric_policy_json
}

resource "aws_iam_role_policy" "invoke_jobs" {
  name = "invoke-jobs"
  role = aws_iam_role.state_machine.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["lambda:InvokeFunction"]
      Resource = [var.job_a_function_arn, var.job_b_function_arn]
    }]
  })
}

# (a) The well-known pattern: Catch → Pass {"service-name","metric-name","metric-value": 1}, success →
# Pass {... 0}, both → a Task whose Resource is the metric function.
resource "aws_sfn_state_machine" "jobs" {
  name       = "${var.name}-jobs"
  role_arn   = aws_iam_role.state_machine.arn
  definition = templatefile("${path.module}/state-machines/jobs.asl.json", local.state_machine_template_vars)

  depends_on = [aws_iam_role_policy.invoke_metric, aws_iam_role_policy.invoke_jobs]
}

# (b) The optimized integration arn:aws:states:::lambda:invoke with the canonical payload: a metric and a
# check report per job.
resource "aws_sfn_state_machine" "jobs_lambda_invoke" {
  name       = "${var.name}-jobs-lambda-invoke"
  role_arn   = aws_iam_role.state_machine.arn
  definition = templatefile("${path.module}/state-machines/jobs-lambda-invoke.asl.json", local.state_machine_template_vars)

  depends_on = [aws_iam_role_policy.invoke_metric, aws_iam_role_policy.invoke_jobs]
}
