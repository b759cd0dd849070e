output "check_function_arn" {
  description = "ARN of the function that runs the checks."
  value       = module.mackerel.check_function_arn
}

output "api_key_secret_arn" {
  description = "The secret to put the Mackerel API key in (see README.md)."
  value       = aws_secretsmanager_secret.mackerel_api_key.arn
}

output "own_log_group_names" {
  description = "The module's own log groups (never subscribe them to a log pipeline)."
  value       = module.mackerel.own_log_group_names
}

output "admin_status_credentials_secret_arn" {
  description = "The secret to put the admin status endpoint's credentials in (see README.md)."
  value       = aws_secretsmanager_secret.admin_status_credentials.arn
}
