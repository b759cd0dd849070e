output "api_key_secret_arn" {
  description = "Put the Mackerel API key here (aws secretsmanager put-secret-value)."
  value       = aws_secretsmanager_secret.mackerel_api_key.arn
}

output "metric_function_arn" {
  description = "Use it as the Resource of Task states that post to Mackerel."
  value       = module.mackerel.metric_function_arn
}

output "mackerel_host" {
  description = "Custom identifier of the Mackerel host that check reports and the heartbeat attach to."
  value       = module.mackerel.host_custom_identifier
}

output "dead_letter_queue_url" {
  description = "Writes Mackerel refused or that outlived the spool; see the README's troubleshooting."
  value       = module.mackerel.dead_letter_queue_url
}

output "state_machine_arn" {
  description = "The nightly state machine."
  value       = aws_sfn_state_machine.nightly.arn
}
