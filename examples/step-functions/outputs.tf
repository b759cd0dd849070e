output "api_key_secret_arn" {
  description = "The secret to put the Mackerel API key in (see README.md)."
  value       = aws_secretsmanager_secret.mackerel_api_key.arn
}

output "metric_function_arn" {
  description = "ARN of the metric function."
  value       = module.mackerel.metric_function_arn
}

output "state_machine_arns" {
  description = "The two example state machines."
  value = {
    jobs               = aws_sfn_state_machine.jobs.arn
    jobs_lambda_invoke = aws_sfn_state_machine.jobs_lambda_invoke.arn
  }
}
