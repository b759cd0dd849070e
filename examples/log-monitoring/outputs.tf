output "logs_function_arn" {
  description = "ARN of the logs function (the subscriptions' destination)."
  value       = module.mackerel.logs_function_arn
}

output "state_table_name" {
  description = "The module's DynamoDB state table (per-minute counts, rule state, the host id)."
  value       = module.mackerel.state_table_name
}

output "api_key_secret_arn" {
  description = "The secret to put the Mackerel API key in (see README.md)."
  value       = aws_secretsmanager_secret.mackerel_api_key.arn
}

output "own_log_group_names" {
  description = "The module's own log groups: never subscribe them (the module refuses it at plan)."
  value       = module.mackerel.own_log_group_names
}
