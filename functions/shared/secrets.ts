/**
 * Values this process was told are secret (the Mackerel API key), so that no log line, error message or
 * report ever carries them, whatever the pattern-based redaction would make of them.
 */

const secrets = new Set<string>();

/** What replaces a registered secret. */
export const SECRET_MASK = "[secret]";

/** Registers a value (e.g. the API key) that must never appear in a log line, an error or a report. */
export function registerSecret(value: string): void {
  if (value.length >= 4) secrets.add(value);
}

/** True when at least one secret is registered. */
export function hasRegisteredSecrets(): boolean {
  return secrets.size > 0;
}

/** Replaces every registered secret in `text` with {@link SECRET_MASK}. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(SECRET_MASK);
  }
  return out;
}
