/**
 * Masks what must not leave the account in check messages (HTTP body excerpts, Logs Insights rows):
 * AWS access keys and secrets, bearer/basic credentials, `password=`-style pairs (also in JSON),
 * JWTs, URL credentials and e-mail addresses. Linear-time patterns only.
 */

const RULES: [RegExp, string][] = [
  // AWS access key ids.
  [/\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g, "[aws-key]"],
  // JSON Web Tokens.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, "[jwt]"],
  // Authorization schemes with a credential (at least 8 characters, so prose like "basic usage" stays).
  [/\b(Bearer|Basic)\s+(?!\[jwt\])[A-Za-z0-9\-._~+/]{8,}=*/gi, "$1 [redacted]"],
  // "password": "value" (JSON) — before the plain form so the quotes are kept.
  [
    /("(?:[a-z0-9_-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|credential|authorization)[a-z0-9_-]*)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi,
    '$1"[redacted]"',
  ],
  // password=value, api_key: value, aws_secret_access_key=value ...
  [
    /\b([a-z0-9_-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|credential)[a-z0-9_-]*)(\s*[=:]\s*)(?!\[redacted\]|"\[redacted\]")[^\s,;&"'}]+/gi,
    "$1$2[redacted]",
  ],
  // Credentials in URLs: scheme://user:pass@host.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, "$1[redacted]@"],
  // E-mail addresses.
  [/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, "[email]"],
];

/** Returns `text` with secrets and personal data masked. */
export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}

/** A one-line, redacted excerpt of at most `max` characters (whitespace collapsed), for messages. */
export function excerpt(text: string, max = 200): string {
  // Redact a bounded window only: the patterns stay cheap on a 1 MiB body, and what lies beyond the
  // window is cut anyway.
  const line = redact(text.slice(0, max * 4))
    .replace(/\s+/g, " ")
    .trim();
  if (line.length <= max) return line;
  // Do not split a surrogate pair.
  let cut = max - 1;
  const unit = line.charCodeAt(cut - 1);
  if (unit >= 0xd800 && unit <= 0xdbff) cut--;
  return `${line.slice(0, cut)}…`;
}
